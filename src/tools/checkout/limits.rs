//! The `check_limits` result: SolvaPay's limit answer joined with the customer's active purchase,
//! so the model can say "used 87 of 100 requests this period".

use schemars::JsonSchema;
use serde::Serialize;

use super::super::Summary;
use crate::model::limits::LimitResponse;
use crate::model::purchase::Purchase;
use crate::model::{CustomerRef, ProductRef};

/// Where a customer stands against their usage allowance.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LimitsResult {
    customer_ref: String,
    product_ref: String,
    /// `within_limits`, `limit_reached`, `needs_activation` or `purchase_required`.
    state: String,
    within_limits: bool,
    /// Units left this period.
    remaining: i64,
    /// Units used this period, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    used: Option<i64>,
    /// Units allowed per period, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    allowance: Option<i64>,
    /// True when the plan has no cap.
    unlimited: bool,
    /// Unit counted, e.g. "requests".
    unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    period_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period_end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan_name: Option<String>,
    /// True for a free plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    free: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purchase_ref: Option<String>,
    /// Where to pay, upgrade or activate.
    #[serde(skip_serializing_if = "Option::is_none")]
    checkout_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credit_balance: Option<i64>,
}

impl Summary for LimitsResult {
    fn summary(&self) -> String {
        let usage = match (self.used, self.allowance, self.unlimited) {
            (Some(u), _, true) => format!("used {u} {} (unlimited)", self.unit),
            (Some(u), Some(a), false) => format!("used {u} of {a} {}", self.unit),
            _ => format!("{} {} remaining", self.remaining, self.unit),
        };
        let period = match (&self.period_start, &self.period_end) {
            (Some(s), Some(e)) => format!(" this period ({s} to {e})"),
            _ => String::new(),
        };
        let pay = self
            .checkout_url
            .as_deref()
            .map(|u| format!("; checkout: {u}"))
            .unwrap_or_default();
        match self.state.as_str() {
            "needs_activation" => format!("Needs activation before use (not used up){pay}"),
            "purchase_required" => format!("No active purchase: the customer must buy a plan{pay}"),
            "limit_reached" => format!(
                "Limit reached: {usage}{period}; {} remaining{pay}",
                self.remaining
            ),
            _ => format!(
                "Within limits: {usage}{period}; {} remaining",
                self.remaining
            ),
        }
    }
}

/// The allowance of a plan snapshot: the smallest positive of `limit` and `freeUnits`; `Some(0)`
/// means unlimited; `None` means unknown.
fn allowance(purchase: &Purchase) -> Option<i64> {
    let plan = purchase.plan_snapshot.as_ref()?;
    let caps = [plan.limit, plan.free_units];
    if caps.iter().all(Option::is_none) {
        return None;
    }
    Some(
        caps.into_iter()
            .flatten()
            .filter(|c| *c > 0)
            .min()
            .unwrap_or(0),
    )
}

pub(super) fn limits_result(
    customer: &CustomerRef,
    product: &ProductRef,
    limits: LimitResponse,
    purchase: Option<Purchase>,
) -> LimitsResult {
    let allowance = purchase.as_ref().and_then(allowance);
    let unlimited = allowance == Some(0);
    let usage = purchase.as_ref().and_then(|p| p.usage.clone());
    let used = usage.as_ref().map(|u| u.used).or_else(|| {
        allowance
            .filter(|a| *a > 0)
            .map(|a| (a - limits.remaining).max(0))
    });
    let state = if limits.activation_required == Some(true) {
        "needs_activation"
    } else if limits.within_limits {
        "within_limits"
    } else if purchase.is_none() {
        "purchase_required"
    } else {
        "limit_reached"
    };
    let plan = purchase.as_ref().and_then(|p| p.plan_snapshot.as_ref());
    LimitsResult {
        customer_ref: customer.to_string(),
        product_ref: product.to_string(),
        state: state.to_owned(),
        within_limits: limits.within_limits,
        remaining: limits.remaining,
        used,
        allowance: allowance.filter(|a| *a > 0),
        unlimited,
        unit: limits.meter_name.unwrap_or_else(|| "units".to_owned()),
        period_start: usage.as_ref().and_then(|u| u.period_start.clone()),
        period_end: usage.and_then(|u| u.period_end),
        plan_name: plan.and_then(|p| p.name.clone()),
        free: plan.map(|p| p.price == 0),
        purchase_ref: purchase.as_ref().map(|p| p.reference.clone()),
        checkout_url: limits.checkout_url,
        credit_balance: limits.credit_balance,
    }
}
