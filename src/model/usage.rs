//! Usage events: the closed input enums, the wire body of `POST /v1/sdk/usages` (and `/bulk`), what
//! SolvaPay answers, and the deterministic idempotency key every event is sent with.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CustomerRef, ProductRef};

// How the metered action ended (`failure`, used in SolvaPay's docs, is accepted as `fail`).
// No doc comments on these input enums or their variants: they would land in every tool schema
// (and turn the plain `enum` into a verbose `oneOf`); the fields that use them carry the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    #[default]
    Success,
    Paywall,
    #[serde(alias = "failure")]
    Fail,
}

// What one unit measures (default `api_call`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionType {
    Transaction,
    #[default]
    ApiCall,
    Hour,
    Email,
    Storage,
    Custom,
}

impl ActionType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transaction => "transaction",
            Self::ApiCall => "api_call",
            Self::Hour => "hour",
            Self::Email => "email",
            Self::Storage => "storage",
            Self::Custom => "custom",
        }
    }
}

impl Outcome {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Paywall => "paywall",
            Self::Fail => "fail",
        }
    }
}

/// `metadata` of a usage event (the SDK's paywall sends exactly these two).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    /// The caller's action name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The caller's request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// What one event says, as sent to SolvaPay (everything but its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageBody {
    pub customer_ref: CustomerRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_ref: Option<ProductRef>,
    /// What a unit measures.
    pub action_type: ActionType,
    /// Units consumed (0–100000).
    pub units: i64,
    /// How the action ended.
    pub outcome: Outcome,
    /// Duration in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    /// Always sent, like the SDK does.
    pub metadata: UsageMetadata,
    /// RFC 3339, millisecond precision, UTC.
    pub timestamp: String,
}

/// One event as sent to SolvaPay (single body, or one item of the bulk `events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageEvent {
    #[serde(flatten)]
    pub body: UsageBody,
    /// SolvaPay deduplicates events by this key.
    pub idempotency_key: String,
}

/// The hash of everything that defines an event in one call, before its occurrence is counted
/// (see [`UsageBody::identity`]). Equal identities are identical events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventIdentity(u128);

impl EventIdentity {
    /// The key of the `occurrence`-th (from 0) event of this identity in its call.
    pub fn key(self, occurrence: usize) -> String {
        format!("mcp-{:032x}", fnv1a_128(self.0, &[&occurrence.to_string()]))
    }
}

impl UsageBody {
    /// What the derived key of an event without `requestId` is made from.
    ///
    /// FNV-1a (128 bit, stable across builds) over customer, product, action type, units, outcome,
    /// action, duration, the timestamp and `call` (which tool call this is: the server process and
    /// the JSON-RPC request id; empty when the caller gave the timestamp, which then identifies the
    /// event across calls); [`EventIdentity::key`] adds the occurrence (how many identical events
    /// precede this one in the same call). So:
    /// - every HTTP attempt of a call, and every retried bulk chunk, carries the same keys: SolvaPay
    ///   reports repeats as duplicates instead of counting them twice;
    /// - two identical events in one bulk call differ by occurrence, and two separate calls differ
    ///   by `call`, so genuine repeats are never merged (no usage is lost);
    /// - a model that repeats a call without `requestId` records it again: that is why `requestId`
    ///   is recommended, and why results return the key of every event whose fate is unknown.
    pub fn identity(&self, call: &str) -> EventIdentity {
        let parts = [
            "usage/v2",
            self.customer_ref.as_str(),
            self.product_ref.as_ref().map_or("", ProductRef::as_str),
            self.action_type.as_str(),
            &self.units.to_string(),
            self.outcome.as_str(),
            self.metadata.action.as_deref().unwrap_or(""),
            &self.duration.map(|d| d.to_string()).unwrap_or_default(),
            &self.timestamp,
            call,
        ];
        EventIdentity(fnv1a_128(FNV_OFFSET, &parts))
    }

