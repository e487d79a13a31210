//! Plan shapes: what SolvaPay sends (`PlanWire`, read leniently), what a tool answers (`Plan`, and
//! `ProductPlan` for the copies inside a product), the closed input enums (their schemas list the
//! exact values), and the create/update bodies.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ProductRef;
use super::money::{Currency, Minor, Money, count, exact_minor};
use super::present;

/// How a plan charges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PlanType {
    Recurring,
    UsageBased,
    OneTime,
    Hybrid,
}

/// How often a recurring charge or usage period repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BillingCycle {
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
    Custom,
}

/// When usage is paid: credits bought up front, or billed at period end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BillingModel {
    PrePaid,
    PostPaid,
}

/// Whether a plan is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PlanStatus {
    Active,
    Inactive,
    Archived,
}

impl PlanType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recurring => "recurring",
            Self::UsageBased => "usage-based",
            Self::OneTime => "one-time",
            Self::Hybrid => "hybrid",
        }
    }
}

impl PlanStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Archived => "archived",
        }
    }
}

impl BillingCycle {
    /// "Monthly", "Yearly", …
    pub fn label(self) -> &'static str {
        match self {
            Self::Weekly => "Weekly",
            Self::Monthly => "Monthly",
            Self::Quarterly => "Quarterly",
            Self::Yearly => "Yearly",
            Self::Custom => "Custom-cycle",
        }
    }
}

/// A plan as SolvaPay sends it: the plan routes' `Plan`, or the `SdkPlanResponse` copies embedded
/// in a product (no `name`, no `type`, no `default`). Only `reference` is required.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanWire {
    pub reference: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub r#type: Option<String>,
    /// Minor units of `currency` (per cycle for recurring; per unit, maybe sub-cent, for usage).
    #[serde(default, deserialize_with = "exact_minor")]
    pub price: Option<Minor>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "exact_minor")]
    pub base_price: Option<Minor>,
    #[serde(default, deserialize_with = "exact_minor")]
    pub setup_fee: Option<Minor>,
    #[serde(default)]
    pub billing_cycle: Option<String>,
    #[serde(default)]
    pub billing_model: Option<String>,
    #[serde(default, deserialize_with = "count")]
    pub trial_days: Option<i64>,
    #[serde(default, deserialize_with = "count")]
    pub free_units: Option<i64>,
    /// Units per period; 0 = unlimited.
    #[serde(default, deserialize_with = "count")]
    pub limit: Option<i64>,
    #[serde(default, deserialize_with = "count")]
    pub credits_per_unit: Option<i64>,
    #[serde(default)]
    pub rollover_unused_units: Option<bool>,
    #[serde(default)]
    pub features: Option<Value>,
    #[serde(default)]
    pub limits: Option<Value>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub default: Option<bool>,
    #[serde(default)]
    pub requires_payment: Option<bool>,
}

impl PlanWire {
    /// The currency of every amount of the plan: `currency`, else USD (SolvaPay's default).
    pub fn currency(&self) -> Currency {
        self.currency
            .as_deref()
            .map_or_else(Currency::usd, Currency::from_api)
    }
}

/// A plan, with the product it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// e.g. pln_K5L6M7N8.
    pub reference: String,
    pub product_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// recurring, usage-based, one-time or hybrid.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub plan_type: Option<String>,
    /// Per cycle for recurring plans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// Hybrid base fee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_price: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_fee: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_cycle: Option<String>,
    /// pre-paid or post-paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_days: Option<i64>,
    /// Free units per period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_units: Option<i64>,
    /// Units per period; 0 = unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Credits charged per usage unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_per_unit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollover_unused_units: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Map<String, Value>>,
    /// active, inactive or archived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The product's default plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_payment: Option<bool>,
}

