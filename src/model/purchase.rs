//! Purchases: `SdkPurchaseResponse` as SolvaPay sends it ([`PurchaseWire`], read leniently), the
//! status filter, and the purchase a tool returns ([`Purchase`], built complete from the wire:
//! amounts as [`Money`], `accessUntil` derived).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::money::{Currency, Minor, Money, count, exact_minor};

// A purchase status. As a filter it is closed; read from SolvaPay ([`PurchaseStatus::read`]) an
// unknown value is `None` and the text is kept as sent. (No doc comment: it would be the schema's
// description in every tool that filters by status; the field that uses it carries the docs.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
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
    const ALL: [Self; 8] = [
        Self::Pending,
        Self::Active,
        Self::Trialing,
        Self::PastDue,
        Self::Cancelled,
        Self::Expired,
        Self::Suspended,
        Self::Refunded,
    ];

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

    /// The status SolvaPay sent, when it is one we know (any case).
    pub fn read(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(raw))
    }

    /// Active or trialing: the customer has access.
    pub fn grants_access(self) -> bool {
        matches!(self, Self::Active | Self::Trialing)
    }
}

/// `SdkPurchaseResponse.planSnapshot`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PlanSnapshotWire {
    pub reference: Option<String>,
    pub name: Option<String>,
    #[serde(deserialize_with = "exact_minor")]
    pub price: Option<Minor>,
    pub currency: Option<String>,
    pub plan_type: Option<String>,
    pub billing_cycle: Option<String>,
    #[serde(deserialize_with = "count")]
    pub limit: Option<i64>,
    #[serde(deserialize_with = "count")]
    pub free_units: Option<i64>,
    #[serde(deserialize_with = "count")]
    pub credits_per_unit: Option<i64>,
    pub features: Option<Value>,
}

/// `SdkPurchaseResponse.usage`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PurchaseUsageWire {
    #[serde(deserialize_with = "count")]
    pub used: Option<i64>,
    #[serde(deserialize_with = "count")]
    pub overage_units: Option<i64>,
    /// USD cents, maybe a fraction of one (sub-cent usage pricing).
    #[serde(deserialize_with = "exact_minor")]
    pub overage_cost: Option<Minor>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
}

/// A purchase as SolvaPay sends it (`SdkPurchaseResponse`). Only `reference` is required.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseWire {
    pub reference: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub customer_ref: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub product_ref: Option<String>,
    #[serde(default)]
    pub product_name: Option<String>,
    /// USD cents (SolvaPay normalises purchase amounts to USD).
    #[serde(default, deserialize_with = "exact_minor")]
    pub amount: Option<Minor>,
    /// Minor units of `currency`.
    #[serde(default, deserialize_with = "exact_minor")]
    pub original_amount: Option<Minor>,
    /// The charge currency.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub is_recurring: Option<bool>,
    #[serde(default)]
    pub billing_cycle: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub next_billing_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub auto_renew: Option<bool>,
    #[serde(default)]
    pub cancelled_at: Option<String>,
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    /// When a cancelled renewal was reactivated: not in SolvaPay's schema (the local sandbox sends
    /// it on every purchase, null when never). `None`: not reported (absent), not "never";
    /// `Some(None)`: reported, never reactivated.
    #[serde(default, deserialize_with = "reported")]
    pub reactivated_at: Option<Option<String>>,
    /// Null for credit top-ups.
    #[serde(default)]
    pub plan_snapshot: Option<PlanSnapshotWire>,
    #[serde(default)]
    pub usage: Option<PurchaseUsageWire>,
}

/// The plan as bought.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanSnapshot {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// recurring, usage-based, one-time or hybrid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_type: Option<String>,
    /// Usage cap per period; 0 = unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Free units per period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_units: Option<i64>,
    /// Credits per usage unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_per_unit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<Value>,
}

impl From<PlanSnapshotWire> for PlanSnapshot {
    fn from(w: PlanSnapshotWire) -> Self {
        let currency = w
            .currency
            .as_deref()
            .map_or_else(Currency::usd, Currency::from_api);
        Self {
            reference: w.reference,
            name: w.name,
            price: w.price.map(|p| Money::of(&p, &currency)),
            plan_type: w.plan_type,
            limit: w.limit,
            free_units: w.free_units,
            credits_per_unit: w.credits_per_unit,
            features: w.features.filter(|f| !f.is_null()),
        }
    }
}

/// Usage in the current period.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseUsage {
    /// Units used this period.
    pub used: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overage_units: Option<i64>,
    /// In USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overage_cost: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_end: Option<String>,
}

