//! Revenue metrics over a period, computed from purchases and transactions already read: pure, no
//! I/O, so every rule below is unit-tested on its own (`get_revenue_metrics` does the reading).
//!
//! The rules, as the tool's description and the README state them:
//! - A **subscription** is a paid recurring purchase: `isRecurring` (else a `recurring`/`hybrid`
//!   plan snapshot; without either, credit top-ups among them, it is none) and a charge above 0.
//! - Its charge is `originalAmount` in `currency`, else the snapshot's price in its currency; a
//!   charge (or a transaction) without a currency is in the provider's. One SolvaPay sent no
//!   amount for, or still `active` past its `endDate`, is in a note, not silently left out.
//! - **ARR** is exact: the sum of each subscription active at the snapshot instant times its cycles
//!   per year (weekly 52, monthly 12, quarterly 4, yearly 1). **MRR** is ARR / 12 rounded half up
//!   to the minor unit, once, on the total (never per purchase).
//! - **Active** at an instant: started, not pending or trialing, and its `endDate` after the instant
//!   (no `endDate`: status `active` or `past_due`).
//! - **New**: started in the period. **Churned**: renewal cancelled in the period, or ended
//!   (`endDate`, status no longer active) in it — unless the same customer's next purchase of the
//!   product starts at that instant (a plan switch, which is not churn). **Reactivated**: `reactivatedAt` in the period;
//!   not reported when no purchase read carries `reactivatedAt`.
//! - **Gross**: payments (completed, or later fully refunded) created in the period, by their
//!   charge currency. **Refunds**: completed refunds created in it. **Net** = gross − refunds.
//!   **Refund rate** = refunds / gross, rounded half up to 4 decimals (basis points), as text.
//! - **Usage revenue**: the gross payments for usage (`metadata.purpose` `usage_billing` or
//!   `credit_topup`, or the payment's purchase is on a `usage-based` plan).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use super::FieldError;
use super::dates::IsoDate;
use super::money::{Currency, Money};
use super::month::Month;
use super::purchase::{PurchaseStatus, PurchaseWire};
use super::transaction::{TransactionStatus, TransactionWire};

/// The period measured: every instant from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first instant.
    pub from: IsoDate,
    /// The last instant (a day is inclusive).
    pub to: IsoDate,
}

impl Period {
    /// The period asked for: `period` (`2026-11`, a calendar month, UTC), or `fromDate`/`toDate`
    /// (ISO dates or date-times; a missing one is the month's start or end of the other), or by
    /// default the month of `today`.
    pub fn parse(
        period: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        today: Date,
    ) -> Result<Self, FieldError> {
        let parse = |f: &str, v: Option<&str>| v.map(|v| IsoDate::parse(f, v)).transpose();
        let (from, to) = (parse("fromDate", from)?, parse("toDate", to)?);
        if let Some(p) = period {
            if from.is_some() || to.is_some() {
                return Err(FieldError::new(
                    "period",
                    "give either period (a month, 2026-11) or fromDate/toDate, not both",
                ));
            }
            return Ok(Self::month(Month::parse("period", p)?));
        }
        let period = match (from, to) {
            (None, None) => Self::month(Month::of(today)),
            // The other bound is of the UTC month (`-05:00` evenings are the next UTC day).
            (Some(f), None) => Self {
                from: f,
                to: Self::month(Month::of(f.start_utc().date())).to,
            },
            (None, Some(t)) => Self {
                from: Self::month(Month::of(t.end_utc().date())).from,
                to: t,
            },
            (Some(f), Some(t)) => Self { from: f, to: t },
        };
        if period.from.start() > period.to.end() {
            return Err(FieldError::new(
                "fromDate",
                format!(
                    "{} is after toDate {}: give fromDate on or before toDate",
                    period.from.wire(),
                    period.to.wire()
                ),
            ));
        }
        Ok(period)
    }

    /// A whole calendar month (UTC).
    fn month(month: Month) -> Self {
        let first = month.first_day().unwrap_or(super::dates::EARLIEST);
        Self {
            from: IsoDate::Day(first),
            to: IsoDate::Day(month.last_day().unwrap_or(first)),
        }
    }

