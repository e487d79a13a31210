//! Usage-limit shapes: SolvaPay's `LimitResponse` as sent ([`LimitsWire`], read leniently) and the
//! request body of `POST /v1/sdk/limits`.

use serde::{Deserialize, Serialize};

use super::{CustomerRef, PlanRef, ProductRef};

/// Body of `POST /v1/sdk/limits`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitsRequest {
    pub customer_ref: CustomerRef,
    pub product_ref: ProductRef,
    /// True makes SolvaPay create a checkout session when the customer must pay (CONTRACT.md,
    /// `check_limits`). `check_limits` is a read, so it sends false; links come from
    /// `create_checkout_session`.
    pub include_checkout_session: bool,
    /// The plan to check against, as SolvaPay's own backend integration test sends it (it is not
    /// in `CheckLimitRequest`, so it is sent only when given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_ref: Option<PlanRef>,
}

/// A plan offered in a limits answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LimitPlanWire {
    pub reference: Option<String>,
    pub name: Option<String>,
}

/// SolvaPay's `LimitResponse`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LimitsWire {
    /// False when the customer is over the limit (or has no usable purchase); absent = false.
    pub within_limits: Option<bool>,
    /// Units left this period.
    #[serde(deserialize_with = "super::money::count")]
    pub remaining: Option<i64>,
    /// The unit being counted, e.g. "requests".
    pub meter_name: Option<String>,
    /// Credit balance (credits), for pre-paid plans.
    #[serde(deserialize_with = "super::money::count")]
    pub credit_balance: Option<i64>,
    /// True when a default plan must be activated first.
    pub activation_required: Option<bool>,
    /// Plans on offer (null = none).
    #[serde(deserialize_with = "super::rows::embedded")]
    pub plans: Option<Vec<LimitPlanWire>>,
    /// The customer-portal page where a required activation is confirmed (no checkout URL then).
    pub confirmation_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_and_omissions_read_as_absent() {
        let w: LimitsWire = serde_json::from_value(serde_json::json!({
            "withinLimits": null, "remaining": 13, "plans": null, "product": {"name": "x"}
        }))
        .unwrap();
        assert_eq!((w.within_limits, w.remaining), (None, Some(13)));
        assert!(w.plans.is_none());
    }

    #[test]
    fn references_go_out_as_strings() {
        let body = LimitsRequest {
            customer_ref: CustomerRef::parse("c", "cus_A").unwrap(),
            product_ref: ProductRef::parse("p", "prd_B").unwrap(),
            include_checkout_session: false,
            plan_ref: None,
        };
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            serde_json::json!({"customerRef": "cus_A", "productRef": "prd_B", "includeCheckoutSession": false})
        );
    }
}
