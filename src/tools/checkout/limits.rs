//! The `check_limits` result: SolvaPay's limit answer joined with the customer's active purchase,
//! so the model can say "used 87 of 100 requests this period", and what to do when they must pay.
//! `check_limits` is a read: it never asks SolvaPay for a checkout session, and it never sends the
//! limit check that would enrol a customer without a purchase in a free default plan.

use schemars::JsonSchema;
use serde::Serialize;

use super::super::Summary;
use crate::model::limits::LimitsWire;
use crate::model::money::Minor;
use crate::model::plan::PlanWire;
use crate::model::purchase::Purchase;
use crate::model::{CustomerRef, ProductRef};
use crate::policy::ToolPolicy;

/// The `remaining` given for a plan without a cap, as SolvaPay's limit answer gives it (BEHAVIOUR
/// §3.1, a sentinel); `unlimited` is the field to read.
const UNCAPPED_REMAINING: i64 = 999_999;

/// Where the customer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LimitState {
    /// They may use the product.
    WithinLimits,
    /// Their plan's allowance for this period is used up.
    LimitReached,
    /// A priced default plan must be activated first (not "used up").
    NeedsActivation,
    /// No purchase: they must buy a plan.
    PurchaseRequired,
    /// No purchase yet; the free default plan applies (SolvaPay enrols them at first use).
    NotEnrolled,
}

/// Whether this server can make the payment link `check_limits` does not make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LinkTool {
    /// `create_checkout_session` is enabled.
    Enabled,
    /// The operator started the server with `--read-only`.
    ReadOnly,
    /// `create_checkout_session` is left out by the toolset/tool flags.
    NotEnabled,
}

impl LinkTool {
    pub(super) fn of(policy: &ToolPolicy) -> Self {
        if policy.allows("create_checkout_session") {
            Self::Enabled
        } else if policy.read_only() {
            Self::ReadOnly
        } else {
            Self::NotEnabled
        }
    }

    /// The sentence telling the model how to get a payment link for `customer` and `product`.
    fn advice(self, customer: &CustomerRef, product: &ProductRef, plans: &str) -> String {
        let call = format!(
            "create_checkout_session with customerRef {customer} and productRef {product}{plans}"
        );
        match self {
            Self::Enabled => format!("For a payment link, call {call}."),
            Self::ReadOnly => format!(
                "No payment link was made: check_limits only reads, and this server runs with \
                 --read-only. Run it without --read-only, then call {call}."
            ),
            Self::NotEnabled => format!(
                "No payment link was made: check_limits only reads, and create_checkout_session is \
                 not enabled on this server (--toolsets, --tools, --exclude-tools). Enable it, then \
                 call {call}."
            ),
        }
    }
}

/// Where a customer stands against their usage allowance.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LimitsResult {
    customer_ref: String,
    product_ref: String,
    state: LimitState,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    credit_balance: Option<i64>,
    /// Where the customer confirms a required activation (SolvaPay's portal page).
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmation_url: Option<String>,
    /// How to get a payment link when they must pay (check_limits never creates one).
    #[serde(skip_serializing_if = "Option::is_none")]
    next_step: Option<String>,
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
        let next = self
            .next_step
            .as_deref()
            .map(|n| format!(". {n}"))
            .unwrap_or_default();
        match self.state {
            LimitState::NeedsActivation => {
                format!("Needs activation before use (not used up){next}")
            }
            LimitState::PurchaseRequired => {
                format!("No active purchase: the customer must buy a plan{next}")
            }
            LimitState::LimitReached => format!(
                "Limit reached: {usage}{period}; {} remaining{next}",
                self.remaining
            ),
            LimitState::NotEnrolled => format!(
                "No purchase yet: the free default plan {} applies ({usage}); SolvaPay enrols the \
                 customer in it at their first paywalled call",
                self.plan_name.as_deref().unwrap_or("of the product")
            ),
            LimitState::WithinLimits => format!(
                "Within limits: {usage}{period}; {} remaining",
                self.remaining
            ),
        }
    }
}

/// The allowance of a plan snapshot: see [`cap`].
fn allowance(purchase: &Purchase) -> Option<i64> {
    let plan = purchase.plan_snapshot.as_ref()?;
    cap(plan.limit, plan.free_units)
}

