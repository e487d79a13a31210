//! Transactions (dashboard `TransactionResponse`, read leniently), stats, refund arithmetic, and the
//! ISO 8601 date filters the transaction tools take.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::FieldError;
pub use super::dates::{IsoDate, check_range};
use super::money::{Currency, Money, minor_units};

// A transaction status. As a filter it is closed; read from SolvaPay ([`TransactionStatus::read`])
// an unknown value is `None` and the text is kept as sent. (No doc comment: it would become the
// filter's schema description; the field carries the docs.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransactionStatus {
    Initiated,
    Completed,
    Failed,
    Cancelled,
    Refunded,
}

impl TransactionStatus {
    const ALL: [Self; 5] = [
        Self::Initiated,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
        Self::Refunded,
    ];

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
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
}

/// The transaction types this server asks for by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionKind {
    /// A refund (`type: refund`).
    Refund,
}

impl TransactionKind {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refund => "refund",
        }
    }
}

/// A transaction as SolvaPay sends it. Every field is optional: this is an internal route.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionWire {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub r#type: Option<String>,
    /// Same as `type` (the API sends both; either may be missing).
    #[serde(default)]
    pub transaction_type: Option<String>,
    #[serde(default, deserialize_with = "minor_units")]
    pub amount: Option<i64>,
    #[serde(default, deserialize_with = "minor_units")]
    pub fee: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "minor_units")]
    pub original_amount: Option<i64>,
    #[serde(default)]
    pub provider_currency: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub external_transaction_id: Option<String>,
    #[serde(default)]
    pub from_entity_type: Option<String>,
    #[serde(default)]
    pub from_entity_name: Option<String>,
    #[serde(default)]
    pub to_entity_type: Option<String>,
    #[serde(default)]
    pub to_entity_name: Option<String>,
    #[serde(default)]
    pub product_id: Option<String>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    #[serde(default)]
    pub created_at: Option<String>,
}

impl TransactionWire {
    /// `type`, else `transactionType`.
    pub fn kind(&self) -> Option<&str> {
        self.r#type.as_deref().or(self.transaction_type.as_deref())
    }

    /// True when SolvaPay says this is a refund.
    pub fn is_refund(&self) -> bool {
        self.kind()
            .is_some_and(|k| k.eq_ignore_ascii_case(TransactionKind::Refund.as_str()))
    }

    /// The status, read once: `Ok(None)` when SolvaPay sent none, `Err(text)` for one we do not know.
    pub fn state(&self) -> Result<Option<TransactionStatus>, &str> {
        match self.status.as_deref() {
            None => Ok(None),
            Some(raw) => TransactionStatus::read(raw).map(Some).ok_or(raw),
        }
    }

    /// The internal id the refund route wants (`id`, else `transactionId`, else the reference).
    pub fn internal_id(&self) -> Option<&str> {
        self.id
            .as_deref()
            .or(self.transaction_id.as_deref())
            .or(self.reference.as_deref())
    }

    /// The one name of this payment whichever way it was looked up: its `txn_…` reference, else its
    /// internal id.
    pub fn canonical_ref(&self) -> Option<&str> {
        self.reference
            .as_deref()
            .or(self.id.as_deref())
            .or(self.transaction_id.as_deref())
    }

    /// True when `key` is this transaction's reference or id.
    pub fn matches(&self, key: &str) -> bool {
        [&self.reference, &self.id, &self.transaction_id]
            .iter()
            .any(|v| v.as_deref() == Some(key))
    }

    /// The currency of `originalAmount` (and of refunds).
    pub fn currency(&self) -> Currency {
        self.currency
            .as_deref()
            .map_or_else(Currency::usd, Currency::from_api)
    }

    /// The currency `amount` and `fee` are in (the provider's).
    fn amount_currency(&self) -> Currency {
        self.provider_currency
            .as_deref()
            .map(Currency::from_api)
            .unwrap_or_else(|| self.currency())
    }

    /// What a full refund returns, in [`Self::currency`].
    pub fn refundable_base(&self) -> i64 {
        self.original_amount.or(self.amount).unwrap_or(0).abs()
    }

    /// `metadata.<key>` as minor units, when present.
    pub fn metadata_amount(&self, key: &str) -> Option<i64> {
        let v = self.metadata.as_ref()?.get(key)?;
        super::money::whole_from_value(v).ok().flatten()
    }

    /// `metadata.<key>` as text, when present.
    pub fn metadata_text(&self, key: &str) -> Option<&str> {
        self.metadata.as_ref()?.get(key)?.as_str()
    }
}

/// A transaction in a tool result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// Reference, e.g. txn_D7E8F9G0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Internal id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// payment, refund, …
    pub r#type: String,
    /// initiated (pending), completed, failed, cancelled or refunded.
    pub status: String,
    /// In the provider currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// Processing fee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee: Option<Money>,
    /// Amount in the charge currency, when that differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_amount: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Payment processor id (pi_…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_transaction_id: Option<String>,
    /// Payer, e.g. "customer: Jane Smith".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Payee, e.g. "product: support-bot".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