    /// Whether `t` lies in the period.
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.from.start() <= t && t <= self.to.end()
    }
}

/// How many times a billing cycle recurs in a year; `None` for a cycle that has no fixed length.
pub fn cycles_per_year(cycle: &str) -> Option<i128> {
    match cycle.trim().to_ascii_lowercase().as_str() {
        "weekly" => Some(52),
        "monthly" => Some(12),
        "quarterly" => Some(4),
        "yearly" | "annual" | "annually" => Some(1),
        _ => None,
    }
}

/// MRR from the exact ARR (minor units): ARR / 12, rounded half up to the minor unit.
pub fn mrr_of(arr: i128) -> i128 {
    // Half up for the non-negative sums this sees; floor division keeps a negative one consistent.
    (arr.saturating_mul(2).saturating_add(12)).div_euclid(24)
}

/// `refunds / gross` rounded half up to 4 decimals ("0.1327"); `None` when nothing was received.
pub fn refund_rate(refunds: i64, gross: i64) -> Option<String> {
    if gross <= 0 {
        return None;
    }
    let (r, g) = (i128::from(refunds.max(0)), i128::from(gross));
    let bp = (r.saturating_mul(20_000).saturating_add(g)).div_euclid(g.saturating_mul(2));
    Some(format!(
        "{}.{:04}",
        bp.div_euclid(10_000),
        bp.rem_euclid(10_000)
    ))
}

fn instant(raw: Option<&str>) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(raw?.trim(), &Rfc3339).ok()
}

/// The first five of `items`, then how many more.
fn listed(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
    match items.len().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// What is read about one purchase.
struct Sub<'a> {
    product: Option<&'a str>,
    currency: String,
    /// Charge per cycle, minor units.
    charge: i64,
    per_year: Option<i128>,
    cycle: Option<String>,
}

/// A recurring purchase SolvaPay sent no charge for (no `originalAmount`, no snapshot price).
struct Unpriced;

/// A paid recurring purchase's charge, currency and cycle (a charge without a currency is in the
/// provider's, `base`, as a plan's price must be); `None` for anything else.
fn subscription<'a>(p: &'a PurchaseWire, base: &Currency) -> Option<Result<Sub<'a>, Unpriced>> {
    // Without a snapshot (credit top-ups have none) only SolvaPay's own isRecurring says so.
    let snap = p.plan_snapshot.as_ref();
    let recurring = match (p.is_recurring, snap) {
        (Some(r), _) => r,
        (None, Some(snap)) => snap.plan_type.as_deref().is_some_and(|k| {
            ["recurring", "hybrid"]
                .iter()
                .any(|r| k.eq_ignore_ascii_case(r))
        }),
        (None, None) => false,
    };
    if !recurring {
        return None;
    }
    let price = snap.and_then(|s| s.price.as_ref());
    let (charge, currency) = match (&p.original_amount, &p.currency, price) {
        (Some(a), Some(c), _) => (a.units, Some(c)),
        (_, _, Some(price)) => (price.units, snap.and_then(|s| s.currency.as_ref())),
        (Some(a), None, None) => (a.units, None),
        (None, _, None) => return Some(Err(Unpriced)),
    };
    if charge <= 0 {
        return None;
    }
    let cycle = p
        .billing_cycle
        .clone()
        .or_else(|| snap.and_then(|s| s.billing_cycle.clone()));
    let currency = currency.map_or_else(|| base.clone(), |c| Currency::from_api(c));
    Some(Ok(Sub {
        product: p.product_ref.as_deref(),
        currency: currency.code().to_owned(),
        charge,
        per_year: cycle.as_deref().and_then(cycles_per_year),
        cycle,
    }))
}

