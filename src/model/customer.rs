//! Customer shapes: what SolvaPay sends (`CustomerWire`, read leniently), what a tool answers
//! (`Customer`, built from it by one `From`), and the request bodies.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::money::{Currency, Minor, Money, exact_minor};
use super::present;

/// A customer as SolvaPay sends it (`CustomerResponse`). Only `reference` is required: it names
/// the customer, and it tells a customer from a list wrapper in the list bodies.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerWire {
    pub reference: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
    #[serde(default)]
    pub telephone: Option<String>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// The list route's derived status (`active` = has an active purchase).
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "super::rows::embedded")]
    pub purchases: Option<Vec<PurchaseInfoWire>>,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A purchase as embedded in a customer (`PurchaseInfo`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseInfoWire {
    pub reference: String,
    #[serde(default)]
    pub product_name: Option<String>,
    #[serde(default)]
    pub product_ref: Option<String>,
    #[serde(default)]
    pub plan_ref: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub cancelled_at: Option<String>,
    /// USD cents: SolvaPay normalises purchase amounts to USD (CONTRACT "Money").
    #[serde(default, deserialize_with = "exact_minor")]
    pub amount: Option<Minor>,
}

impl CustomerWire {
    /// True when this customer's email is `email` (compared without case).
    pub fn has_email(&self, email: &str) -> bool {
        self.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    }
}

/// A customer.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// e.g. cus_A1B2C3D4.
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Your own ID for the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// active = has an active purchase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Active purchases.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub purchases: Vec<PurchaseInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// An active purchase.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseInfo {
    /// e.g. pur_T3U4V5W6.
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_ref: Option<String>,
    /// active, trialing, cancelled, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// In USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// End of access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<String>,
}

impl From<PurchaseInfoWire> for PurchaseInfo {
    fn from(w: PurchaseInfoWire) -> Self {
        Self {
            reference: w.reference,
            product_name: present(w.product_name),
            product_ref: present(w.product_ref),
            plan_ref: present(w.plan_ref),
            status: present(w.status),
            amount: w.amount.map(|a| Money::of(&a, &Currency::usd())),
            start_date: present(w.start_date),
            end_date: present(w.end_date),
            cancelled_at: present(w.cancelled_at),
        }
    }
}

impl From<CustomerWire> for Customer {
    fn from(w: CustomerWire) -> Self {
        Self {
            reference: w.reference,
            email: present(w.email),
            name: present(w.name),
            external_ref: present(w.external_ref),
            telephone: present(w.telephone),
            metadata: w.metadata.filter(|m| !m.is_empty()),
            status: present(w.status),
            purchases: w
                .purchases
                .unwrap_or_default()
                .into_iter()
                .map(PurchaseInfo::from)
                .collect(),
            created_at: present(w.created_at),
        }
    }
}

/// Body of `POST /v1/sdk/customers`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomer {
    /// Email (required, unique).
    pub email: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E.164 telephone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// Always sent (`{}` when empty): the spec lists it as required.
    pub metadata: Map<String, Value>,
    /// The caller's own ID (free text, not a SolvaPay reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
}

/// Body of `PATCH /v1/sdk/customers/{reference}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCustomer {
    /// New email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New telephone (empty clears it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// New metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

impl UpdateCustomer {
    /// True when no field would change.
    pub fn is_empty(&self) -> bool {
        self.email.is_none()
            && self.name.is_none()
            && self.telephone.is_none()
            && self.metadata.is_none()
    }
}

/// How to find one customer through `GET /v1/sdk/customers?…` (exactly one key).
#[derive(Debug, Clone, Copy)]
pub enum CustomerLookup<'a> {
    /// By the caller's own ID.
    ExternalRef(&'a str),
    /// By email.
    Email(&'a str),
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn customer(body: Value) -> Customer {
        Customer::from(serde_json::from_value::<CustomerWire>(body).unwrap())
    }

    #[test]
    fn a_customer_without_email_or_purchases_is_still_a_customer() {
        let c =
            customer(json!({"reference": "cus_1", "email": null, "name": "", "purchases": null}));
        assert_eq!((c.email, c.name), (None, None));
        assert!(c.purchases.is_empty());
        let out = serde_json::to_value(customer(json!({"reference": "cus_1"}))).unwrap();
        assert_eq!(out, json!({"reference": "cus_1"}));
    }

    #[test]
    fn embedded_purchase_amounts_are_usd_money_or_absent() {
        let c = customer(json!({"reference": "cus_1", "purchases": [
            {"reference": "pur_1", "amount": 4900, "currency": "EUR", "status": "active"},
            {"reference": "pur_2", "amount": "4900.0"},
            {"reference": "pur_3", "amount": 4899.5},
            {"reference": "pur_4", "amount": null, "productName": null},
            null,
            {"reference": "pur_6"}
        ]}));
        let amounts: Vec<Option<&str>> = c
            .purchases
            .iter()
            .map(|p| p.amount.as_ref().map(|m| m.formatted.as_str()))
            .collect();
        assert_eq!(
            amounts,
            [Some("$49.00"), Some("$49.00"), Some("$48.995"), None, None],
            "a null row is no row; a fraction of a cent is kept"
        );
        let text = serde_json::from_value::<CustomerWire>(
            json!({"reference": "cus_1", "purchases": [{"reference": "pur_1", "amount": "lots"}]}),
        );
        assert!(
            text.unwrap_err()
                .to_string()
                .contains("\"lots\" is not a number")
        );
        let first = serde_json::to_value(&c.purchases[0]).unwrap();
        assert_eq!(
            first,
            json!({"reference": "pur_1", "status": "active",
                   "amount": {"amount": 4900, "currency": "USD", "formatted": "$49.00"}})
        );
    }
}