impl From<PurchaseUsageWire> for PurchaseUsage {
    fn from(w: PurchaseUsageWire) -> Self {
        Self {
            used: w.used.unwrap_or(0),
            overage_units: w.overage_units.filter(|u| *u != 0),
            overage_cost: w
                .overage_cost
                .filter(|c| *c != Minor::whole(0))
                .map(|c| Money::of(&c, &Currency::usd())),
            period_start: w.period_start,
            period_end: w.period_end,
        }
    }
}

/// A SolvaPay purchase.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    /// e.g. pur_T3U4V5W6.
    pub reference: String,
    /// pending, active, trialing, past_due, cancelled, expired, suspended or refunded.
    pub status: String,
    /// The status as read; `None` when SolvaPay sent one we do not know.
    #[serde(skip)]
    pub state: Option<PurchaseStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// Amount charged, normalised to USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// What the customer paid, when not in USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_cycle: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Next charge while it auto-renews.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_billing_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_renew: Option<bool>,
    /// When the renewal was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    /// When a cancelled renewal was reactivated (when SolvaPay says: the local sandbox does).
    /// Left out of the listed schema, as `Money::exact` is: rare, and a property in every purchase
    /// result's schema would push the hosted tool list over its budget (the schema does not
    /// forbid extra properties).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub reactivated_at: Option<String>,
    /// After a cancellation: when access ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_until: Option<String>,
    /// Absent for credit top-ups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_snapshot: Option<PlanSnapshot>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<PurchaseUsage>,
}

impl From<PurchaseWire> for Purchase {
    fn from(w: PurchaseWire) -> Self {
        let usd = Currency::usd();
        let charge = w.currency.as_deref().map(Currency::from_api);
        let paid = match (w.original_amount, charge) {
            (Some(a), Some(c)) if c != usd => Some(Money::of(&a, &c)),
            _ => None,
        };
        // After a cancellation, access lasts to the end date, else to the renewal that will not happen.
        let access_until = w
            .cancelled_at
            .as_ref()
            .and(w.end_date.clone().or_else(|| w.next_billing_date.clone()));
        let status = w.status.unwrap_or_else(|| "unknown".to_owned());
        Self {
            reference: w.reference,
            state: PurchaseStatus::read(&status),
            status,
            customer_ref: w.customer_ref,
            customer_email: w.customer_email,
            product_ref: w.product_ref,
            product_name: w.product_name,
            amount: w.amount.map(|a| Money::of(&a, &usd)),
            paid,
            billing_cycle: w
                .billing_cycle
                .or_else(|| w.plan_snapshot.as_ref()?.billing_cycle.clone()),
            start_date: w.start_date,
            next_billing_date: w.next_billing_date,
            end_date: w.end_date,
            auto_renew: w.auto_renew,
            cancelled_at: w.cancelled_at,
            cancellation_reason: w.cancellation_reason,
            reactivated_at: w.reactivated_at.flatten(),
            access_until,
            plan_snapshot: w.plan_snapshot.map(PlanSnapshot::from),
            usage: w.usage.map(PurchaseUsage::from),
        }
    }
}

impl Purchase {
    /// Active or trialing: the customer has access.
    pub fn grants_access(&self) -> bool {
        self.state.is_some_and(PurchaseStatus::grants_access)
    }

