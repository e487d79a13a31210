//! `get_revenue_metrics`: a period's MRR and ARR, new, churned and reactivated subscriptions,
//! gross, refunds, net, refund rate and usage revenue, per currency (optionally per product).
//! Composed from existing reads — the purchase list, the period's transaction pages, the
//! provider's currency, the product — at most [`CONCURRENT_READS`] at a time, with a progress
//! notification per read when the client sent a progress token. The figures themselves come from
//! [`crate::model::revenue_metrics`] (pure); this file reads and renders.

use std::future::Future;
use std::pin::Pin;

use futures::{StreamExt, TryStreamExt};
use rmcp::model::ProgressNotificationParam;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::revenue::{CurrencySource, provider_currency};
use super::{Json, Summary};
use crate::api::{PurchaseQuery, SolvaPayClient, TransactionPage, TransactionQuery};
use crate::error::{ErrorCode, ToolError};
use crate::model::dates::timestamp;
use crate::model::purchase::PurchaseWire;
use crate::model::revenue_metrics::{
    CurrencyMetrics, Inputs, Metrics, Period, ProductMetrics, compute,
};
use crate::model::transaction::TransactionWire;
use crate::model::{Currency, ProductRef};
use crate::server::BillingServer;
use crate::tools::Parameters;

/// Transactions per page read.
const PAGE: u32 = 100;
/// Pages read at most (the period's 1000 most recent transactions): past it the answer says it
/// is incomplete.
pub(crate) const MAX_PAGES: u32 = 10;
/// Reads in flight at once.
const CONCURRENT_READS: usize = 4;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RevenueMetricsArgs {
    /// A month, YYYY-MM (default: the current month). Or fromDate/toDate.
    period: Option<String>,
    /// ISO 8601 date or date-time, inclusive.
    from_date: Option<String>,
    /// ISO 8601 date or date-time, inclusive.
    to_date: Option<String>,
    /// Only this product (prd_…).
    #[serde(alias = "productReference")]
    product_ref: Option<String>,
    /// Also give the figures per product.
    by_product: Option<bool>,
}

/// The outcome of `get_revenue_metrics`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RevenueMetrics {
    /// The period (inclusive).
    from_date: String,
    to_date: String,
    /// The instant MRR, ARR and active counts are taken at: the period's end, or now if sooner.
    as_of: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    product_ref: Option<String>,
    /// Per currency, the provider's first (always present, zeros included).
    totals: Vec<CurrencyMetrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by_product: Option<Vec<ProductMetrics>>,
    /// False when SolvaPay sends no reactivatedAt: reactivations are then not reported (not 0).
    reactivations_reported: bool,
    /// False when a read was cut short (see truncated): the figures then miss data.
    complete: bool,
    /// What was cut short, when complete is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    truncated: Option<String>,
    purchases_read: usize,
    transactions_read: usize,
    /// merchant (provider default) or fallback (USD assumed).
    currency_source: CurrencySource,
    /// Data left out of a figure, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

impl RevenueMetrics {
    fn new(period: Period, as_of: time::OffsetDateTime, read: Read, by_product: bool) -> Self {
        let m: Metrics = compute(&Inputs {
            period,
            as_of,
            purchases: &read.purchases,
            transactions: &read.transactions,
            product: read.product.as_ref().map(ProductRef::as_str),
            base_currency: &read.currency.0,
        });
        let mut notes = m.notes;
        notes.extend(read.warnings);
        Self {
            from_date: period.from.wire(),
            to_date: period.to.wire(),
            as_of: timestamp(as_of),
            product_ref: read.product.map(|p| p.to_string()),
            totals: m.totals,
            by_product: by_product.then_some(m.by_product),
            reactivations_reported: m.reactivations_reported,
            complete: read.truncated.is_none(),
            truncated: read.truncated,
            purchases_read: read.purchases.len(),
            transactions_read: read.transactions.len(),
            currency_source: read.currency.1,
            notes,
        }
    }
}

/// "USD: MRR $49.00, ARR $588.00, 1 active, 1 new, 0 churned, 0 reactivated; gross $49.00, …".
fn line(c: &CurrencyMetrics) -> String {
    let reactivated = c.reactivated_subscriptions.map_or_else(
        || "reactivations not reported".to_owned(),
        |n| format!("{n} reactivated"),
    );
    let rate = c
        .refund_rate
        .as_deref()
        .map(|r| format!(", refund rate {r}"))
        .unwrap_or_default();
    format!(
        "{}: MRR {}, ARR {}, {} active, {} new, {} churned, {reactivated}; gross {}, refunds {}, \
         net {}{rate}, usage {}",
        c.currency,
        c.mrr.formatted,
        c.arr.formatted,
        c.active_subscriptions,
        c.new_subscriptions,
        c.churned_subscriptions,
        c.gross_revenue.formatted,
        c.refunds.formatted,
        c.net_revenue.formatted,
        c.usage_revenue.formatted
    )
}

