//! `--demo`: a small catalog and two customers whose references match the examples in the seed
//! file, so its calls work verbatim. Seeding is idempotent (skipped when the demo product exists).

use rusqlite::{Transaction, params};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::billing;
use super::error::ApiResult;
use super::model::{self, Plan};
use super::util::{fmt_ts, new_id};

pub(crate) const JANE: &str = "cus_A1B2C3D4";
pub(crate) const BOB: &str = "cus_X7Y8Z9W0";
pub(crate) const PRODUCT: &str = "prd_P9Q0R1S2";
pub(crate) const PRO_PLAN: &str = "pln_K5L6M7N8";
pub(crate) const FREE_PLAN: &str = "pln_F7G8H9J0";
pub(crate) const JANE_PURCHASE: &str = "pur_T3U4V5W6";
pub(crate) const JANE_PAYMENT: &str = "txn_D7E8F9G0";
pub(crate) const BOB_PURCHASE: &str = "pur_B4C5D6E7";
/// Usage Bob has recorded this period: one more call makes the seed's "87 of 100".
pub(crate) const BOB_USAGE: i64 = 86;

/// Where the demo clock starts: the seed's "today" (stats for the last 30 days end 2026-02-11, Jane's
/// next billing is 2026-02-15). The clock keeps flowing from there.
pub(crate) fn demo_now() -> OffsetDateTime {
    datetime!(2026-02-11 12:00 UTC)
}

fn customer(
    tx: &Transaction<'_>,
    reference: &str,
    email: &str,
    name: &str,
    at: OffsetDateTime,
) -> ApiResult<()> {
    tx.execute(
        "INSERT INTO customers (id, reference, email, name, metadata, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, '{}', ?5, ?5)",
        params![new_id(), reference, email, name, fmt_ts(at)],
    )?;
    Ok(())
}

/// Load the demo data unless it is already there.
pub(crate) fn seed(tx: &Transaction<'_>, _now: OffsetDateTime) -> ApiResult<()> {
    if model::find_product(tx, PRODUCT)?.is_some() {
        return Ok(());
    }
    customer(
        tx,
        JANE,
        "jane@acme.com",
        "Jane Smith",
        datetime!(2026-01-10 09:00 UTC),
    )?;
    customer(
        tx,
        BOB,
        "bob@startup.io",
        "Bob",
        datetime!(2026-01-20 09:00 UTC),
    )?;
    let created = fmt_ts(datetime!(2026-01-05 09:00 UTC));
    let product_id = new_id();
    tx.execute(
        "INSERT INTO products (id, reference, name, description, config, metadata, created_at, updated_at)
         VALUES (?1, ?2, 'support-bot', 'Customer support automation', '{}', '{}', ?3, ?3)",
        params![product_id, PRODUCT, created],
    )?;
    let mut free = Plan::blank(&product_id, billing::PROVIDER_CURRENCY, &created);
    free.reference = FREE_PLAN.into();
    free.name = "Free".into();
    free.description = Some("100 free requests per month".into());
    free.kind = "usage-based".into();
    free.billing_model = Some("post-paid".into());
    free.billing_cycle = Some("monthly".into());
    free.free_units = 100;
    free.limit_units = 100;
    free.is_default = true;
    model::insert_plan(tx, &free)?;
    let mut pro = Plan::blank(&product_id, billing::PROVIDER_CURRENCY, &created);
    pro.reference = PRO_PLAN.into();
    pro.name = "Pro".into();
    pro.description = Some("Unlimited support automation".into());
    pro.price = 4900;
    pro.billing_cycle = Some("monthly".into());
    pro.extra
        .insert("features".into(), json!({"prioritySupport": true}));
    model::insert_plan(tx, &pro)?;

    let jane = model::require_customer(tx, JANE)?;
    let bob = model::require_customer(tx, BOB)?;
    let product = model::require_product(tx, PRODUCT)?;
    let jane_start = datetime!(2026-01-15 00:00 UTC);
    billing::activate(
        tx,
        jane_start,
        &jane,
        &product,
        &pro,
        "paid",
        (Some(JANE_PURCHASE), Some(JANE_PAYMENT)),
    )?;
    let bob_start = datetime!(2026-02-01 00:00 UTC);
    billing::activate(
        tx,
        bob_start,
        &bob,
        &product,
        &free,
        "manual",
        (Some(BOB_PURCHASE), None),
    )?;
    for i in 0..BOB_USAGE {
        let ts = fmt_ts(bob_start + Duration::minutes(150 * i));
        tx.execute(
            "INSERT INTO usage_events (id, reference, customer_ref, product_ref, action_type, units,
               outcome, ts, body, created_at)
             VALUES (?1, ?2, ?3, ?4, 'api_call', 1, 'success', ?5, '{}', ?5)",
            params![new_id(), format!("usage_DEMO{i:04}"), BOB, PRODUCT, ts],
        )?;
    }
    Ok(())
}
