//! What the operator decided at start, carried by the server: which tools exist, the audit log, the
//! refund and credit-grant journals, human confirmation, and refund and credit-grant caps.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::audit::AuditLog;
use crate::error::{Advice, ErrorKind, ToolError};
use crate::journal::{GrantJournal, RefundJournal};
use crate::policy::ToolPolicy;
use crate::sandbox::Clock;
use crate::state::totals::SharedTotal;
use crate::state::{SharedState, StateError};

pub use crate::confirm::{RequestStateKey, RequestStateKeyError};

/// Whether destructive and money-moving calls ask the human first (MCP elicitation, or an
/// input-required result on 2026-07-28).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ConfirmMode {
    /// Ask when the client supports elicitation; otherwise rely on the tool annotations.
    #[default]
    Auto,
    /// Never ask.
    Off,
}

/// Refund ceilings, in minor units of the transaction's currency.
pub type RefundLimits = Caps;

/// Whose amounts a total cap counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalScope {
    /// This server process's (local files, one replica).
    Process,
    /// Every replica's, through the shared state in PostgreSQL.
    Deployment,
}

impl std::fmt::Display for TotalScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Process => "this session's",
            Self::Deployment => "this deployment's",
        })
    }
}

/// Where a cap's total is kept.
#[derive(Debug)]
enum Totals {
    Process(AtomicI64),
    Deployment(SharedTotal),
}

/// Optional ceilings on an amount a tool moves (refunds in minor units, credit grants in credits):
/// one call, and the total of this process (or, with a shared state, of the deployment).
#[derive(Debug)]
pub struct Caps {
    /// What is capped, as the refusal names it ("refund", "credit grant").
    what: &'static str,
    /// Largest single amount.
    pub per_call: Option<i64>,
    /// Largest total of all amounts moved by this process (or the deployment).
    pub per_process: Option<i64>,
    used: Totals,
}

/// A reservation against [`Caps`] that was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CapError {
    /// The amount alone is over the per-call cap.
    #[error("{what} of {amount} exceeds the per-call cap of {cap} set by the operator")]
    PerCall {
        /// What is capped.
        what: &'static str,
        /// The amount asked for.
        amount: i64,
        /// The cap.
        cap: i64,
    },
    /// The amount would bring the total over its cap.
    #[error(
        "{what} of {amount} would bring {scope} {what}s to {total} (cap {cap} set by the operator)"
    )]
    Total {
        /// What is capped.
        what: &'static str,
        /// The amount asked for.
        amount: i64,
        /// The total it would make.
        total: i64,
        /// The cap.
        cap: i64,
        /// Whose total.
        scope: TotalScope,
    },
    /// The deployment's total cannot be read or written.
    #[error("the deployment's {what} total cannot be checked ({source})")]
    Unavailable {
        /// What is capped.
        what: &'static str,
        /// Why.
        #[source]
        source: StateError,
    },
}

impl CapError {
    /// The tool error the call answers with (`field`: the argument holding the amount).
    pub(crate) fn into_tool_error(self, field: &str) -> ToolError {
        match self {
            Self::Unavailable { .. } => {
                ToolError::of(ErrorKind::NotSent, format!("Not sent: {self}."))
                    .advise(Advice::CheckSharedState)
            }
            Self::PerCall { .. } | Self::Total { .. } => ToolError::invalid(field, self),
        }
    }
}

impl Default for Caps {
    fn default() -> Self {
        Self::new(None, None)
    }
}

impl Caps {
    /// Refund limits with the given ceilings.
    pub fn new(per_call: Option<i64>, per_process: Option<i64>) -> Self {
        Self {
            what: "refund",
            per_call,
            per_process,
            used: Totals::Process(AtomicI64::new(0)),
        }
    }

    /// Credit-grant limits (in credits) with the given ceilings.
    pub fn credit_grants(per_call: Option<i64>, per_process: Option<i64>) -> Self {
        Self {
            what: "credit grant",
            ..Self::new(per_call, per_process)
        }
    }

    /// These ceilings, with the total counted for the whole deployment in `state`.
    pub fn deployment_wide(self, state: &SharedState) -> Self {
        Self {
            used: Totals::Deployment(SharedTotal::new(state, self.what)),
            ..self
        }
    }