    /// When `answer` is a duplicate describing the earlier event and that event is not this one:
    /// the conflict.
    ///
    /// What identifies an event is what is billed: customer, product, action type, units and
    /// outcome. The timestamp is not compared (a repeat of a call without one is stamped anew, and
    /// SolvaPay may shift it), nor are `action`, `duration` and other metadata (they describe the
    /// event, they do not change what is counted).
    pub fn conflict_with(&self, answer: &UsageWire) -> Option<UsageConflict> {
        let earlier = answer.event.as_ref().filter(|_| answer.is_duplicate())?;
        let product = self.product_ref.as_ref().map(ProductRef::as_str);
        let fields: Vec<&'static str> = [
            (
                "customerRef",
                earlier.customer_ref == self.customer_ref.as_str(),
            ),
            ("productRef", earlier.product_ref.as_deref() == product),
            (
                "actionType",
                earlier.action_type == self.action_type.as_str(),
            ),
            ("units", earlier.units == self.units),
            ("outcome", earlier.outcome == self.outcome.as_str()),
        ]
        .into_iter()
        .filter_map(|(field, same)| (!same).then_some(field))
        .collect();
        (!fields.is_empty()).then(|| UsageConflict {
            earlier: earlier.clone(),
            fields,
            sent: describe(
                self.customer_ref.as_str(),
                product,
                self.units,
                self.action_type.as_str(),
                self.outcome.as_str(),
            ),
        })
    }
}

/// `Some` when the value reads as a `T`; anything else is as good as absent.
fn lenient<'de, D: serde::Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

const FNV_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;

/// FNV-1a, 128 bit, from `hash` over `parts`, each followed by a unit separator byte.
fn fnv1a_128(mut hash: u128, parts: &[&str]) -> u128 {
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0x1f)) {
            hash ^= u128::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

/// Why SolvaPay debited nothing, in one wording for every tool: `None` for the reasons that need
/// no warning (`duplicate` is reported as such; `no_product_ref` and `plan_not_credit_based` are
/// how events of plans without credits are recorded).
pub fn skip_warning(reason: &str) -> Option<&'static str> {
    match reason {
        "customer_not_found" => Some("SolvaPay knows no such customer"),
        "no_active_purchase" => Some("the customer has no active purchase for this product"),
        _ => None,
    }
}

/// `creditDebit` of a usage answer, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CreditDebitWire {
    pub debited: Option<bool>,
    /// Credits.
    #[serde(deserialize_with = "crate::model::money::count")]
    pub amount: Option<i64>,
    #[serde(deserialize_with = "crate::model::money::count")]
    pub units_remaining: Option<i64>,
    pub reason: Option<String>,
    pub auto_recharge: Option<Value>,
}

impl CreditDebitWire {
    /// True when SolvaPay recognised the idempotency key.
    pub fn is_duplicate(&self) -> bool {
        self.reason.as_deref() == Some("duplicate")
    }
}

/// A credit debit, or why none happened.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditDebit {
    pub debited: bool,
    /// Credits debited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// Units the remaining balance still covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units_remaining: Option<i64>,
    /// Why nothing was debited, e.g. duplicate, customer_not_found, no_active_purchase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When an auto-recharge was triggered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_recharge: Option<Value>,
}

impl From<CreditDebitWire> for CreditDebit {
    fn from(w: CreditDebitWire) -> Self {
        Self {
            debited: w.debited.unwrap_or(false),
            amount: w.amount,
            units_remaining: w.units_remaining,
            reason: w.reason,
            auto_recharge: w.auto_recharge.filter(|v| !v.is_null()),
        }
    }
}

impl CreditDebit {
    /// A warning when the event is not billed as the caller probably expects.
    pub fn warning(&self) -> Option<String> {
        if let Some((reason, why)) = self
            .reason
            .as_deref()
            .and_then(|r| Some((r, skip_warning(r)?)))
        {
            return Some(format!("{reason}: {why}; nothing was debited"));
        }
        (self.debited && self.units_remaining.is_some_and(|u| u <= 0))
            .then(|| "the customer's credit balance is used up".to_owned())
    }
}

/// Answer of `POST /v1/sdk/usages` (and one result of the bulk route).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageWire {
    /// SolvaPay's success flag.
    #[serde(default = "yes")]
    pub success: bool,
    /// Usage record reference (`usage_…`).
    #[serde(default)]
    pub reference: Option<String>,
    /// Credit debit, when the plan is credit based (unreadable = none).
    #[serde(default, deserialize_with = "lenient")]
    pub credit_debit: Option<CreditDebitWire>,
    /// For a duplicate: the event stored earlier under the same key, when the answer says (the
    /// local sandbox does; SolvaPay's documented answer does not, see [`StoredUsageWire`]). An
    /// unreadable description counts as none: it must not sink the answer.
    #[serde(default, deserialize_with = "lenient")]
    pub event: Option<StoredUsageWire>,
}

