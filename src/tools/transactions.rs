//! Transaction tools: list, get (by `txn_` reference, with a list fallback) and refund.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Map;

use super::{Json, PageInfo, Summary, opt_text};
use crate::api::{ApiError, RefundAnswer, RefundRequest, TransactionQuery};
use crate::error::{ErrorCode, ToolError};
use crate::model::transaction::{IsoDate, RefundPlan, Transaction, TransactionWire, check_range};
use crate::model::{Money, TransactionRef, validate};
use crate::server::BillingServer;

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TransactionStatus {
    Initiated,
    Completed,
    Failed,
    Cancelled,
    Refunded,
}

impl TransactionStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ListTransactionsArgs {
    /// Page size, 1-100 (default 20).
    limit: Option<i64>,
    /// Rows to skip (default 0).
    offset: Option<i64>,
    status: Option<TransactionStatus>,
    /// ISO 8601 date or date-time, inclusive.
    from_date: Option<String>,
    /// ISO 8601 date or date-time, inclusive.
    to_date: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GetTransactionArgs {
    /// Transaction reference, e.g. txn_D7E8F9G0.
    #[serde(alias = "transactionId")]
    transaction_ref: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CreateRefundArgs {
    /// Payment to refund (txn_…).
    #[serde(alias = "sourceTransactionId")]
    source_transaction_ref: String,
    /// Minor units (2500 = $25.00); omit to refund everything left.
    amount: Option<i64>,
    /// Default requested_by_customer.
    reason: Option<String>,
}

/// A page of transactions.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TransactionList {
    transactions: Vec<Transaction>,
    #[serde(flatten)]
    page: PageInfo,
}

/// The outcome of `create_refund`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefundResult {
    /// The new refund transaction, when SolvaPay names it.
    refund_reference: Option<String>,
    /// initiated until SolvaPay confirms it asynchronously, then completed.
    status: String,
    source_transaction_ref: String,
    /// Amount refunded now.
    amount: Money,
    /// True when part of the original stays refundable; false when it is now fully refunded.
    partial: bool,
    original_amount: Money,
    /// Still refundable after this refund.
    remaining_refundable: Money,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl Summary for Transaction {
    fn summary(&self) -> String {
        let r = self
            .reference
            .as_deref()
            .or(self.id.as_deref())
            .unwrap_or("?");
        format!(
            "Transaction {r}: {} {} ({})",
            self.r#type, self.amount.formatted, self.status
        )
    }
}

impl Summary for TransactionList {
    fn summary(&self) -> String {
        let total = self
            .page
            .total
            .map(|t| format!(" of {t}"))
            .unwrap_or_default();
        format!(
            "{} transactions{total} from offset {}{}",
            self.transactions.len(),
            self.page.offset,
            self.page.tail()
        )
    }
}

impl Summary for RefundResult {
    fn summary(&self) -> String {
        let kind = if self.partial {
            "Partial"
        } else {
            "Full (nothing left to refund)"
        };
        let reference = self
            .refund_reference
            .as_deref()
            .map_or_else(|| "not returned yet".to_owned(), str::to_owned);
        format!(
            "{kind} refund of {} {} for {}; refund reference {reference}",
            self.amount.formatted, self.status, self.source_transaction_ref
        )
    }
}

fn opt_date(field: &str, raw: Option<&str>) -> Result<Option<IsoDate>, ToolError> {
    Ok(raw.map(|r| IsoDate::parse(field, r)).transpose()?)
}

/// The transaction `key` names, or `NOT_FOUND`.
async fn resolve(
    server: &BillingServer,
    key: &TransactionRef,
) -> Result<TransactionWire, ToolError> {
    server
        .api()
        .find_transaction(key.as_str())
        .await?
        .ok_or_else(|| {
            ToolError::new(
                ErrorCode::NotFound,
                format!(
                    "Transaction {key} not found (also searched the 1000 most recent transactions)"
                ),
            )
        })
}

/// A refund failure: when it may have gone through, say how to check instead of retrying.
fn refund_error(e: ApiError) -> ToolError {
    let unknown = e.outcome_unknown();
    let mut err = ToolError::from(e);
    if unknown {
        err.message = format!(
            "Refund outcome unknown: {} Do not repeat the refund: check with list_transactions \
             (and get_transaction on the source) first.",
            err.message
        );
    }
    err
}

#[tool_router(router = transaction_tools, vis = "pub(crate)")]
impl BillingServer {
    #[tool(
        description = "List transactions, newest first, by status and ISO 8601 date range. Paged: follow nextOffset."
    )]
    async fn list_transactions(
        &self,
        Parameters(args): Parameters<ListTransactionsArgs>,
    ) -> Result<Json<TransactionList>, ToolError> {
        let (limit, offset) = (validate::limit(args.limit)?, validate::offset(args.offset)?);
        let from = opt_date("fromDate", args.from_date.as_deref())?;
        let to = opt_date("toDate", args.to_date.as_deref())?;
        check_range(from, to)?;
        let query = TransactionQuery {
            limit,
            offset,
            status: args.status.map(|s| s.as_str().to_owned()),
            transaction_type: None,
            from,
            to,
        };
        let page = self.api().list_transactions(&query).await?;
        let n = page.transactions.len();
        let has_more = page
            .total
            .map_or(n >= limit as usize, |t| u64::from(offset) + (n as u64) < t);
        Ok(Json(TransactionList {
            transactions: page
                .transactions
                .into_iter()
                .map(Transaction::from)
                .collect(),
            page: PageInfo::new(limit, offset, n, has_more, page.total),
        }))
    }

    #[tool(
        description = "Get one transaction by reference (txn_…): type, status, amount, fee, parties."
    )]
    async fn get_transaction(
        &self,
        Parameters(args): Parameters<GetTransactionArgs>,
    ) -> Result<Json<Transaction>, ToolError> {
        let key = TransactionRef::parse("transactionRef", &args.transaction_ref)?;
        Ok(Json(resolve(self, &key).await?.into()))
    }

    #[tool(
        description = "Refund a completed payment, fully (omit amount) or partly. Checked against what is still refundable. Returns the refund reference and status."
    )]
    async fn create_refund(
        &self,
        Parameters(args): Parameters<CreateRefundArgs>,
    ) -> Result<Json<RefundResult>, ToolError> {
        let key = TransactionRef::parse("sourceTransactionRef", &args.source_transaction_ref)?;
        if let Some(a) = args.amount.filter(|a| *a <= 0) {
            return Err(ToolError::invalid(
                "amount",
                format!("must be a positive number of minor units (got {a})"),
            ));
        }
        let reason = opt_text("reason", args.reason.as_deref(), 500)?
            .unwrap_or_else(|| "requested_by_customer".to_owned());
        let source = resolve(self, &key).await?;
        let already = self.api().refunded_so_far(&source).await?;
        let plan = RefundPlan::new(&source, already, args.amount)?;
        let body = RefundRequest {
            original_transaction_id: source.internal_id().unwrap_or(key.as_str()).to_owned(),
            refund_amount: plan.amount,
            currency: plan.currency.code().to_owned(),
            reason: reason.clone(),
            metadata: Map::new(),
        };
        tracing::info!(target: "audit", tool = "create_refund", source = %key, amount = plan.amount,
            currency = %plan.currency, "refund requested");
        let answer = self
            .api()
            .create_refund(&body)
            .await
            .map_err(refund_error)?;
        tracing::info!(target: "audit", tool = "create_refund", source = %key, "refund accepted");
        Ok(Json(refund_result(key, &plan, reason, answer)))
    }
}

fn refund_result(
    key: TransactionRef,
    plan: &RefundPlan,
    reason: String,
    answer: RefundAnswer,
) -> RefundResult {
    let (refund_reference, status, message) = match answer {
        RefundAnswer::Transaction(t) => (
            t.reference.or(t.id),
            t.status.unwrap_or_else(|| "initiated".into()),
            None,
        ),
        RefundAnswer::Message(m) => (
            None,
            "initiated".to_owned(),
            Some(format!(
                "SolvaPay accepted the refund{} but named no refund transaction; it settles \
                 asynchronously. Check with list_transactions.",
                m.map(|m| format!(" (\"{}\")", crate::api::sanitize(&m, 200)))
                    .unwrap_or_default()
            )),
        ),
    };
    RefundResult {
        refund_reference,
        status,
        source_transaction_ref: key.to_string(),
        amount: Money::new(plan.amount, &plan.currency),
        partial: plan.partial(),
        original_amount: Money::new(plan.base, &plan.currency),
        remaining_refundable: Money::new(plan.remaining_after(), &plan.currency),
        reason,
        message,
    }
}
