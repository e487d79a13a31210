//! What the operator decided at start, carried by the server: which tools exist, the audit log, the
//! refund journal, human confirmation, and refund caps.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::audit::AuditLog;
use crate::journal::RefundJournal;
use crate::policy::ToolPolicy;
use crate::sandbox::Clock;

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

/// Optional ceilings on refunds, in minor units of the transaction's currency.
#[derive(Debug, Default)]
pub struct RefundLimits {
    /// Largest single refund.
    pub per_call: Option<i64>,
    /// Largest total of all refunds made by this process.
    pub per_process: Option<i64>,
    refunded: AtomicI64,
}

impl RefundLimits {
    /// Limits with the given ceilings.
    pub fn new(per_call: Option<i64>, per_process: Option<i64>) -> Self {
        Self {
            per_call,
            per_process,
            refunded: AtomicI64::new(0),
        }
    }

    /// Reserves `amount` against the caps, or says which cap it would break.
    pub fn reserve(&self, amount: i64) -> Result<(), String> {
        if let Some(cap) = self.per_call
            && amount > cap
        {
            return Err(format!(
                "refund of {amount} exceeds the per-call cap of {cap} set by the operator"
            ));
        }
        let Some(cap) = self.per_process else {
            self.refunded.fetch_add(amount, Ordering::SeqCst);
            return Ok(());
        };
        self.refunded
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |done| (done + amount <= cap).then_some(done + amount))
            .map(drop)
            .map_err(|done| {
                format!("refund of {amount} would bring this session's refunds to {} (cap {cap} set by the operator)", done + amount)
            })
    }

    /// Gives back a reservation whose refund did not happen.
    pub fn release(&self, amount: i64) {
        self.refunded.fetch_sub(amount, Ordering::SeqCst);
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
    /// Refund ceilings.
    pub refund_limits: RefundLimits,
    /// What "today" and "now" are for defaults the tools fill in (date ranges, expiry times): the
    /// wall clock, or the in-process sandbox's clock when the server runs against it.
    pub clock: Clock,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            policy: ToolPolicy::all(),
            audit: None,
            journal: RefundJournal::in_memory(),
            confirm: ConfirmMode::Auto,
            confirm_timeout: crate::confirm::DEFAULT_TIMEOUT,
            refund_limits: RefundLimits::default(),
            clock: Clock::system(),
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
    }
}