fn party(kind: Option<String>, name: Option<String>) -> Option<String> {
    match (kind, name) {
        (Some(k), Some(n)) => Some(format!("{k}: {n}")),
        (k, n) => k.or(n),
    }
}

impl From<TransactionWire> for Transaction {
    fn from(w: TransactionWire) -> Self {
        let cur = w.amount_currency();
        let charge = w.currency();
        let original_amount = w
            .original_amount
            .filter(|_| charge != cur)
            .map(|a| Money::new(a, &charge));
        Self {
            amount: w.amount.map(|a| Money::new(a, &cur)),
            fee: w.fee.filter(|f| *f != 0).map(|f| Money::new(f, &cur)),
            original_amount,
            reference: w.reference,
            id: w.id.or(w.transaction_id),
            r#type: w
                .r#type
                .or(w.transaction_type)
                .unwrap_or_else(|| "unknown".into()),
            status: w.status.unwrap_or_else(|| "unknown".into()),
            description: w.description,
            external_transaction_id: w.external_transaction_id,
            from: party(w.from_entity_type, w.from_entity_name),
            to: party(w.to_entity_type, w.to_entity_name),
            product_id: w.product_id,
            metadata: w.metadata.filter(|m| !m.is_empty()),
            created_at: w.created_at,
        }
    }
}

/// `#[serde(deserialize_with = "count")]`: [`super::money::count`], absent (null) being 0.
pub fn count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    super::money::count(d).map(Option::unwrap_or_default)
}

/// `TransactionStatsResponse`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsWire {
    #[serde(default, deserialize_with = "count")]
    pub total: u64,
    #[serde(default, deserialize_with = "minor_units")]
    pub total_amount: Option<i64>,
    #[serde(default, deserialize_with = "count")]
    pub completed_transactions: u64,
    #[serde(default, deserialize_with = "count")]
    pub pending_transactions: u64,
    #[serde(default, deserialize_with = "count")]
    pub failed_transactions: u64,
    #[serde(default, deserialize_with = "count")]
    pub cancelled_transactions: u64,
    #[serde(default, deserialize_with = "object")]
    pub by_type: Map<String, Value>,
    #[serde(default, deserialize_with = "object")]
    pub by_currency: Map<String, Value>,
}

/// An object, or nothing (null or any other value).
fn object<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    })
}

impl StatsWire {
    /// Refund transactions: `byType.refund` (a count, or `{count}`), else what no status count covers.
    pub fn refunded(&self) -> u64 {
        let by_type = self.by_type.get("refund").and_then(|v| {
            v.as_u64()
                .or_else(|| v.get("count").and_then(Value::as_u64))
        });
        by_type.unwrap_or_else(|| {
            self.total.saturating_sub(
                self.completed_transactions
                    + self.pending_transactions
                    + self.failed_transactions
                    + self.cancelled_transactions,
            )
        })
    }
}

fn not_refundable(name: &str, status: &str) -> FieldError {
    FieldError::new(
        "sourceTransactionRef",
        format!("{name} is not refundable (status: {status}); only completed payments are"),
    )
}

/// A refund checked against what the source transaction can still give back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundPlan {
    /// Minor units to refund.
    pub amount: i64,
    /// The source's full amount.
    pub base: i64,
    /// Refunded before this one.
    pub already: i64,
    /// The source's currency.
    pub currency: Currency,
}

impl RefundPlan {
    /// Checks `requested` (omitted = everything left) against `source` and the `already` refunded.
    pub fn new(
        source: &TransactionWire,
        already: i64,
        requested: Option<i64>,
    ) -> Result<Self, FieldError> {
        let field = "sourceTransactionRef";
        let name = source.reference.as_deref().unwrap_or("the transaction");
        if source.is_refund() {
            return Err(FieldError::new(field, format!("{name} is itself a refund")));
        }
        match source.state() {
            Ok(Some(TransactionStatus::Completed) | None) => {}
            Ok(Some(TransactionStatus::Refunded)) => {
                return Err(FieldError::new(
                    field,
                    format!("{name} is already fully refunded"),
                ));
            }
            Ok(Some(other)) => return Err(not_refundable(name, other.as_str())),
            Err(raw) => return Err(not_refundable(name, raw)),
        }
        let currency = source.currency();
        let base = source.refundable_base();
        let remaining = base - already;
        if remaining <= 0 {
            return Err(FieldError::new(
                field,
                format!(
                    "{name} is already fully refunded ({} of {})",
                    currency.format(already),
                    currency.format(base)
                ),
            ));
        }
        let amount = requested.unwrap_or(remaining);
        if amount <= 0 {
            return Err(FieldError::new(
                "amount",
                format!("must be a positive number of minor units (got {amount})"),
            ));
        }
        if amount > remaining {
            return Err(FieldError::new(
                "amount",
                format!(
                    "{} ({amount}) exceeds the refundable {} ({remaining}): original {}, already refunded {}",
                    currency.format(amount),
                    currency.format(remaining),
                    currency.format(base),
                    currency.format(already)
                ),
            ));
        }
        Ok(Self {
            amount,
            base,
            already,
            currency,
        })
    }

