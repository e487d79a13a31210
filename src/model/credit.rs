//! Credits (SolvaPay's 2026 API): a customer's credit balance, credit grants, and plan activation.
//! Credits are integers ("mils"); `creditsPerMinorUnit` of them make one minor unit of USD (credit
//! balances are USD-normalised), so every credit amount in a result also carries its [`Money`].

#![deny(clippy::arithmetic_side_effects)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::money::{minor_from_major, minor_units};
use super::{Currency, Money, present};

/// Credits per minor unit when SolvaPay does not say (its documented normal: 100 credits = 1 cent).
pub const DEFAULT_CREDITS_PER_MINOR_UNIT: i64 = 100;

/// The money `credits` are worth at `per_minor_unit` credits per USD minor unit, rounded half away
/// from zero (the exact credits are always shown beside it).
pub fn credit_value(credits: i64, per_minor_unit: i64) -> Money {
    let per = i128::from(per_minor_unit.max(1));
    let c = i128::from(credits);
    let half = per / 2;
    let rounded = if c >= 0 {
        c.saturating_add(half).checked_div(per).unwrap_or(0)
    } else {
        c.saturating_sub(half).checked_div(per).unwrap_or(0)
    };
    let minor = i64::try_from(rounded).unwrap_or(if c >= 0 { i64::MAX } else { i64::MIN });
    Money::new(minor, &Currency::usd())
}

/// `CustomerBalanceDisplayDto`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceDisplayWire {
    /// Major units of `currency` (a float).
    #[serde(default)]
    pub amount_major: Option<Value>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub formatted: Option<String>,
}

/// `CustomerBalanceResponse` (`GET /v1/sdk/customers/{reference}/balance`), as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerBalanceWire {
    #[serde(default)]
    pub customer_ref: Option<String>,
    /// Credits (mils).
    #[serde(default, deserialize_with = "minor_units")]
    pub credits: Option<i64>,
    #[serde(default, deserialize_with = "minor_units")]
    pub credits_per_minor_unit: Option<i64>,
    #[serde(default)]
    pub display_currency: Option<String>,
    #[serde(default)]
    pub display: Option<BalanceDisplayWire>,
}

impl CustomerBalanceWire {
    /// Credits per minor unit, SolvaPay's or the documented default.
    pub fn scale(&self) -> i64 {
        self.credits_per_minor_unit
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_CREDITS_PER_MINOR_UNIT)
    }
}

/// A customer's credit balance.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerBalance {
    pub customer_ref: String,
    /// Credits held (integer mils), exactly as SolvaPay counts them.
    pub credits: i64,
    /// Credits that make one minor unit of USD (100: 100 credits = $0.01).
    pub credits_per_minor_unit: i64,
    /// What the credits are worth in USD.
    pub value: Money,
    /// The same in the customer's display currency, when it is not USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_value: Option<Money>,
}

impl CustomerBalance {
    /// The balance of `wire`, for `customer` when SolvaPay does not name it.
    pub fn new(wire: CustomerBalanceWire, customer: &str) -> Self {
        let scale = wire.scale();
        let credits = wire.credits.unwrap_or(0);
        let display_value = wire.display.as_ref().and_then(|d| {
            let currency =
                Currency::from_api(d.currency.as_deref().or(wire.display_currency.as_deref())?);
            if currency == Currency::usd() {
                return None;
            }
            let minor = minor_from_major(d.amount_major.as_ref()?, currency.exponent()).ok()??;
            Some(Money::of(&minor, &currency))
        });
        Self {
            customer_ref: present(wire.customer_ref).unwrap_or_else(|| customer.to_owned()),
            credits,
            credits_per_minor_unit: scale,
            value: credit_value(credits, scale),
            display_value,
        }
    }
}