/// The smallest positive of `limit` and `freeUnits`; `Some(0)` means unlimited; `None` means unknown.
fn cap(limit: Option<i64>, free_units: Option<i64>) -> Option<i64> {
    let caps = [limit, free_units];
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

/// True for the purchase a limit check counts against: active or trialing, of a plan (a credit
/// top-up grants no plan access, BEHAVIOUR §2), of `product`.
pub(super) fn grants_plan_access(purchase: &Purchase, product: &ProductRef) -> bool {
    purchase.grants_access()
        && purchase.plan_snapshot.is_some()
        && purchase
            .product_ref
            .as_deref()
            .is_none_or(|r| r == product.as_str())
}

/// True for the plan SolvaPay enrols a customer without a purchase in when their limits are checked:
/// the product's active, free default plan (BEHAVIOUR §1.4 and §3.1 step 2a). Sending that check
/// would create a purchase, so `check_limits` answers from the plan instead.
pub(super) fn enrols_on_check(plan: &PlanWire) -> bool {
    let priced = plan.price.as_ref().is_some_and(Minor::is_positive)
        || plan.credits_per_unit.unwrap_or(0) > 0
        || plan.base_price.as_ref().is_some_and(Minor::is_positive);
    plan.default == Some(true)
        && plan.status.as_deref().is_none_or(|s| s == "active")
        && !plan.requires_payment.unwrap_or(priced)
}

/// The answer for a customer with no purchase whose product's free default plan `plan` would apply.
pub(super) fn not_enrolled(
    customer: &CustomerRef,
    product: &ProductRef,
    plan: &PlanWire,
) -> LimitsResult {
    let allowance = cap(plan.limit, plan.free_units).unwrap_or(0);
    LimitsResult {
        customer_ref: customer.to_string(),
        product_ref: product.to_string(),
        state: LimitState::NotEnrolled,
        within_limits: true,
        remaining: if allowance > 0 {
            allowance
        } else {
            UNCAPPED_REMAINING
        },
        used: Some(0),
        allowance: (allowance > 0).then_some(allowance),
        unlimited: allowance == 0,
        unit: "units".to_owned(),
        period_start: None,
        period_end: None,
        plan_name: plan.name.clone(),
        free: Some(true),
        purchase_ref: None,
        credit_balance: None,
        confirmation_url: None,
        next_step: None,
    }
}

impl LimitsResult {
    /// SolvaPay's answer for `customer` and `product`, joined with the purchase it counts against.
    pub(super) fn from_wire(
        limits: LimitsWire,
        customer: CustomerRef,
        product: ProductRef,
        purchase: Option<Purchase>,
        link: LinkTool,
    ) -> Self {
        let allowance = purchase.as_ref().and_then(allowance);
        let unlimited = allowance == Some(0);
        let within_limits = limits.within_limits.unwrap_or(false);
        let usage = purchase.as_ref().and_then(|p| p.usage.clone());
        let used = usage.as_ref().map(|u| u.used).or_else(|| {
            allowance
                .filter(|a| *a > 0)
                .zip(limits.remaining)
                .map(|(a, r)| (a - r).max(0))
        });
        let remaining = limits
            .remaining
            .or_else(|| {
                allowance
                    .filter(|a| *a > 0)
                    .zip(used)
                    .map(|(a, u)| (a - u).max(0))
            })
            .unwrap_or(0);
        let state = if limits.activation_required == Some(true) {
            LimitState::NeedsActivation
        } else if within_limits {
            LimitState::WithinLimits
        } else if purchase.is_none() {
            LimitState::PurchaseRequired
        } else {
            LimitState::LimitReached
        };
        let plan = purchase.as_ref().and_then(|p| p.plan_snapshot.as_ref());
        let current = plan.and_then(|p| p.reference.as_deref());
        let offered: Vec<String> = limits
            .plans
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| {
                let reference = p
                    .reference
                    .filter(|r| !r.is_empty() && Some(r.as_str()) != current)?;
                Some(match p.name {
                    Some(name) => format!("{reference} ({name})"),
                    None => reference,
                })
            })
            .collect();
        let plans = match offered.as_slice() {
            [] => String::new(),
            offered => format!(" (planRef: one of {})", offered.join(", ")),
        };
        let confirmation_url = limits.confirmation_url.filter(|u| !u.trim().is_empty());
        let next_step = match (&confirmation_url, state) {
            (_, LimitState::WithinLimits) => None,
            (Some(url), LimitState::NeedsActivation) => Some(format!(
                "To activate the plan, send the customer to the confirmationUrl: {url}"
            )),
            _ => Some(link.advice(&customer, &product, &plans)),
        };
        LimitsResult {
            customer_ref: customer.to_string(),
            product_ref: product.to_string(),
            state,
            within_limits,
            remaining,
            used,
            allowance: allowance.filter(|a| *a > 0),
            unlimited,
            unit: limits.meter_name.unwrap_or_else(|| "units".to_owned()),
            period_start: usage.as_ref().and_then(|u| u.period_start.clone()),
            period_end: usage.and_then(|u| u.period_end),
            plan_name: plan.and_then(|p| p.name.clone()),
            free: plan.and_then(|p| p.price.as_ref()).map(|m| m.amount == 0),
            purchase_ref: purchase.as_ref().map(|p| p.reference.clone()),
            credit_balance: limits.credit_balance,
            confirmation_url,
            next_step,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::purchase::PurchaseWire;
    use serde_json::json;

    fn result(limits: serde_json::Value, purchase: Option<serde_json::Value>) -> LimitsResult {
        let purchase = purchase.map(|p| {
            let wire: PurchaseWire = serde_json::from_value(p).unwrap();
            Purchase::from(wire)
        });
        LimitsResult::from_wire(
            serde_json::from_value(limits).unwrap(),
            CustomerRef::parse("customerRef", "cus_A").unwrap(),
            ProductRef::parse("productRef", "prd_B").unwrap(),
            purchase,
            LinkTool::Enabled,
        )
    }

    #[test]
    fn an_answer_with_nulls_is_over_the_limit_and_offers_no_plans() {
        let out = result(
            json!({"withinLimits": null, "remaining": null, "plans": null}),
            None,
        );
        assert_eq!(out.state, LimitState::PurchaseRequired);
        assert_eq!((out.within_limits, out.remaining), (false, 0));
        let next = out.next_step.unwrap();
        assert!(
            next.contains("create_checkout_session") && !next.contains("planRef"),
            "{next}"
        );
    }

    #[test]
    fn remaining_comes_from_the_purchase_when_solvapay_omits_it() {
        let purchase = json!({"reference": "pur_A", "status": "active", "productRef": "prd_B",
            "planSnapshot": {"name": "Free", "price": "0", "limit": 100}, "usage": {"used": 87}});
        let out = result(json!({"withinLimits": true}), Some(purchase));
        assert_eq!(out.state, LimitState::WithinLimits);
        assert_eq!(
            (out.used, out.allowance, out.remaining),
            (Some(87), Some(100), 13)
        );
        assert_eq!(out.free, Some(true));
    }
}
