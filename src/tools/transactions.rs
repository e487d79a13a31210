//! Transaction tools: list, get (by `txn_` reference, with a list fallback) and refund.

use crate::tools::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Json, PageInfo, Summary, first_items};
use crate::api::TransactionQuery;
use crate::error::{ErrorCode, ToolError};
use crate::model::transaction::{
    IsoDate, Transaction, TransactionStatus, TransactionWire, check_range,
};
use crate::model::{TransactionRef, validate};
use crate::server::BillingServer;

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

/// A page of transactions.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TransactionList {
    transactions: Vec<Transaction>,
    #[serde(flatten)]
    page: PageInfo,
}

impl Summary for Transaction {
    fn summary(&self) -> String {
        format!("Transaction {}", line(self))
    }
}

/// "txn_D7E8F9G0: payment $49.00 (completed)".
fn line(t: &Transaction) -> String {
    let r = t.reference.as_deref().or(t.id.as_deref()).unwrap_or("?");
    let amount = t
        .amount
        .as_ref()
        .map_or("(amount not given)", |m| m.formatted.as_str());
    format!("{r}: {} {amount} ({})", t.r#type, t.status)
}

impl Summary for TransactionList {
    fn summary(&self) -> String {
        let named = first_items(self.transactions.iter().map(line), ", ");
        self.page
            .describe(self.transactions.len(), "transactions", &named)
    }
}

fn opt_date(field: &str, raw: Option<&str>) -> Result<Option<IsoDate>, ToolError> {
    Ok(raw.map(|r| IsoDate::parse(field, r)).transpose()?)
}

/// The transaction `key` names, or `NOT_FOUND`.
pub(super) async fn resolve(
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
            status: args.status,
            transaction_type: None,
            from,
            to,
        };
        let page = self.api().list_transactions(&query).await?;
        let read = page.transactions.len();
        // Skipped rows were on the page too.
        let n = read + page.warnings.len();
        let has_more = page
            .total
            .map_or(n >= limit as usize, |t| u64::from(offset) + (n as u64) < t);
        Ok(Json(TransactionList {
            transactions: page
                .transactions
                .into_iter()
                .map(Transaction::from)
                .collect(),
            page: PageInfo::new(limit, offset, read, has_more, page.total).warn(page.warnings),
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
}
