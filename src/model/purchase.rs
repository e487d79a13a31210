//! Purchase shapes (`SdkPurchaseResponse`), the status filter, and the derived facts a model needs
//! (formatted amounts, whether it is active, until when access lasts).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::money::{Currency, Money};

/// Purchase status filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseStatus {
    Pending,
    Active,
    Trialing,
    PastDue,
    Cancelled,
    Expired,
    Suspended,
    Refunded,
}

impl PurchaseStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Trialing => "trialing",
            Self::PastDue => "past_due",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Suspended => "suspended",
            Self::Refunded => "refunded",
        }
    }
}

/// The plan as it was when the purchase was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanSnapshot {
    /// Plan reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Plan name, e.g. "Pro".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Plan price in minor units of `currency`.
    #[serde(default)]
    pub price: i64,
    /// ISO 4217 code.
    #[serde(default)]
    pub currency: String,
    /// `price` formatted, e.g. "$49.00".
    #[serde(default, skip_deserializing)]
    pub price_formatted: String,
    /// `recurring`, `usage-based`, `one-time` or `hybrid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_type: Option<String>,
    /// Billing cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_cycle: Option<String>,
    /// Usage cap per period; 0 = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Free units per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_units: Option<i64>,
    /// Credits per usage unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_per_unit: Option<i64>,
    /// Feature flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Value>,
}

/// Usage in the current period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseUsage {
    /// Units used this period.
    #[serde(default)]
    pub used: i64,
    /// Units beyond the plan limit.
    #[serde(default)]
    pub overage_units: i64,
    /// Overage cost in USD cents.
    #[serde(default)]
    pub overage_cost: i64,
    /// Period start (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_start: Option<String>,
    /// Period end (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_end: Option<String>,
}

/// A SolvaPay purchase (`SdkPurchaseResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    /// Purchase reference, e.g. `pur_T3U4V5W6`.
    pub reference: String,
    /// `pending`, `active`, `trialing`, `past_due`, `cancelled`, `expired`, `suspended`, `refunded`.
    #[serde(default)]
    pub status: String,
    /// Customer reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<String>,
    /// Customer email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    /// Product reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_ref: Option<String>,
    /// Product name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// Amount charged, USD cents (SolvaPay normalises purchase amounts to USD).
    #[serde(default)]
    pub amount: i64,
    /// `amount` formatted in USD.
    #[serde(default, skip_deserializing)]
    pub amount_formatted: String,
    /// What the customer paid, in minor units of `currency`, formatted.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub paid: Option<Money>,
    /// Raw `originalAmount` (minor units of `currency`).
    #[serde(default, skip_serializing)]
    pub original_amount: Option<i64>,
    /// Charge currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Renews automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_recurring: Option<bool>,
    /// Billing cycle of a recurring purchase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_cycle: Option<String>,
    /// Start date (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Next charge date while it auto-renews (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_billing_date: Option<String>,
    /// End of access (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// False once the renewal is cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_renew: Option<bool>,
    /// When the renewal was cancelled (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<String>,
    /// Why it was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    /// After a cancellation: the date access ends (`endDate`, else the former next billing date).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub access_until: Option<String>,
    /// The plan as bought (null for credit top-ups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_snapshot: Option<PlanSnapshot>,
    /// Usage in the current period (usage-based and quota plans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<PurchaseUsage>,
    /// Creation time (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl Purchase {
    /// Fills the derived fields the wire format lacks (formatted amounts, `accessUntil`).
    pub fn with_derived(mut self) -> Self {
        self.amount_formatted = Currency::usd().format(self.amount);
        if let (Some(amount), Some(code)) = (self.original_amount, self.currency.as_deref()) {
            self.paid = Some(Money::new(amount, &Currency::from_api(code)));
        }
        if let Some(plan) = &mut self.plan_snapshot {
            let currency = Currency::from_api(&plan.currency);
            plan.currency = currency.code().to_owned();
            plan.price_formatted = currency.format(plan.price);
        }
        if self.cancelled_at.is_some() {
            self.access_until = self.end_date.clone().or(self.next_billing_date.clone());
        }
        self
    }

    /// Active or trialing: the customer has access.
    pub fn grants_access(&self) -> bool {
        matches!(self.status.as_str(), "active" | "trialing")
    }

    /// "pur_X active — Pro ($49.00/monthly), started 2026-01-15, next billing 2026-02-15".
    pub fn line(&self) -> String {
        let plan = match &self.plan_snapshot {
            Some(p) => {
                let cycle = p.billing_cycle.as_deref().map(|c| format!("/{c}"));
                format!(
                    " — {} ({}{})",
                    p.name.as_deref().unwrap_or("plan"),
                    p.price_formatted,
                    cycle.unwrap_or_default()
                )
            }
            None => String::new(),
        };
        let date = |d: &Option<String>| d.as_deref().map(|d| d.get(..10).unwrap_or(d).to_owned());
        let mut out = format!("{} {}{plan}", self.reference, self.status);
        if let Some(d) = date(&self.start_date) {
            out.push_str(&format!(", started {d}"));
        }
        match (date(&self.access_until), date(&self.next_billing_date)) {
            (Some(until), _) => out.push_str(&format!(", renewal cancelled, access until {until}")),
            (None, Some(next)) => out.push_str(&format!(", next billing {next}")),
            _ => {}
        }
        out
    }
}

/// Body of `POST /v1/sdk/purchases/{purchaseRef}/cancel` (always an object).
#[derive(Debug, Clone, Serialize)]
pub struct CancelPurchase {
    /// Why the renewal is cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
