//! Revenue tools: transaction statistics over a date range, and one product's balance. Neither REST
//! answer carries a currency, so both are given in the provider's `defaultCurrency` (from
//! `GET /v1/sdk/merchant`), falling back to USD when SolvaPay does not say.

use crate::tools::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Date, Duration};

use super::{Json, Summary};
use crate::api::{ProductBalanceWire, SolvaPayClient};
use crate::error::ToolError;
use crate::model::dates::EARLIEST;
use crate::model::transaction::{IsoDate, StatsWire, check_range};
use crate::model::{Currency, Money, ProductRef};
use crate::server::BillingServer;

/// Length of the default stats window.
const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct StatsArgs {
    /// ISO 8601 date or date-time (default 30 days before toDate).
    from_date: Option<String>,
    /// ISO 8601 date or date-time (default today, inclusive).
    to_date: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ProductBalanceArgs {
    /// Product reference, e.g. prd_P9Q0R1S2.
    #[serde(alias = "productReference", alias = "reference")]
    product_ref: String,
}

// Where the currency of an amount came from (neither REST answer carries one): the provider's
// default, or USD assumed because SolvaPay did not say. `//` comments: doc comments would turn the
// schema's plain `enum` into a `oneOf` in two output schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CurrencySource {
    Merchant,
    Fallback,
}

/// The outcome of `get_transaction_stats`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TransactionStats {
    /// The range counted (echoed or defaulted).
    from_date: String,
    to_date: String,
    total: u64,
    /// Any type, refunds included.
    completed_transactions: u64,
    failed_transactions: u64,
    /// Refund transactions.
    refunded_transactions: u64,
    /// Initiated, not settled.
    pending_transactions: u64,
    cancelled_transactions: u64,
    /// Gross revenue: completed payments, refunds not subtracted.
    #[serde(skip_serializing_if = "Option::is_none")]
    total_amount: Option<Money>,
    /// merchant (provider default) or fallback (USD assumed).
    currency_source: CurrencySource,
    /// Count per type.
    by_type: Map<String, Value>,
    /// Count per currency.
    by_currency: Map<String, Value>,
}

impl TransactionStats {
    fn from_wire(
        w: StatsWire,
        (from, to): (IsoDate, IsoDate),
        (currency, source): (Currency, CurrencySource),
    ) -> Self {
        Self {
            from_date: from.wire(),
            to_date: to.wire(),
            total: w.total,
            completed_transactions: w.completed_transactions,
            failed_transactions: w.failed_transactions,
            refunded_transactions: w.refunded(),
            pending_transactions: w.pending_transactions,
            cancelled_transactions: w.cancelled_transactions,
            total_amount: w.total_amount.map(|a| Money::new(a, &currency)),
            currency_source: source,
            by_type: w.by_type,
            by_currency: w.by_currency,
        }
    }
}

/// The outcome of `get_product_balance`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProductBalance {
    reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// Net revenue held by the product (payments less refunds and fees).
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<Money>,
    total_transactions: u64,
    /// merchant (provider default) or fallback (USD assumed).
    currency_source: CurrencySource,
}

impl ProductBalance {
    fn from_wire(w: ProductBalanceWire, (currency, source): (Currency, CurrencySource)) -> Self {
        Self {
            reference: w.reference,
            name: w.name,
            balance: w.balance.map(|b| Money::new(b, &currency)),
            total_transactions: w.total_transactions,
            currency_source: source,
        }
    }
}

// SolvaPay's status counts cover every type: a completed refund is also "completed", and a fully
// refunded payment is only in `total`. Read as one table they add up wrong ("2 completed, 1
// refunded" for one payment and its refund), so the summary says the types apart from the statuses,
// and which revenue figure is gross.
impl Summary for TransactionStats {
    fn summary(&self) -> String {
        format!(
            "{} to {}: {} ({}); by status, refunds included: {} completed, {} pending, {} failed, {} \
             cancelled; gross revenue {} (completed payments, refunds not subtracted; \
             get_product_balance gives a product's net)",
            self.from_date,
            self.to_date,
            counted(self.total, "transaction"),
            self.kinds(),
            self.completed_transactions,
            self.pending_transactions,
            self.failed_transactions,
            self.cancelled_transactions,
            formatted(self.total_amount.as_ref())
        )
    }
}