    /// "pur_X active — Pro ($49.00/monthly), started 2026-01-15, next billing 2026-02-15".
    pub fn line(&self) -> String {
        let plan = match &self.plan_snapshot {
            Some(p) => {
                let price = p.price.as_ref().map(|m| m.formatted.as_str());
                let cycle = self.billing_cycle.as_deref().map(|c| format!("/{c}"));
                format!(
                    " — {} ({}{})",
                    p.name.as_deref().unwrap_or("plan"),
                    price.unwrap_or("price unknown"),
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

/// A field SolvaPay may leave out: present (null included) is `Some`, absent is `None` (through
/// `#[serde(default)]`).
fn reported<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    <Option<String> as serde::Deserialize>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reactivated_at_tells_never_from_not_reported() {
        let wire = |v: Value| {
            serde_json::from_value::<PurchaseWire>(v)
                .unwrap()
                .reactivated_at
        };
        let base = json!({"reference": "pur_A1B2C3D4", "status": "active"});
        assert_eq!(wire(base.clone()), None, "absent: not reported");
        let mut never = base.clone();
        never["reactivatedAt"] = Value::Null;
        assert_eq!(wire(never), Some(None), "null: reported, never");
        let mut once = base;
        once["reactivatedAt"] = json!("2026-11-20T10:00:00Z");
        assert_eq!(wire(once), Some(Some("2026-11-20T10:00:00Z".to_owned())));
    }

    fn read(v: Value) -> Purchase {
        Purchase::from(serde_json::from_value::<PurchaseWire>(v).unwrap())
    }

    #[test]
    fn amounts_are_money_whatever_number_form_they_come_in() {
        for amount in [json!(4900), json!(4900.0), json!("4900")] {
            let p = read(
                json!({"reference": "pur_A", "status": "active", "amount": amount,
                "planSnapshot": {"price": amount, "currency": "eur"}}),
            );
            assert_eq!(p.amount.unwrap().formatted, "$49.00");
            let price = p.plan_snapshot.unwrap().price.unwrap();
            assert_eq!(
                (price.currency.as_str(), price.formatted.as_str()),
                ("EUR", "€49.00")
            );
        }
        let p = read(json!({"reference": "pur_A", "amount": null}));
        assert_eq!(p.amount, None, "absent, not $0.00");
        let text =
            serde_json::from_value::<PurchaseWire>(json!({"reference": "pur_A", "amount": "lots"}));
        assert!(text.is_err(), "text is not an amount");
        let usage = read(
            json!({"reference": "pur_A", "usage": {"used": "12", "overageUnits": 3.0, "overageCost": 0.5}}),
        );
        let usage = usage.usage.unwrap();
        assert_eq!((usage.used, usage.overage_units), (12, Some(3)));
        let cost = usage.overage_cost.unwrap();
        assert_eq!(
            (cost.amount, cost.exact.as_deref(), cost.formatted.as_str()),
            (1, Some("0.5"), "$0.005")
        );
        assert_eq!(read(json!({"reference": "pur_A"})).amount, None);
    }

    #[test]
    fn paid_only_when_charged_in_another_currency() {
        let eur = read(
            json!({"reference": "pur_A", "amount": 4900, "originalAmount": 4500, "currency": "eur"}),
        );
        assert_eq!(eur.paid, Some(Money::new(4500, &Currency::from_api("EUR"))));
        let usd = read(
            json!({"reference": "pur_A", "amount": 4900, "originalAmount": 4900, "currency": "usd"}),
        );
        assert_eq!(usd.paid, None);
        let no_currency =
            read(json!({"reference": "pur_A", "amount": 4900, "originalAmount": 4500}));
        assert_eq!(no_currency.paid, None);
    }

    #[test]
    fn a_missing_currency_on_the_snapshot_is_usd() {
        let p = read(
            json!({"reference": "pur_A", "planSnapshot": {"name": "Pro", "price": 4900, "currency": null}}),
        );
        assert_eq!(p.plan_snapshot.unwrap().price.unwrap().formatted, "$49.00");
    }

    #[test]
    fn status_is_read_once_and_unknown_ones_pass_through() {
        let trial = read(json!({"reference": "pur_A", "status": "Trialing"}));
        assert_eq!(trial.state, Some(PurchaseStatus::Trialing));
        assert!(trial.grants_access());
        let odd = read(json!({"reference": "pur_A", "status": "paused"}));
        assert_eq!((odd.status.as_str(), odd.state), ("paused", None));
        assert!(!odd.grants_access());
        assert_eq!(read(json!({"reference": "pur_A"})).status, "unknown");
    }

    #[test]
    fn access_until_is_set_only_after_a_cancellation() {
        let base = json!({"reference": "pur_A", "status": "active", "nextBillingDate": "2026-02-15T10:00:00Z"});
        assert_eq!(read(base.clone()).access_until, None);
        let mut cancelled = base;
        cancelled["cancelledAt"] = json!("2026-02-01T00:00:00Z");
        assert_eq!(
            read(cancelled.clone()).access_until.as_deref(),
            Some("2026-02-15T10:00:00Z")
        );
        cancelled["endDate"] = json!("2026-02-20T00:00:00Z");
        assert_eq!(
            read(cancelled).access_until.as_deref(),
            Some("2026-02-20T00:00:00Z")
        );
    }

    #[test]
    fn a_top_up_has_no_plan_and_its_line_says_so() {
        let p = read(
            json!({"reference": "pur_TOP", "status": "active", "amount": 1000,
            "planSnapshot": null, "usage": {"used": 3, "overageCost": null}}),
        );
        assert!(p.plan_snapshot.is_none());
        assert_eq!(p.usage.as_ref().unwrap().overage_cost, None);
        assert_eq!(p.line(), "pur_TOP active");
        let v = serde_json::to_value(&p).unwrap();
        assert!(
            v.get("planSnapshot").is_none() && v.get("paid").is_none(),
            "{v}"
        );
        assert!(!v.to_string().contains("null"), "{v}");
    }
}
