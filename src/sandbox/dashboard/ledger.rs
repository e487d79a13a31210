//! What the dashboard shows, read in the request's swept transaction (so it is what the API would
//! answer at that instant): the live customers, the products with their plans, the purchases with
//! their usage, the transactions, and the money received per currency. Lists come newest first,
//! cut at [`LIST_CAP`] rows with their full count kept, so the page can say how many it left out.

use std::collections::{BTreeMap, HashMap};

use rusqlite::Transaction;
use time::OffsetDateTime;

use super::chart::Revenue;
use crate::sandbox::billing::RECEIVED_PAYMENT_STATUSES;
use crate::sandbox::error::ApiResult;
use crate::sandbox::model::{Customer, Plan, Product, Purchase, Txn};
use crate::sandbox::views::{self, Usage};

/// The most rows a panel lists; the rest are counted, not shown.
pub(crate) const LIST_CAP: usize = 50;

/// The first [`LIST_CAP`] rows of a list and how many there are in all.
pub(crate) struct Capped<T> {
    pub(crate) rows: Vec<T>,
    pub(crate) total: usize,
}

impl<T> Capped<T> {
    fn of(mut all: Vec<T>) -> Self {
        let total = all.len();
        all.truncate(LIST_CAP);
        Self { rows: all, total }
    }

    /// How many rows are not shown.
    pub(crate) fn left_out(&self) -> usize {
        self.total.saturating_sub(self.rows.len())
    }
}

/// A product and its plans (oldest first).
pub(crate) struct ProductRow {
    pub(crate) product: Product,
    pub(crate) plans: Vec<Plan>,
}

/// Who and what a purchase or transaction names.
#[derive(Clone, Default)]
pub(crate) struct Names {
    pub(crate) customer_ref: String,
    pub(crate) customer: String,
    pub(crate) product_ref: String,
    pub(crate) product: String,
}

pub(crate) struct PurchaseRow {
    pub(crate) purchase: Purchase,
    pub(crate) names: Names,
    /// Its current period's usage, as `SdkPurchaseResponse.usage` gives it (metered plans only).
    pub(crate) usage: Option<Usage>,
}

pub(crate) struct TxnRow {
    pub(crate) txn: Txn,
    pub(crate) names: Names,
}

/// Money of one currency over all time: payments received and completed refunds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) payments: i64,
    pub(crate) gross: i64,
    pub(crate) refunds: i64,
    pub(crate) refunded: i64,
}

impl Totals {
    pub(crate) fn net(self) -> i64 {
        self.gross - self.refunded
    }
}

pub(crate) struct Ledger {
    pub(crate) now: OffsetDateTime,
    pub(crate) customers: Capped<Customer>,
    pub(crate) deleted_customers: i64,
    pub(crate) products: Capped<ProductRow>,
    pub(crate) purchases: Capped<PurchaseRow>,
    /// The purchases that have a usage window (metered plans), newest first.
    pub(crate) usage: Capped<PurchaseRow>,
    pub(crate) transactions: Capped<TxnRow>,
    /// Per currency (upper case).
    pub(crate) totals: BTreeMap<String, Totals>,
    pub(crate) revenue: Revenue,
}

/// Whether a transaction is money received (a payment) or given back (a completed refund).
pub(crate) fn received(t: &Txn) -> bool {
    t.kind == "payment" && RECEIVED_PAYMENT_STATUSES.contains(&format!("'{}'", t.status))
}

pub(crate) fn refunded(t: &Txn) -> bool {
    t.kind == "refund" && t.status == "completed"
}