impl Summary for RevenueMetrics {
    fn summary(&self) -> String {
        let of = self
            .product_ref
            .as_deref()
            .map(|p| format!(" for {p}"))
            .unwrap_or_default();
        let lines: Vec<String> = self.totals.iter().map(line).collect();
        let cut = self
            .truncated
            .as_deref()
            .map(|t| format!(" INCOMPLETE: {t}."))
            .unwrap_or_default();
        format!(
            "Revenue {} to {}{of} (MRR/ARR at {}): {}.{cut}",
            self.from_date,
            self.to_date,
            self.as_of,
            lines.join("; ")
        )
    }
}

/// Everything read for one call.
struct Read {
    product: Option<ProductRef>,
    purchases: Vec<PurchaseWire>,
    transactions: Vec<TransactionWire>,
    currency: (Currency, CurrencySource),
    truncated: Option<String>,
    warnings: Vec<String>,
}

/// The answer of one read.
enum Part {
    Purchases(Vec<PurchaseWire>),
    Page(TransactionPage),
    Currency((Currency, CurrencySource)),
    Product,
}

type Task = Pin<Box<dyn Future<Output = Result<(Part, String), ToolError>> + Send>>;

/// Page `page` (from 0) of the period's transactions, pages being `step` rows apart.
fn page_query(period: Period, page: u32, step: u32) -> TransactionQuery {
    TransactionQuery {
        limit: PAGE,
        offset: page.saturating_mul(step),
        from: Some(period.from),
        to: Some(period.to),
        ..TransactionQuery::default()
    }
}

fn page_task(api: &SolvaPayClient, period: Period, page: u32, step: u32) -> Task {
    let api = api.clone();
    Box::pin(async move {
        let found = api
            .list_transactions(&page_query(period, page, step))
            .await?;
        Ok((
            Part::Page(found),
            format!("read transactions page {}", page + 1),
        ))
    })
}

/// Sends progress `done` (of `total`, when known) with `message`, when the client asked for it.
async fn progress(ctx: &RequestContext<RoleServer>, done: usize, total: usize, message: String) {
    if let Some(token) = ctx.meta.get_progress_token() {
        let note = ProgressNotificationParam::new(token, done as f64)
            .with_total(total as f64)
            .with_message(message);
        let _ = ctx.peer.notify_progress(note).await;
    }
}

/// Runs `tasks` at most [`CONCURRENT_READS`] at a time; one progress note per finished read.
async fn run(
    tasks: Vec<Task>,
    ctx: &RequestContext<RoleServer>,
    done: &mut usize,
    total: usize,
) -> Result<Vec<Part>, ToolError> {
    let mut parts = Vec::with_capacity(tasks.len());
    let mut stream = futures::stream::iter(tasks).buffer_unordered(CONCURRENT_READS);
    while let Some((part, message)) = stream.try_next().await? {
        *done += 1;
        progress(ctx, *done, total, message).await;
        parts.push(part);
    }
    Ok(parts)
}

/// What the first page says of the rest: how many more pages to read (capped), how many rows
/// apart they are (SolvaPay's page may be smaller than asked: the first one's size), and whether
/// the cap cuts the read short.
fn pages_after_first(first: &TransactionPage) -> (u32, u32, bool) {
    // Skipped (unreadable) rows were on the page too.
    let rows = first.transactions.len() + first.warnings.len();
    let step = u32::try_from(rows).unwrap_or(PAGE).min(PAGE);
    let Some(total) = first.total else {
        // No total: only a full first page says more may follow; read to the cap.
        return if rows >= PAGE as usize {
            (MAX_PAGES - 1, PAGE, true)
        } else {
            (0, PAGE, false)
        };
    };
    if step == 0 {
        return (0, PAGE, false);
    }
    let pages = u32::try_from(total.div_ceil(u64::from(step))).unwrap_or(u32::MAX);
    if pages > MAX_PAGES {
        (MAX_PAGES - 1, step, true)
    } else {
        (pages.saturating_sub(1), step, false)
    }
}