/// Whether `p` ended where another purchase of the same customer and product began (a plan switch).
fn switched(p: &PurchaseWire, all: &[PurchaseWire]) -> bool {
    let Some(end) = instant(p.end_date.as_deref()) else {
        return false;
    };
    all.iter().any(|q| {
        q.reference != p.reference
            && q.customer_ref.is_some()
            && q.customer_ref == p.customer_ref
            && q.product_ref == p.product_ref
            && instant(q.start_date.as_deref()) == Some(end)
    })
}

/// Whether `p` was an active subscription at `t`.
fn active_at(p: &PurchaseWire, t: OffsetDateTime) -> bool {
    let status = p.status.as_deref().and_then(PurchaseStatus::read);
    if matches!(
        status,
        Some(PurchaseStatus::Pending | PurchaseStatus::Trialing)
    ) {
        return false;
    }
    if instant(p.start_date.as_deref()).is_none_or(|s| s > t) {
        return false;
    }
    match instant(p.end_date.as_deref()) {
        Some(end) => end > t,
        None => matches!(
            status,
            Some(PurchaseStatus::Active | PurchaseStatus::PastDue)
        ),
    }
}

/// The `endDate` of `p` when it passed by `t` while SolvaPay still calls `p` active (a renewal or
/// expiry not yet recorded): such a purchase is in no figure.
fn lapsed(p: &PurchaseWire, t: OffsetDateTime) -> Option<&str> {
    let end = p.end_date.as_deref()?;
    (still_active(p) && instant(Some(end)).is_some_and(|e| e <= t)).then_some(end)
}

fn still_active(p: &PurchaseWire) -> bool {
    matches!(
        p.status.as_deref().and_then(PurchaseStatus::read),
        Some(PurchaseStatus::Active | PurchaseStatus::Trialing | PurchaseStatus::PastDue)
    )
}

/// The sums for one currency (of everything, or of one product).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tally {
    arr: i128,
    active: u64,
    new: u64,
    churned: u64,
    reactivated: u64,
    gross: i128,
    refunds: i128,
    usage: i128,
}

/// A product's key in the breakdown: its reference, or none when the data does not say.
type ProductKey = Option<String>;

#[derive(Default)]
struct Book {
    totals: BTreeMap<String, Tally>,
    products: BTreeMap<ProductKey, BTreeMap<String, Tally>>,
}

impl Book {
    fn add(&mut self, product: Option<&str>, currency: &str, f: impl Fn(&mut Tally)) {
        f(self.totals.entry(currency.to_owned()).or_default());
        let by = self.products.entry(product.map(str::to_owned)).or_default();
        f(by.entry(currency.to_owned()).or_default());
    }
}

/// The figures of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyMetrics {
    /// ISO 4217 code.
    pub currency: String,
    /// Monthly recurring revenue at asOf: ARR / 12, rounded half up once.
    pub mrr: Money,
    /// Annual recurring revenue at asOf (exact).
    pub arr: Money,
    /// Paid subscriptions active at asOf.
    pub active_subscriptions: u64,
    /// Started in the period.
    pub new_subscriptions: u64,
    /// Renewal cancelled, or ended, in the period.
    pub churned_subscriptions: u64,
    /// Reactivated in the period; absent when SolvaPay does not report reactivations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reactivated_subscriptions: Option<u64>,
    /// Payments received in the period.
    pub gross_revenue: Money,
    /// Completed refunds in the period.
    pub refunds: Money,
    /// Gross less refunds.
    pub net_revenue: Money,
    /// refunds / gross, 4 decimals ("0.1327"); absent when gross is 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_rate: Option<String>,
    /// The part of gross paid for usage.
    pub usage_revenue: Money,
}

impl CurrencyMetrics {
    fn of(code: &str, t: &Tally, reported: bool) -> Self {
        let c = Currency::from_api(code);
        let money = |v: i128| Money::new(clamp(v), &c);
        let (gross, refunds) = (clamp(t.gross), clamp(t.refunds));
        Self {
            currency: c.code().to_owned(),
            mrr: money(mrr_of(t.arr)),
            arr: money(t.arr),
            active_subscriptions: t.active,
            new_subscriptions: t.new,
            churned_subscriptions: t.churned,
            reactivated_subscriptions: reported.then_some(t.reactivated),
            gross_revenue: money(t.gross),
            refunds: money(t.refunds),
            net_revenue: money(t.gross.saturating_sub(t.refunds)),
            refund_rate: refund_rate(refunds, gross),
            usage_revenue: money(t.usage),
        }
    }
}