impl UsageWire {
    /// True when SolvaPay recognised the idempotency key.
    pub fn is_duplicate(&self) -> bool {
        self.credit_debit
            .as_ref()
            .is_some_and(CreditDebitWire::is_duplicate)
    }
}

// SolvaPay answers a repeated `idempotencyKey` with 200, the first call's `reference` and
// `creditDebit.reason: "duplicate"`, and is silent on a repeat whose body differs (BEHAVIOUR §4.3:
// the first event wins; nothing in CONTRACT, EVIDENCE or openapi.json's `UsageRecordResponse` says
// more). So a reused `requestId` would silently drop a different event. The local sandbox
// therefore adds the stored event to its duplicate answer (`event`), and the tools compare it with
// what they sent (`UsageBody::conflict_with`); against an answer without it, a duplicate stays a
// duplicate.
/// The event stored first under a key, as the duplicate answer describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredUsageWire {
    #[serde(default)]
    pub reference: Option<String>,
    pub customer_ref: String,
    #[serde(default)]
    pub product_ref: Option<String>,
    pub action_type: String,
    pub units: i64,
    pub outcome: String,
    #[serde(default)]
    pub timestamp: Option<String>,
}

/// The event stored first under the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredUsage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub customer_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_ref: Option<String>,
    pub action_type: String,
    pub units: i64,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl From<StoredUsageWire> for StoredUsage {
    fn from(w: StoredUsageWire) -> Self {
        Self {
            reference: w.reference,
            customer_ref: w.customer_ref,
            product_ref: w.product_ref,
            action_type: w.action_type,
            units: w.units,
            outcome: w.outcome,
            timestamp: w.timestamp,
        }
    }
}

impl StoredUsageWire {
    /// "usage_X: customer cus_A, product prd_B, 3 units (api_call, success) at 2026-…".
    pub fn describe(&self) -> String {
        let at = self
            .timestamp
            .as_deref()
            .map(|t| format!(" at {t}"))
            .unwrap_or_default();
        format!(
            "{}: {}{at}",
            self.reference.as_deref().unwrap_or("no reference"),
            describe(
                &self.customer_ref,
                self.product_ref.as_deref(),
                self.units,
                &self.action_type,
                &self.outcome
            )
        )
    }
}

fn describe(
    customer: &str,
    product: Option<&str>,
    units: i64,
    kind: &str,
    outcome: &str,
) -> String {
    let unit = if units == 1 { "unit" } else { "units" };
    format!(
        "customer {customer}, product {}, {units} {unit} ({kind}, {outcome})",
        product.unwrap_or("none")
    )
}

/// A key already used by a different event: what was stored first, and where the new one differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageConflict {
    /// The event stored under the key.
    pub earlier: StoredUsageWire,
    /// The identifying fields that differ (`customerRef`, `units`, …).
    pub fields: Vec<&'static str>,
    /// The event just sent, described like [`StoredUsageWire::describe`].
    pub sent: String,
}

impl UsageConflict {
    /// One sentence naming both events.
    pub fn describe(&self, key: &str) -> String {
        format!(
            "{key:?} was already used for a different event ({}): {}. This event ({}) was not recorded; give it its own requestId",
            self.fields.join(", "),
            self.earlier.describe(),
            self.sent
        )
    }
}

