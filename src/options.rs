//! What the operator decided at start, carried by the server: which tools exist, the audit log, the
//! refund and credit-grant journals, human confirmation, and refund and credit-grant caps.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::audit::AuditLog;
use crate::journal::{GrantJournal, RefundJournal};
use crate::policy::ToolPolicy;
use crate::sandbox::Clock;

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

/// Optional ceilings on an amount a tool moves (refunds in minor units, credit grants in credits):
/// one call, and the total of this process.
#[derive(Debug)]
pub struct Caps {
    /// What is capped, as the refusal names it ("refund", "credit grant").
    what: &'static str,
    /// Largest single amount.
    pub per_call: Option<i64>,
    /// Largest total of all amounts moved by this process.
    pub per_process: Option<i64>,
    used: AtomicI64,
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
            used: AtomicI64::new(0),
        }
    }

    /// Credit-grant limits (in credits) with the given ceilings.
    pub fn credit_grants(per_call: Option<i64>, per_process: Option<i64>) -> Self {
        Self {
            what: "credit grant",
            ..Self::new(per_call, per_process)
        }
    }

    /// Reserves `amount` against the caps, or says which cap it would break.
    pub fn reserve(&self, amount: i64) -> Result<(), String> {
        let what = self.what;
        if let Some(cap) = self.per_call
            && amount > cap
        {
            return Err(format!(
                "{what} of {amount} exceeds the per-call cap of {cap} set by the operator"
            ));
        }
        let Some(cap) = self.per_process else {
            self.used.fetch_add(amount, Ordering::SeqCst);
            return Ok(());
        };
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |done| (done + amount <= cap).then_some(done + amount))
            .map(drop)
            .map_err(|done| {
                format!("{what} of {amount} would bring this session's {what}s to {} (cap {cap} set by the operator)", done + amount)
            })
    }

    /// Gives back a reservation whose move did not happen.
    pub fn release(&self, amount: i64) {
        self.used.fetch_sub(amount, Ordering::SeqCst);
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_refuse_and_release() {
        let limits = RefundLimits::new(Some(5000), Some(6000));
        assert!(
            limits
                .reserve(5001)
                .unwrap_err()
                .contains("per-call cap of 5000")
        );
        limits.reserve(5000).unwrap();
        assert!(limits.reserve(1001).unwrap_err().contains("cap 6000"));
        limits.release(5000);
        limits.reserve(1001).unwrap();
        let grants = Caps::credit_grants(Some(10_000), None);
        assert!(
            grants
                .reserve(10_001)
                .unwrap_err()
                .starts_with("credit grant of 10001 exceeds the per-call cap of 10000")
        );
    }
}
