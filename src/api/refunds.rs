//! Refunds: `POST /v1/ui/transactions/refunds` (dashboard route; no public one exists), and the refunds
//! already made against a transaction.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::transactions::TransactionQuery;
use super::{ApiError, Routes, SolvaPayClient};
use crate::model::Currency;
use crate::model::transaction::{TransactionKind, TransactionStatus, TransactionWire};

/// `RefundTransactionDto`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    /// The source transaction's internal id.
    pub original_transaction_id: String,
    /// Minor units of `currency`.
    pub refund_amount: i64,
    /// The source transaction's currency.
    pub currency: Currency,
    /// Non-empty reason.
    pub reason: String,
    /// Always sent (`{}`).
    pub metadata: Map<String, Value>,
}

/// What the refund route answered: a transaction (flat or wrapped), or only a message.
#[derive(Debug, Clone)]
pub enum RefundAnswer {
    /// The new refund transaction.
    Transaction(Box<TransactionWire>),
    /// No transaction in the answer; SolvaPay's message, if any.
    Message(Option<String>),
}

impl RefundAnswer {
    /// The new refund transaction's reference (or id), when SolvaPay named it.
    pub fn reference(&self) -> Option<String> {
        match self {
            RefundAnswer::Transaction(t) => t.reference.clone().or_else(|| t.id.clone()),
            RefundAnswer::Message(_) => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RefundBody {
    Wrapped {
        #[serde(alias = "data", alias = "refund")]
        transaction: TransactionWire,
    },
    Flat(TransactionWire),
    Text(String),
    Nothing(serde::de::IgnoredAny),
}

impl SolvaPayClient {
    /// `POST /v1/ui/transactions/refunds`. Never retried: refunds carry no idempotency key.
    pub async fn create_refund(&self, body: &RefundRequest) -> Result<RefundAnswer, ApiError> {
        let answer: Value = self
            .send(
                Method::POST,
                Routes::Ui,
                &["transactions", "refunds"],
                &[],
                Some(body),
            )
            .await?;
        let message = answer
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(match serde_json::from_value::<RefundBody>(answer) {
            Ok(RefundBody::Wrapped { transaction: t } | RefundBody::Flat(t))
                if t.reference.is_some() || t.id.is_some() =>
            {
                RefundAnswer::Transaction(Box::new(t))
            }
            Ok(RefundBody::Text(s)) => RefundAnswer::Message(Some(s)),
            _ => RefundAnswer::Message(message),
        })
    }

    /// Minor units already refunded (initiated or completed) against `source`: the larger of its
    /// `metadata.refundedAmount` and the sum of the 100 most recent refund transactions that point at
    /// it (`metadata.originalTransactionRef` / `originalTransactionId`).
    pub async fn refunded_so_far(&self, source: &TransactionWire) -> Result<i64, ApiError> {
        let q = TransactionQuery {
            limit: 100,
            transaction_type: Some(TransactionKind::Refund),
            ..TransactionQuery::default()
        };
        let page = self.list_transactions(&q).await?;
        let linked: i64 = page
            .transactions
            .iter()
            .filter(|r| r.kind().is_none() || r.is_refund())
            .filter(|r| {
                matches!(
                    r.state(),
                    Ok(Some(TransactionStatus::Initiated | TransactionStatus::Completed) | None)
                )
            })
            .filter(|r| {
                [
                    "originalTransactionRef",
                    "originalTransactionId",
                    "sourceTransactionRef",
                ]
                .iter()
                .filter_map(|k| r.metadata_text(k))
                .any(|v| source.matches(v))
            })
            .map(|r| r.original_amount.or(r.amount).unwrap_or(0).abs())
            .sum();
        Ok(linked.max(source.metadata_amount("refundedAmount").unwrap_or(0)))
    }
}