    /// Whose total the cap counts.
    pub fn scope(&self) -> TotalScope {
        match self.used {
            Totals::Process(_) => TotalScope::Process,
            Totals::Deployment(_) => TotalScope::Deployment,
        }
    }

    /// Reserves `amount` against the caps, or says which cap it would break.
    pub async fn reserve(&self, amount: i64) -> Result<(), CapError> {
        let what = self.what;
        if let Some(cap) = self.per_call
            && amount > cap
        {
            return Err(CapError::PerCall { what, amount, cap });
        }
        let over = |total, cap| CapError::Total {
            what,
            amount,
            total,
            cap,
            scope: self.scope(),
        };
        match &self.used {
            Totals::Process(used) => {
                let Some(cap) = self.per_process else {
                    used.fetch_add(amount, Ordering::SeqCst);
                    return Ok(());
                };
                used.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |done| {
                    (done + amount <= cap).then_some(done + amount)
                })
                .map(drop)
                .map_err(|done| over(done + amount, cap))
            }
            Totals::Deployment(total) => match total.reserve(amount, self.per_process).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(total)) => Err(over(total, self.per_process.unwrap_or(i64::MAX))),
                Err(source) => Err(CapError::Unavailable { what, source }),
            },
        }
    }

    /// Gives back a reservation whose move did not happen.
    pub async fn release(&self, amount: i64) {
        match &self.used {
            Totals::Process(used) => {
                used.fetch_sub(amount, Ordering::SeqCst);
            }
            Totals::Deployment(total) => {
                if let Err(e) = total.release(amount).await {
                    // Kept counted: the cap errs on the side of moving less.
                    tracing::error!(
                        "could not give back {amount} to the {} total: {e}",
                        self.what
                    );
                }
            }
        }
    }
}

/// Everything a [`crate::BillingServer`] needs beyond its SolvaPay client.
#[derive(Debug)]
pub struct ServerOptions {
    /// Which tools are listed and callable.
    pub policy: ToolPolicy,
    /// Where write calls are recorded (`None`: not recorded).
    pub audit: Option<AuditLog>,
    /// Refund intents and outcomes.
    pub journal: RefundJournal,
    /// Human confirmation of destructive calls.
    pub confirm: ConfirmMode,
    /// How long a person has to answer a confirmation.
    pub confirm_timeout: std::time::Duration,
    /// What seals the confirmation states of 2026-07-28 calls (shared by replicas).
    pub request_state_key: RequestStateKey,
    /// Refund ceilings.
    pub refund_limits: RefundLimits,
    /// What "today" and "now" are for defaults the tools fill in (date ranges, expiry times): the
    /// wall clock, or the in-process sandbox's clock when the server runs against it.
    pub clock: Clock,
    /// Credit-grant intents and outcomes (each intent's `Idempotency-Key`).
    pub grants: GrantJournal,
    /// Credit-grant ceilings, in credits.
    pub grant_limits: Caps,
    /// The shared state in PostgreSQL the journals, caps and audit log use, when configured (the
    /// HTTP server keeps its sessions there too).
    pub state: Option<SharedState>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            policy: ToolPolicy::all(),
            audit: None,
            journal: RefundJournal::in_memory(),
            confirm: ConfirmMode::Auto,
            confirm_timeout: crate::confirm::DEFAULT_TIMEOUT,
            request_state_key: RequestStateKey::random(),
            refund_limits: RefundLimits::default(),
            clock: Clock::system(),
            grants: GrantJournal::in_memory(),
            grant_limits: Caps::credit_grants(None, None),
            state: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn caps_refuse_and_release() {
        let limits = RefundLimits::new(Some(5000), Some(6000));
        let refused = |e: CapError| e.to_string();
        assert!(refused(limits.reserve(5001).await.unwrap_err()).contains("per-call cap of 5000"));
        limits.reserve(5000).await.unwrap();
        assert_eq!(
            refused(limits.reserve(1001).await.unwrap_err()),
            "refund of 1001 would bring this session's refunds to 6001 (cap 6000 set by the operator)"
        );
        limits.release(5000).await;
        limits.reserve(1001).await.unwrap();
        let grants = Caps::credit_grants(Some(10_000), None);
        assert!(
            refused(grants.reserve(10_001).await.unwrap_err())
                .starts_with("credit grant of 10001 exceeds the per-call cap of 10000")
        );
    }
}
