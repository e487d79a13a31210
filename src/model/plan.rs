//! Plan shapes: SolvaPay's `Plan`, the closed input enums (their schemas list the exact values), and
//! the create/update bodies.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::money::{Currency, Money};

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

/// A SolvaPay plan (`Plan`; the copies embedded in a product lack `name` and `type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Plan reference, e.g. `pln_K5L6M7N8`.
    pub reference: String,
    /// The product the plan belongs to (set by `list_plans`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_ref: Option<String>,
    /// Plan name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `recurring`, `usage-based`, `one-time` or `hybrid`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub plan_type: Option<String>,
    /// Price in minor units of `currency` (per cycle for recurring).
    #[serde(default)]
    pub price: i64,
    /// ISO 4217 code.
    #[serde(default)]
    pub currency: String,
    /// `price` formatted, e.g. "$49.00".
    #[serde(default, skip_deserializing)]
    pub price_formatted: String,
    /// Hybrid base fee (minor units), formatted alongside.
    #[serde(
        default,
        deserialize_with = "minor_units",
        skip_serializing_if = "Option::is_none"
    )]
    pub base_price: Option<Money>,
    /// One-time setup fee (minor units), formatted alongside.
    #[serde(
        default,
        deserialize_with = "minor_units",
        skip_serializing_if = "Option::is_none"
    )]
    pub setup_fee: Option<Money>,
    /// `weekly`, `monthly`, `quarterly`, `yearly` or `custom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_cycle: Option<String>,
    /// `pre-paid` or `post-paid` (usage-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_model: Option<String>,
    /// Trial length in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_days: Option<i64>,
    /// Units free per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_units: Option<i64>,
    /// Usage cap per period; 0 = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Credits charged per usage unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_per_unit: Option<i64>,
    /// Unused units carry over to the next period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollover_unused_units: Option<bool>,
    /// Feature flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Value>,
    /// Named numeric limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Value>,
    /// `active`, `inactive` or `archived`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The product's default plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// Whether buying it needs a payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_payment: Option<bool>,
    /// Creation time (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// A bare wire amount (minor units); its currency and formatting are filled in by
/// [`Plan::with_formatted_amounts`].
fn minor_units<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Money>, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.map(|amount| Money {
        amount: amount.round() as i64,
        currency: String::new(),
        formatted: String::new(),
    }))
}

impl Plan {
    /// Fills the formatted amounts the wire format lacks.
    pub fn with_formatted_amounts(mut self) -> Self {
        let currency = Currency::from_api(&self.currency);
        self.currency = currency.code().to_owned();
        self.price_formatted = currency.format(self.price);
        for money in [&mut self.base_price, &mut self.setup_fee]
            .into_iter()
            .flatten()
        {
            *money = Money::new(money.amount, &currency);
        }
        self
    }

    /// "Pro (pln_X) $49.00 monthly".
    pub fn label(&self) -> String {
        let name = self.name.as_deref().unwrap_or("Plan");
        let cycle = self
            .billing_cycle
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        format!(
            "{name} ({}) {}{cycle}",
            self.reference, self.price_formatted
        )
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

    #[test]
    fn embedded_money_is_formatted_in_the_plan_currency() {
        let plan = serde_json::from_value::<Plan>(serde_json::json!({
            "reference": "pln_1", "price": 4900, "currency": "usd", "setupFee": 500
        }))
        .unwrap()
        .with_formatted_amounts();
        assert_eq!(plan.price_formatted, "$49.00");
        assert_eq!(plan.currency, "USD");
        let fee = plan.setup_fee.unwrap();
        assert_eq!((fee.amount, fee.formatted.as_str()), (500, "$5.00"));
    }
}