    /// True when part of the original stays refundable after this refund.
    pub fn partial(&self) -> bool {
        self.remaining_after() > 0
    }

    /// What stays refundable afterwards.
    pub fn remaining_after(&self) -> i64 {
        self.base - self.already - self.amount
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(amount: i64, status: &str) -> TransactionWire {
        TransactionWire {
            reference: Some("txn_D7E8F9G0".into()),
            r#type: Some("payment".into()),
            amount: Some(amount),
            currency: Some("usd".into()),
            status: Some(status.into()),
            ..TransactionWire::default()
        }
    }

    #[test]
    fn refund_plans() {
        let full = RefundPlan::new(&payment(5000, "completed"), 0, None).unwrap();
        assert_eq!(
            (full.amount, full.partial(), full.remaining_after()),
            (5000, false, 0)
        );
        let rest = RefundPlan::new(&payment(5000, "completed"), 2000, None).unwrap();
        assert_eq!((rest.amount, rest.partial()), (3000, false));
        let part = RefundPlan::new(&payment(5000, "completed"), 0, Some(2500)).unwrap();
        assert_eq!(
            (part.amount, part.partial(), part.remaining_after()),
            (2500, true, 2500)
        );
        for (already, amount) in [
            (0, Some(5001)),
            (0, Some(0)),
            (0, Some(-1)),
            (4000, Some(1001)),
        ] {
            assert_eq!(
                RefundPlan::new(&payment(5000, "completed"), already, amount)
                    .unwrap_err()
                    .field,
                "amount"
            );
        }
        let done = RefundPlan::new(&payment(5000, "completed"), 5000, None).unwrap_err();
        assert_eq!(done.field, "sourceTransactionRef");
        assert!(RefundPlan::new(&payment(5000, "failed"), 0, None).is_err());
        assert!(RefundPlan::new(&payment(5000, "refunded"), 0, None).is_err());
    }

    #[test]
    fn lenient_wire_and_refunded_count() {
        let w: TransactionWire = serde_json::from_value(serde_json::json!({
            "id": "65a", "transactionType": "payment", "amount": 5000.0, "currency": "usd", "status": "completed"
        }))
        .unwrap();
        let t = Transaction::from(w);
        assert_eq!(t.amount.unwrap().formatted, "$50.00");
        assert_eq!(t.r#type, "payment");
        let s: StatsWire = serde_json::from_value(serde_json::json!({
            "total": 84, "completedTransactions": 79, "failedTransactions": 3, "byType": {"payment": 82, "refund": 2}
        }))
        .unwrap();
        assert_eq!(s.refunded(), 2);
        let s = StatsWire {
            total: 10,
            completed_transactions: 7,
            ..StatsWire::default()
        };
        assert_eq!(s.refunded(), 3);
    }

    #[test]
    fn odd_but_legal_transactions() {
        let read =
            |v: Value| Transaction::from(serde_json::from_value::<TransactionWire>(v).unwrap());
        let t = read(
            serde_json::json!({"reference": "txn_A", "amount": "4900", "currency": "eur", "status": "settling"}),
        );
        assert_eq!(t.amount.as_ref().unwrap().formatted, "€49.00");
        assert_eq!(
            (t.status.as_str(), t.r#type.as_str()),
            ("settling", "unknown")
        );
        let t = read(serde_json::json!({"reference": "txn_A", "amount": null}));
        assert!(t.amount.is_none(), "absent, not $0.00");
        assert_eq!(
            read(serde_json::json!({"amount": 4900.0}))
                .amount
                .unwrap()
                .currency,
            "USD"
        );
        let v = serde_json::to_value(read(serde_json::json!({"reference": "txn_A"}))).unwrap();
        assert!(!v.to_string().contains("null"), "{v}");
    }

    #[test]
    fn an_unknown_status_is_refused_by_name_and_case_does_not_matter() {
        let err = RefundPlan::new(&payment(5000, "on_hold"), 0, None).unwrap_err();
        assert!(err.message.contains("status: on_hold"), "{}", err.message);
        assert!(RefundPlan::new(&payment(5000, "Completed"), 0, None).is_ok());
        let mut refund = payment(5000, "completed");
        refund.r#type = Some("Refund".into());
        assert!(RefundPlan::new(&refund, 0, None).is_err());
    }

    #[test]
    fn stats_counts_are_read_leniently() {
        let s: StatsWire = serde_json::from_value(serde_json::json!({
            "total": 84.0, "totalAmount": "387100", "completedTransactions": null, "byType": null
        }))
        .unwrap();
        assert_eq!(
            (s.total, s.total_amount, s.completed_transactions),
            (84, Some(387_100), 0)
        );
        assert!(s.by_type.is_empty());
    }
}