/// `GrantCustomerCreditsRequest`.
#[derive(Debug, Clone, Serialize)]
pub struct GrantRequest {
    /// Credits to add (> 0).
    pub credits: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GrantCustomerCreditsResponse`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantWire {
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub customer_ref: Option<String>,
    /// Credits granted.
    #[serde(default, deserialize_with = "minor_units")]
    pub credits: Option<i64>,
    /// Balance after the grant, in credits.
    #[serde(default, deserialize_with = "minor_units")]
    pub balance: Option<i64>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `ActivatePlanDto`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivateRequest {
    pub customer_ref: String,
    pub product_ref: String,
    pub plan_ref: String,
}

/// What SolvaPay answered an activation (`ActivatePlanResponseDto.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivationStatus {
    /// The plan is now active: `purchaseRef` names the purchase.
    Activated,
    /// The customer already had this plan: nothing changed.
    AlreadyActive,
    /// A credit-based plan and too few credits: top up (grant_credits, or a checkout) first.
    TopupRequired,
    /// A paid plan: the customer must pay first (`checkoutUrl`).
    PaymentRequired,
    /// SolvaPay refused the combination (see `message`).
    Invalid,
    /// A status this server does not know (see `message`).
    Unknown,
}

impl ActivationStatus {
    fn read(raw: Option<&str>) -> Self {
        match raw.map(str::trim) {
            Some("activated") => Self::Activated,
            Some("already_active") => Self::AlreadyActive,
            Some("topup_required") => Self::TopupRequired,
            Some("payment_required") => Self::PaymentRequired,
            Some("invalid") => Self::Invalid,
            _ => Self::Unknown,
        }
    }
}

/// `ActivatePlanResponseDto`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivationWire {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub purchase_ref: Option<String>,
    #[serde(default)]
    pub checkout_url: Option<String>,
    #[serde(default)]
    pub checkout_session_id: Option<String>,
    /// Credits (mils).
    #[serde(default, deserialize_with = "minor_units")]
    pub credit_balance: Option<i64>,
    #[serde(default, deserialize_with = "minor_units")]
    pub credits_per_unit: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The outcome of a plan activation.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Activation {
    pub status: ActivationStatus,
    /// The customer's purchase of the plan (activated, already active).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_ref: Option<String>,
    /// Where the customer pays or tops up (payment or top-up required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_session_id: Option<String>,
    /// The customer's credits (mils), for credit-based plans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_balance: Option<i64>,
    /// What those credits are worth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_value: Option<Money>,
    /// Credits one usage unit costs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_per_unit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl From<ActivationWire> for Activation {
    fn from(w: ActivationWire) -> Self {
        Self {
            status: ActivationStatus::read(w.status.as_deref()),
            purchase_ref: present(w.purchase_ref),
            checkout_url: present(w.checkout_url),
            checkout_session_id: present(w.checkout_session_id),
            credit_value: w
                .credit_balance
                .map(|c| credit_value(c, DEFAULT_CREDITS_PER_MINOR_UNIT)),
            credit_balance: w.credit_balance,
            credits_per_unit: w.credits_per_unit,
            message: present(w.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credits_are_worth_their_scale_in_usd_rounded_not_truncated() {
        assert_eq!(credit_value(4200, 100).formatted, "$0.42");
        assert_eq!(credit_value(150, 100).amount, 2);
        assert_eq!(credit_value(149, 100).amount, 1);
        assert_eq!(credit_value(-150, 100).amount, -2);
        assert_eq!(credit_value(i64::MAX, 1).amount, i64::MAX);
        assert_eq!(credit_value(7, 0).amount, 7);
    }

    #[test]
    fn a_balance_reads_leniently() {
        let wire: CustomerBalanceWire = serde_json::from_value(json!({
            "customerRef": "cus_A", "credits": "4200", "creditsPerMinorUnit": 100.0,
            "displayCurrency": "EUR", "displayExchangeRate": 0.9,
            "display": {"amountMajor": 0.38, "currency": "EUR", "formatted": "€0.38",
                        "exchangeRate": 0.9, "rateSource": "db"}
        }))
        .unwrap();
        let b = CustomerBalance::new(wire, "cus_A");
        assert_eq!((b.credits, b.value.amount), (4200, 42));
        assert_eq!(b.display_value.unwrap().formatted, "€0.38");
        let nulls: CustomerBalanceWire =
            serde_json::from_value(json!({"credits": null, "creditsPerMinorUnit": null})).unwrap();
        let b = CustomerBalance::new(nulls, "cus_B");
        assert_eq!(
            (b.customer_ref.as_str(), b.credits, b.credits_per_minor_unit),
            ("cus_B", 0, 100)
        );
    }

    #[test]
    fn every_activation_status_is_typed() {
        for (raw, status) in [
            ("activated", ActivationStatus::Activated),
            ("already_active", ActivationStatus::AlreadyActive),
            ("topup_required", ActivationStatus::TopupRequired),
            ("payment_required", ActivationStatus::PaymentRequired),
            ("invalid", ActivationStatus::Invalid),
            ("later", ActivationStatus::Unknown),
        ] {
            let w: ActivationWire = serde_json::from_value(json!({"status": raw})).unwrap();
            assert_eq!(Activation::from(w).status, status);
        }
    }
}