fn all<T>(
    tx: &Transaction<'_>,
    sql: &str,
    row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> ApiResult<Vec<T>> {
    let mut st = tx.prepare(sql)?;
    let rows = st.query_map([], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Ledger {
    pub(crate) fn load(tx: &Transaction<'_>, now: OffsetDateTime) -> ApiResult<Self> {
        let everyone = all(
            tx,
            "SELECT * FROM customers ORDER BY created_at DESC, rowid DESC",
            Customer::from_row,
        )?;
        let products = all(
            tx,
            "SELECT * FROM products ORDER BY created_at DESC, rowid DESC",
            Product::from_row,
        )?;
        let plans = all(
            tx,
            "SELECT * FROM plans ORDER BY created_at, rowid",
            Plan::from_row,
        )?;
        let purchases = all(
            tx,
            "SELECT * FROM purchases ORDER BY start_date DESC, rowid DESC",
            Purchase::from_row,
        )?;
        let txns = all(
            tx,
            "SELECT * FROM transactions ORDER BY created_at DESC, rowid DESC",
            Txn::from_row,
        )?;

        let customer_by_id: HashMap<&str, &Customer> =
            everyone.iter().map(|c| (c.id.as_str(), c)).collect();
        let product_by_id: HashMap<&str, &Product> =
            products.iter().map(|p| (p.id.as_str(), p)).collect();
        let names = |customer: Option<&str>, product: Option<&str>| {
            let c = customer.and_then(|id| customer_by_id.get(id));
            let p = product.and_then(|id| product_by_id.get(id));
            Names {
                customer_ref: c.map(|c| c.reference.clone()).unwrap_or_default(),
                customer: c
                    .map(|c| {
                        if c.name.is_empty() {
                            c.email.clone()
                        } else {
                            c.name.clone()
                        }
                    })
                    .unwrap_or_default(),
                product_ref: p.map(|p| p.reference.clone()).unwrap_or_default(),
                product: p.map(|p| p.name.clone()).unwrap_or_default(),
            }
        };

        let mut purchase_rows = Vec::with_capacity(purchases.len());
        for p in purchases {
            let names = names(Some(&p.customer_id), Some(&p.product_id));
            let usage = views::usage(tx, &p, &names.customer_ref, &names.product_ref, now)?;
            purchase_rows.push(PurchaseRow {
                purchase: p,
                names,
                usage,
            });
        }
        let usage_rows: Vec<PurchaseRow> = purchase_rows
            .iter()
            .filter(|r| r.usage.is_some())
            .map(|r| PurchaseRow {
                purchase: r.purchase.clone(),
                names: r.names.clone(),
                usage: r.usage.clone(),
            })
            .collect();

        let mut totals = BTreeMap::<String, Totals>::new();
        for t in &txns {
            let sum = totals.entry(t.currency.to_uppercase()).or_default();
            if received(t) {
                sum.payments += 1;
                sum.gross += t.amount;
            } else if refunded(t) {
                sum.refunds += 1;
                sum.refunded += t.amount;
            }
        }
        let revenue = Revenue::of(&txns, now);
        let txn_rows: Vec<TxnRow> = txns
            .into_iter()
            .map(|t| {
                let names = names(t.customer_id.as_deref(), t.product_id.as_deref());
                TxnRow { txn: t, names }
            })
            .collect();

        let product_rows: Vec<ProductRow> = products
            .iter()
            .map(|p| ProductRow {
                product: p.clone(),
                plans: plans
                    .iter()
                    .filter(|pl| pl.product_id == p.id)
                    .cloned()
                    .collect(),
            })
            .collect();
        let live = all(
            tx,
            "SELECT * FROM customers WHERE deleted_at IS NULL ORDER BY created_at DESC, rowid DESC",
            Customer::from_row,
        )?;
        let deleted: i64 = tx.query_row(
            "SELECT COUNT(*) FROM customers WHERE deleted_at IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(Self {
            now,
            customers: Capped::of(live),
            deleted_customers: deleted,
            products: Capped::of(product_rows),
            purchases: Capped::of(purchase_rows),
            usage: Capped::of(usage_rows),
            transactions: Capped::of(txn_rows),
            totals,
            revenue,
        })
    }
}