impl BillingServer {
    /// The purchases, the provider's currency, the product (when one is asked for) and the
    /// period's transaction pages.
    async fn read_for_metrics(
        &self,
        period: Period,
        product: Option<ProductRef>,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<Read, ToolError> {
        let api = self.api();
        let mut first: Vec<Task> = Vec::new();
        {
            let (api, product) = (api.clone(), product.clone());
            first.push(Box::pin(async move {
                let filter = PurchaseQuery {
                    product: product.as_ref(),
                    ..PurchaseQuery::default()
                };
                let purchases = api.list_purchases(filter).await?;
                Ok((Part::Purchases(purchases), "read purchases".to_owned()))
            }));
        }
        {
            let api = api.clone();
            first.push(Box::pin(async move {
                let currency = provider_currency(&api).await;
                Ok((
                    Part::Currency(currency),
                    "read the provider's currency".to_owned(),
                ))
            }));
        }
        if let Some(p) = product.clone() {
            let api = api.clone();
            first.push(Box::pin(async move {
                api.get_product(&p)
                    .await
                    .map_err(|e| unknown_product(e, &p))?;
                Ok((Part::Product, format!("found product {p}")))
            }));
        }
        first.push(page_task(api, period, 0, PAGE));
        let mut expected = first.len();
        let mut done = 0;
        let (mut purchases, mut currency, mut pages) = (None, None, Vec::new());
        for part in run(first, ctx, &mut done, expected).await? {
            match part {
                Part::Purchases(p) => purchases = Some(p),
                Part::Currency(c) => currency = Some(c),
                Part::Page(page) => pages.push(page),
                Part::Product => {}
            }
        }
        let (more, step, cut) = pages.first().map_or((0, PAGE, false), pages_after_first);
        expected += more as usize;
        let rest: Vec<Task> = (1..=more)
            .map(|n| page_task(api, period, n, step))
            .collect();
        for part in run(rest, ctx, &mut done, expected).await? {
            if let Part::Page(page) = part {
                pages.push(page);
            }
        }
        let total = pages.first().and_then(|p| p.total);
        let (mut transactions, mut warnings) = (Vec::new(), Vec::new());
        for page in pages {
            transactions.extend(page.transactions);
            warnings.extend(page.warnings);
        }
        let truncated = cut.then(|| {
            let of = total.map(|t| format!(" of {t}")).unwrap_or_default();
            format!(
                "read the {} most recent transactions{of} of the period (at most {MAX_PAGES} pages \
                 of {step}); gross, refunds, net and usage miss the older ones: ask for a shorter \
                 period",
                transactions.len()
            )
        });
        // Each read ran once above (an error ended the call), so both are there.
        Ok(Read {
            product,
            purchases: purchases.unwrap_or_default(),
            transactions,
            currency: currency.unwrap_or_else(|| (Currency::usd(), CurrencySource::Fallback)),
            truncated,
            warnings,
        })
    }
}

/// A product that is not there is the caller's mistake: say which, and how to find one.
fn unknown_product(e: crate::api::ApiError, product: &ProductRef) -> ToolError {
    let error = ToolError::from(e);
    if error.code() == ErrorCode::NotFound {
        ToolError::new(
            ErrorCode::NotFound,
            format!("Product {product} not found: list_products gives the references"),
        )
    } else {
        error
    }
}

#[tool_router(router = revenue_metrics_tools, vis = "pub(crate)")]
impl BillingServer {
    #[tool(
        description = "Revenue metrics for a month (period YYYY-MM, default this month) or fromDate/toDate, per currency: MRR and ARR of paid subscriptions active at the period end (ARR exact: weekly x52, monthly x12, quarterly x4, yearly x1; MRR = ARR/12 rounded half up once), new, churned and reactivated subscriptions, gross, refunds, net, refund rate, usage revenue. Optional productRef, byProduct. complete is false when a read was capped."
    )]
    async fn get_revenue_metrics(
        &self,
        Parameters(args): Parameters<RevenueMetricsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<RevenueMetrics>, ToolError> {
        let now = self.options().clock.now();
        let period = Period::parse(
            args.period.as_deref(),
            args.from_date.as_deref(),
            args.to_date.as_deref(),
            now.date(),
        )?;
        let product = args
            .product_ref
            .as_deref()
            .map(|p| ProductRef::parse("productRef", p))
            .transpose()?;
        let read = tokio::select! {
            () = ctx.ct.cancelled() => return Err(ToolError::new(ErrorCode::InternalError, "get_revenue_metrics was cancelled")),
            read = self.read_for_metrics(period, product, &ctx) => read?,
        };
        let as_of = period.to.end().min(now);
        Ok(Json(RevenueMetrics::new(
            period,
            as_of,
            read,
            args.by_product.unwrap_or(false),
        )))
    }
}