/// One product's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductMetrics {
    /// Absent for transactions the data ties to no product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// Per currency.
    pub currencies: Vec<CurrencyMetrics>,
}

/// What the computation is given.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The period measured.
    pub period: Period,
    /// The snapshot instant for MRR/ARR and active counts: the period's end, or now if sooner.
    pub as_of: OffsetDateTime,
    /// Every purchase read (of the product, when one is asked for).
    pub purchases: &'a [PurchaseWire],
    /// The transactions read for the period.
    pub transactions: &'a [TransactionWire],
    /// Only transactions of this product (its reference), when set.
    pub product: Option<&'a str>,
    /// The provider's currency: always in the totals, zeros included.
    pub base_currency: &'a Currency,
}

/// The computed figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    /// Per currency, the provider's first.
    pub totals: Vec<CurrencyMetrics>,
    /// Per product (by reference), then per currency.
    pub by_product: Vec<ProductMetrics>,
    /// Whether any purchase read carries `reactivatedAt`.
    pub reactivations_reported: bool,
    /// Subscriptions left out of MRR/ARR, and why.
    pub notes: Vec<String>,
}

/// The figures of `inputs` (see the module header for every rule).
pub fn compute(inputs: &Inputs<'_>) -> Metrics {
    let mut book = Book::default();
    let mut notes = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let reported = inputs.purchases.iter().any(|p| p.reactivated_at.is_some());
    let mut plan_of: BTreeMap<&str, &PurchaseWire> = BTreeMap::new();
    let mut unattributed = 0usize;
    let mut unknown: Vec<String> = Vec::new();
    for p in inputs.purchases {
        plan_of.insert(p.reference.as_str(), p);
        if let (Some(r), Some(n)) = (&p.product_ref, &p.product_name) {
            names.entry(r.clone()).or_insert_with(|| n.clone());
        }
        let period = &inputs.period;
        let within =
            |raw: &Option<String>| instant(raw.as_deref()).is_some_and(|t| period.contains(t));
        let sub = match subscription(p, inputs.base_currency) {
            None => continue,
            Some(Ok(sub)) => sub,
            Some(Err(Unpriced)) => {
                if active_at(p, inputs.as_of) || within(&p.start_date) {
                    notes.push(format!(
                        "{}: recurring, but SolvaPay sent no amount (no originalAmount, no \
                         planSnapshot.price); left out of every figure",
                        p.reference
                    ));
                }
                continue;
            }
        };
        let active = active_at(p, inputs.as_of);
        if let Some(raw) = p
            .start_date
            .as_deref()
            .filter(|r| instant(Some(r)).is_none())
        {
            notes.push(format!(
                "{}: startDate {raw:?} is not an RFC 3339 date-time; counted in no figure",
                p.reference
            ));
        }
        if let Some(end) = lapsed(p, inputs.as_of) {
            notes.push(format!(
                "{}: SolvaPay says {} but its endDate {end} passed before asOf; counted neither \
                 active nor churned",
                p.reference,
                p.status.as_deref().unwrap_or("(no status)")
            ));
        }
        if active && sub.per_year.is_none() {
            notes.push(format!(
                "{}: billing cycle {} has no fixed length; left out of MRR and ARR",
                p.reference,
                sub.cycle.as_deref().unwrap_or("(none)")
            ));
        }
        let annual = match (active, sub.per_year) {
            (true, Some(n)) => i128::from(sub.charge).saturating_mul(n),
            _ => 0,
        };
        let new = within(&p.start_date);
        let ended = within(&p.end_date) && !still_active(p) && !switched(p, inputs.purchases);
        let churned = within(&p.cancelled_at) || ended;
        let reactivated = p.reactivated_at.as_ref().is_some_and(within);
        book.add(sub.product, &sub.currency, |t| {
            t.arr = t.arr.saturating_add(annual);
            t.active += u64::from(active);
            t.new += u64::from(new);
            t.churned += u64::from(churned);
            t.reactivated += u64::from(reactivated);
        });
    }
    for t in inputs.transactions {
        if instant(t.created_at.as_deref()).is_some_and(|at| !inputs.period.contains(at)) {
            continue;
        }
        let purchase = t
            .metadata_text("purchaseRef")
            .and_then(|r| plan_of.get(r).copied());
        let product = purchase
            .and_then(|p| p.product_ref.as_deref())
            .or(t.product_id.as_deref());
        if inputs.product.is_some_and(|want| product != Some(want)) {
            unattributed += usize::from(product.is_none());
            continue;
        }
        if let (Some(r), Some(n), Some("product")) =
            (product, &t.to_entity_name, t.to_entity_type.as_deref())
        {
            names.entry(r.to_owned()).or_insert_with(|| n.clone());
        }
        // `originalAmount` is in `currency`, `amount` in `providerCurrency` (BEHAVIOUR §6.6); a
        // row that names neither is in the provider's.
        let (charge, provider) = (t.currency.as_deref(), t.provider_currency.as_deref());
        let named = if t.original_amount.is_some() {
            charge.or(provider)
        } else {
            provider.or(charge)
        };
        let currency = named.map_or_else(|| inputs.base_currency.clone(), Currency::from_api);
        let amount = i128::from(t.refundable_base());
        let state = match t.state() {
            Ok(state) => state,
            Err(raw) => {
                unknown.push(format!(
                    "{} ({raw})",
                    t.canonical_ref().unwrap_or("(no reference)")
                ));
                continue;
            }
        };
        if t.is_refund() {
            if state == Some(TransactionStatus::Completed) {
                book.add(product, currency.code(), |x| {
                    x.refunds = x.refunds.saturating_add(amount);
                });
            }
            continue;
        }
        let payment = t.kind().is_some_and(|k| k.eq_ignore_ascii_case("payment"));
        let received = matches!(
            state,
            Some(TransactionStatus::Completed | TransactionStatus::Refunded)
        );
        if !(payment && received) {
            continue;
        }
        let usage = matches!(
            t.metadata_text("purpose"),
            Some("usage_billing" | "credit_topup")
        ) || purchase
            .and_then(|p| p.plan_snapshot.as_ref()?.plan_type.as_deref())
            .is_some_and(|k| k.eq_ignore_ascii_case("usage-based"));
        book.add(product, currency.code(), |x| {
            x.gross = x.gross.saturating_add(amount);
            if usage {
                x.usage = x.usage.saturating_add(amount);
            }
        });
    }
    if !unknown.is_empty() {
        notes.push(format!(
            "{} transactions have a status this server does not know, left out of every figure: {}",
            unknown.len(),
            listed(&unknown)
        ));
    }
    if unattributed > 0 {
        notes.push(format!(
            "{unattributed} transactions of the period name no product (no productId, no \
             metadata.purchaseRef of a purchase read); left out of this product's figures"
        ));
    }
    book.totals
        .entry(inputs.base_currency.code().to_owned())
        .or_default();
    let rows = |by: &BTreeMap<String, Tally>| -> Vec<CurrencyMetrics> {
        let base = inputs.base_currency.code();
        let mut out: Vec<CurrencyMetrics> = by
            .iter()
            .map(|(c, t)| CurrencyMetrics::of(c, t, reported))
            .collect();
        out.sort_by_key(|m| (m.currency != base, m.currency.clone()));
        out
    };
    Metrics {
        totals: rows(&book.totals),
        by_product: book
            .products
            .iter()
            .map(|(product, by)| ProductMetrics {
                product_ref: product.clone(),
                product_name: product.as_ref().and_then(|r| names.get(r).cloned()),
                currencies: rows(by),
            })
            .collect(),
        reactivations_reported: reported,
        notes,
    }
}

#[cfg(test)]
mod tests;