/// A plan of the product (get_plan has the rest).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductPlan {
    /// e.g. pln_K5L6M7N8.
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_fee: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_cycle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A free-form object of the plan (`features`, `limits`: objects in SolvaPay's spec) worth showing:
/// not null, not empty. Anything else SolvaPay sends there is kept, under `value`, not dropped.
fn nonempty(value: Option<Value>) -> Option<Map<String, Value>> {
    match value? {
        Value::Object(map) => (!map.is_empty()).then_some(map),
        Value::Null => None,
        Value::Array(a) if a.is_empty() => None,
        other => Some(Map::from_iter([("value".to_owned(), other)])),
    }
}

impl Plan {
    /// The plan `wire` of `product` (SolvaPay's plan bodies do not name their product).
    pub fn from_wire(wire: PlanWire, product: &ProductRef) -> Self {
        let currency = wire.currency();
        let money = |amount: Option<Minor>| amount.map(|a| Money::of(&a, &currency));
        Self {
            price: money(wire.price),
            base_price: money(wire.base_price),
            setup_fee: money(wire.setup_fee),
            reference: wire.reference,
            product_ref: product.to_string(),
            name: present(wire.name),
            description: present(wire.description),
            plan_type: present(wire.r#type),
            billing_cycle: present(wire.billing_cycle),
            billing_model: present(wire.billing_model),
            trial_days: wire.trial_days,
            free_units: wire.free_units,
            limit: wire.limit,
            credits_per_unit: wire.credits_per_unit,
            rollover_unused_units: wire.rollover_unused_units,
            features: nonempty(wire.features),
            limits: nonempty(wire.limits),
            status: present(wire.status),
            default: wire.default,
            requires_payment: wire.requires_payment,
        }
    }

    /// "Pro (pln_X) $49.00 monthly".
    pub fn label(&self) -> String {
        let name = self.name.as_deref().unwrap_or("Plan");
        let price = self
            .price
            .as_ref()
            .map(|p| format!(" {}", p.formatted))
            .unwrap_or_default();
        let cycle = self
            .billing_cycle
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        format!("{name} ({}){price}{cycle}", self.reference)
    }
}

impl From<PlanWire> for ProductPlan {
    fn from(wire: PlanWire) -> Self {
        let currency = wire.currency();
        let money = |amount: Option<Minor>| amount.map(|a| Money::of(&a, &currency));
        Self {
            price: money(wire.price),
            setup_fee: money(wire.setup_fee),
            reference: wire.reference,
            billing_cycle: present(wire.billing_cycle),
            status: present(wire.status),
        }
    }
}

/// Body of `POST /v1/sdk/products/{productRef}/plans` and (without `type`) of its `PUT`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub plan_type: Option<PlanType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_cycle: Option<BillingCycle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_model: Option<BillingModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_fee: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_units: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_per_unit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollover_unused_units: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<PlanStatus>,
}

/// Q6: a readable name for a plan created without one ("Monthly recurring", "Usage-based (post-paid)").
pub fn default_plan_name(
    plan_type: PlanType,
    cycle: Option<BillingCycle>,
    model: Option<BillingModel>,
) -> String {
    let cycle = cycle.map(|c| format!("{} ", c.label())).unwrap_or_default();
    match plan_type {
        PlanType::Recurring => format!("{cycle}recurring"),
        PlanType::Hybrid => format!("{cycle}hybrid"),
        PlanType::OneTime => "One-time".to_owned(),
        PlanType::UsageBased => match model {
            Some(BillingModel::PostPaid) => format!("{cycle}usage-based (post-paid)"),
            _ => "Usage-based (pre-paid)".to_owned(),
        },
    }
    .chars()
    .enumerate()
    .map(|(i, c)| if i == 0 { c.to_ascii_uppercase() } else { c })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_read_well() {
        use BillingCycle::*;
        assert_eq!(
            default_plan_name(PlanType::Recurring, Some(Monthly), None),
            "Monthly recurring"
        );
        assert_eq!(default_plan_name(PlanType::OneTime, None, None), "One-time");
        assert_eq!(
            default_plan_name(PlanType::UsageBased, None, None),
            "Usage-based (pre-paid)"
        );
        assert_eq!(
            default_plan_name(
                PlanType::UsageBased,
                Some(Yearly),
                Some(BillingModel::PostPaid)
            ),
            "Yearly usage-based (post-paid)"
        );
    }

    fn plan(body: Value) -> Plan {
        let product = ProductRef::parse("productRef", "prd_1").unwrap();
        Plan::from_wire(serde_json::from_value(body).unwrap(), &product)
    }

    #[test]
    fn every_amount_is_money_in_the_plan_currency() {
        let p = plan(serde_json::json!({
            "reference": "pln_1", "price": 4900, "currency": "usd", "setupFee": 500, "basePrice": "1000"
        }));
        let price = p.price.as_ref().unwrap();
        assert_eq!(
            (
                price.amount,
                price.currency.as_str(),
                price.formatted.as_str()
            ),
            (4900, "USD", "$49.00")
        );
        assert_eq!(p.setup_fee.unwrap().formatted, "$5.00");
        assert_eq!(p.base_price.unwrap().formatted, "$10.00");
        assert_eq!(p.product_ref, "prd_1");
    }

    #[test]
    fn odd_prices_are_read_or_left_out_never_zero() {
        let price = |v: Value| {
            plan(serde_json::json!({"reference": "pln_1", "price": v}))
                .price
                .map(|m| m.formatted)
        };
        assert_eq!(price(serde_json::json!(4900.0)).as_deref(), Some("$49.00"));
        assert_eq!(price(serde_json::json!("4900")).as_deref(), Some("$49.00"));
        assert_eq!(price(serde_json::json!(null)), None);
        assert_eq!(price(serde_json::json!("0.5")).as_deref(), Some("$0.005"));
        let free = serde_json::from_value::<PlanWire>(
            serde_json::json!({"reference": "pln_1", "price": "free"}),
        );
        assert!(free.is_err(), "text is not a price, nor zero");
        let absent = plan(serde_json::json!({"reference": "pln_1"}));
        assert_eq!(absent.price, None);
        assert_eq!(absent.label(), "Plan (pln_1)");
        let out = serde_json::to_value(&absent).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"reference": "pln_1", "productRef": "prd_1"})
        );
    }

    #[test]
    fn currency_defaults_to_usd_and_is_upper_case() {
        let yen = plan(serde_json::json!({"reference": "pln_1", "price": 2500, "currency": "jpy"}));
        assert_eq!(yen.price.unwrap().formatted, "¥2,500");
        let usd = plan(serde_json::json!({"reference": "pln_1", "price": 2500}));
        assert_eq!(usd.price.unwrap().currency, "USD");
    }

    #[test]
    fn embedded_plans_need_no_name_or_type() {
        let wire: PlanWire = serde_json::from_value(serde_json::json!({
            "reference": "pln_1", "price": 4900, "currency": "eur", "status": "active",
            "billingCycle": "monthly", "isActive": true, "hidden": false
        }))
        .unwrap();
        let embedded = ProductPlan::from(wire);
        assert_eq!(
            serde_json::to_value(&embedded).unwrap(),
            serde_json::json!({"reference": "pln_1", "status": "active", "billingCycle": "monthly",
                               "price": {"amount": 4900, "currency": "EUR", "formatted": "€49.00"}})
        );
    }
}