impl TransactionStats {
    /// "1 payment, 1 refund": the count per type, or the refunds alone when SolvaPay gives none.
    fn kinds(&self) -> String {
        let kinds: Vec<String> = self
            .by_type
            .iter()
            .filter_map(|(kind, v)| {
                let n = v.as_u64().or_else(|| v.get("count")?.as_u64())?;
                Some(counted(n, kind))
            })
            .collect();
        if kinds.is_empty() {
            counted(self.refunded_transactions, "refund")
        } else {
            kinds.join(", ")
        }
    }
}

impl Summary for ProductBalance {
    fn summary(&self) -> String {
        format!(
            "{} ({}): net balance {} (payments less refunds and fees) over {}",
            self.name.as_deref().unwrap_or("Product"),
            self.reference,
            formatted(self.balance.as_ref()),
            counted(self.total_transactions, "transaction")
        )
    }
}

/// "1 payment", "2 refunds".
fn counted(n: u64, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{n} {noun}{s}")
}

fn formatted(money: Option<&Money>) -> &str {
    money.map_or("not given", |m| m.formatted.as_str())
}

/// The provider's default currency, or USD when SolvaPay does not tell (any failure included: the
/// currency only labels the number, so it must not sink the call).
pub(super) async fn provider_currency(api: &SolvaPayClient) -> (Currency, CurrencySource) {
    match api.merchant_currency().await {
        Ok(Some(c)) => (c, CurrencySource::Merchant),
        Ok(None) => (Currency::usd(), CurrencySource::Fallback),
        Err(e) => {
            tracing::debug!(error = %e, "merchant currency unavailable; assuming USD");
            (Currency::usd(), CurrencySource::Fallback)
        }
    }
}

/// The range asked for, with the defaults: toDate `today`, fromDate 30 days before toDate.
fn stats_range(args: &StatsArgs, today: Date) -> Result<(IsoDate, IsoDate), ToolError> {
    let parse = |f: &str, v: Option<&str>| v.map(|v| IsoDate::parse(f, v)).transpose();
    let from = parse("fromDate", args.from_date.as_deref())?;
    let to = parse("toDate", args.to_date.as_deref())?;
    check_range(from, to)?;
    let to = to.unwrap_or(IsoDate::Day(today));
    let from = from.unwrap_or_else(|| {
        let start = to.end().checked_sub(Duration::days(DEFAULT_DAYS));
        IsoDate::Day(start.map_or(EARLIEST, |t| t.date()))
    });
    check_range(Some(from), Some(to))?;
    Ok((from, to))
}

#[tool_router(router = revenue_tools, vis = "pub(crate)")]
impl BillingServer {
    #[tool(
        description = "Transaction statistics for an ISO 8601 date range (default last 30 days): counts by type and by status (a completed refund counts as completed too) and gross revenue (refunds not subtracted)."
    )]
    async fn get_transaction_stats(
        &self,
        Parameters(args): Parameters<StatsArgs>,
    ) -> Result<Json<TransactionStats>, ToolError> {
        let (from, to) = stats_range(&args, self.options().clock.now().date())?;
        let (stats, currency) = tokio::join!(
            self.api().transaction_stats(from, to),
            provider_currency(self.api())
        );
        Ok(Json(TransactionStats::from_wire(
            stats?,
            (from, to),
            currency,
        )))
    }

    #[tool(
        description = "A product's net revenue balance (payments less refunds and fees; minor units + formatted) and transaction count."
    )]
    async fn get_product_balance(
        &self,
        Parameters(args): Parameters<ProductBalanceArgs>,
    ) -> Result<Json<ProductBalance>, ToolError> {
        let product = ProductRef::parse("productRef", &args.product_ref)?;
        let (found, currency) = tokio::join!(
            self.api().product_balance(&product),
            provider_currency(self.api())
        );
        Ok(Json(ProductBalance::from_wire(found?, currency)))
    }
}