/// Answer of `POST /v1/sdk/usages/bulk`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkUsageWire {
    /// Newly stored events.
    #[serde(default, deserialize_with = "crate::model::money::count")]
    pub inserted: Option<u64>,
    /// One result per event, in input order.
    #[serde(default)]
    pub results: Vec<UsageWire>,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> UsageBody {
        UsageBody {
            customer_ref: CustomerRef::parse("customerRef", "cus_X7Y8Z9W0").unwrap(),
            product_ref: Some(ProductRef::parse("productRef", "prd_P9Q0R1S2").unwrap()),
            action_type: ActionType::ApiCall,
            units: 1,
            outcome: Outcome::Success,
            duration: None,
            metadata: UsageMetadata::default(),
            timestamp: "2026-02-11T10:00:00Z".into(),
        }
    }

    #[test]
    fn derived_keys_are_stable_and_distinguish_what_matters() {
        let key = event().identity("call-1").key(0);
        assert_eq!(key, event().identity("call-1").key(0));
        assert_ne!(
            key,
            event().identity("call-2").key(0),
            "separate calls never share a key"
        );
        assert_eq!(key.len(), 36);
        assert!(key.starts_with("mcp-") && key.is_ascii());
        assert_ne!(key, event().identity("call-1").key(1));
        let mut later = event();
        later.timestamp = "2026-02-11T10:00:01Z".into();
        assert_ne!(key, later.identity("call-1").key(0));
        let mut more = event();
        more.units = 2;
        assert_ne!(key, more.identity("call-1").key(0));
        // The action is part of it.
        let mut shifted = event();
        shifted.metadata.action = Some("a".into());
        let mut other = event();
        other.metadata.action = Some(String::new());
        assert_ne!(shifted.identity("").key(0), other.identity("").key(0));
    }

    #[test]
    fn the_body_goes_out_flat_with_its_key_and_string_references() {
        let sent = serde_json::to_value(UsageEvent {
            body: event(),
            idempotency_key: "k1".into(),
        })
        .unwrap();
        assert_eq!(sent["customerRef"], "cus_X7Y8Z9W0");
        assert_eq!(sent["productRef"], "prd_P9Q0R1S2");
        assert_eq!(sent["idempotencyKey"], "k1");
        assert_eq!(sent["metadata"], serde_json::json!({}));
    }

    #[test]
    fn credit_debits_are_read_leniently_and_warn_in_one_wording() {
        let read = |v: Value| -> UsageWire { serde_json::from_value(v).unwrap() };
        let odd = read(serde_json::json!({"reference": "usage_A", "creditDebit": "yes"}));
        assert!(odd.credit_debit.is_none() && odd.success);
        let missing = read(serde_json::json!({
            "creditDebit": {"debited": false, "reason": "customer_not_found", "autoRecharge": null}
        }));
        let debit = CreditDebit::from(missing.credit_debit.unwrap());
        assert_eq!(debit.auto_recharge, None);
        assert_eq!(
            debit.warning().unwrap(),
            "customer_not_found: SolvaPay knows no such customer; nothing was debited"
        );
        let spent = CreditDebit::from(CreditDebitWire {
            debited: Some(true),
            units_remaining: Some(0),
            ..CreditDebitWire::default()
        });
        assert!(spent.warning().unwrap().contains("used up"));
        let other = CreditDebit::from(CreditDebitWire {
            reason: Some("plan_not_credit_based".into()),
            ..CreditDebitWire::default()
        });
        assert_eq!(other.warning(), None);
    }

    fn duplicate_of(earlier: Value) -> UsageWire {
        serde_json::from_value(serde_json::json!({
            "success": true, "reference": "usage_FIRST",
            "creditDebit": {"debited": false, "reason": "duplicate"},
            "event": earlier
        }))
        .unwrap()
    }

    #[test]
    fn a_duplicate_of_another_event_is_a_conflict() {
        let same = serde_json::json!({
            "reference": "usage_FIRST", "customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2",
            "actionType": "api_call", "units": 1, "outcome": "success",
            "timestamp": "2026-02-11T09:00:00.000Z"
        });
        assert_eq!(event().conflict_with(&duplicate_of(same.clone())), None);
        let mut other = same.clone();
        other["customerRef"] = "cus_OTHER".into();
        other["units"] = 3.into();
        let conflict = event().conflict_with(&duplicate_of(other)).unwrap();
        assert_eq!(conflict.fields, ["customerRef", "units"]);
        let text = conflict.describe("req-1");
        for part in [
            "usage_FIRST",
            "cus_OTHER",
            "3 units",
            "2026-02-11T09:00:00.000Z",
            "cus_X7Y8Z9W0, product prd_P9Q0R1S2, 1 unit",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
        let mut no_product = same;
        no_product.as_object_mut().unwrap().remove("productRef");
        assert_eq!(
            event()
                .conflict_with(&duplicate_of(no_product))
                .unwrap()
                .fields,
            ["productRef"]
        );
        // An answer that does not describe the earlier event, or describes it unreadably, cannot
        // be checked: a plain duplicate.
        assert_eq!(event().conflict_with(&duplicate_of(Value::Null)), None);
        let garbled = duplicate_of(serde_json::json!({"units": "many"}));
        assert!(garbled.event.is_none() && garbled.is_duplicate());
    }

    #[test]
    fn failure_is_fail() {
        let o: Outcome = serde_json::from_str("\"failure\"").unwrap();
        assert_eq!(o, Outcome::Fail);
        assert_eq!(serde_json::to_string(&o).unwrap(), "\"fail\"");
    }
}
