//! Billing rules: period arithmetic, the renewal/expiry sweep, purchase activation and
//! cancellation, the limits cap, refund rules, the fee. Each "Sandbox choice" of BEHAVIOUR.md lives in one named function here.

use rusqlite::{Transaction, params};
use serde_json::{Value, json};
use time::{Date, Duration, Month, OffsetDateTime};

use super::error::{ApiError, ApiResult};
use super::model::{self, Customer, NewTxn, Plan, Product, Purchase, Txn};
use super::util::{fmt_ts, new_id, new_ref, parse_ts};

/// `remaining` reported when there is no cap (Sandbox choice 9.10).
pub(crate) const UNLIMITED_REMAINING: i64 = 999_999;

/// The provider's currency (`GET /v1/sdk/merchant` → `defaultCurrency`).
pub(crate) const PROVIDER_CURRENCY: &str = "USD";

/// `t` plus `n` cycles (sandbox choice 1.3 / 9.4: calendar arithmetic). weekly +7 days, monthly +1
/// month, quarterly +3 months, yearly +1 year, custom +30 days; the day of month is clamped to the
/// month's last day. Computed from `t` in one step, so there is no clamping drift.
pub(crate) fn add_cycles(t: OffsetDateTime, cycle: &str, n: i32) -> OffsetDateTime {
    match cycle {
        "weekly" => t + Duration::days(7 * i64::from(n)),
        "quarterly" => add_months(t, 3 * n),
        "yearly" => add_months(t, 12 * n),
        "custom" => t + Duration::days(30 * i64::from(n)),
        _ => add_months(t, n),
    }
}

fn add_months(t: OffsetDateTime, months: i32) -> OffsetDateTime {
    let total = t.year() * 12 + (t.month() as i32 - 1) + months;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = Month::try_from(month0 as u8 + 1).unwrap_or(Month::January);
    let last = time::util::days_in_month(month, year);
    let day = t.day().min(last);
    Date::from_calendar_date(year, month, day)
        .map(|d| t.replace_date(d))
        .unwrap_or(t)
}

/// Sandbox choice 1.2: `requiresPayment` derived from the plan type and money fields.
pub(crate) fn requires_payment(p: &Plan) -> bool {
    let setup = p.extra.get("setupFee").and_then(Value::as_i64).unwrap_or(0);
    match p.kind.as_str() {
        "usage-based" => p.credits_per_unit.unwrap_or(0) > 0,
        "hybrid" => {
            p.base_price.unwrap_or(0) > 0 || p.price > 0 || p.credits_per_unit.unwrap_or(0) > 0
        }
        _ => p.price > 0 || setup > 0,
    }
}

/// What a purchase of `p` is charged per period (hybrid: the base fee).
pub(crate) fn charge_amount(p: &Plan) -> i64 {
    if p.kind == "hybrid" {
        p.base_price.unwrap_or(p.price)
    } else {
        p.price
    }
}

/// Sandbox choice 6.7: transaction fee, 0 by default.
pub(crate) fn transaction_fee(_kind: &str, _amount: i64) -> i64 {
    0
}

/// The plan frozen into a purchase (`SdkPlanSnapshotDto`, plus the fields the sandbox's limit and
/// renewal rules read).
pub(crate) fn plan_snapshot(p: &Plan) -> Value {
    let mut s = json!({
        "reference": p.reference, "name": p.name, "price": p.price, "currency": p.currency,
        "planType": p.kind, "billingCycle": p.billing_cycle,
        "features": p.extra.get("features").cloned().unwrap_or(Value::Null),
        "limits": p.extra.get("limits").cloned().unwrap_or(Value::Null),
        "limit": p.limit_units, "freeUnits": p.free_units,
        "requiresPayment": requires_payment(p),
    });
    if let Some(m) = s.as_object_mut() {
        if let Some(c) = p.credits_per_unit {
            m.insert("creditsPerUnit".into(), c.into());
        }
        if let Some(b) = p.billing_model.as_deref() {
            m.insert("billingModel".into(), b.into());
        }
        if matches!(p.kind.as_str(), "usage-based" | "hybrid") {
            m.insert("meterRef".into(), METER_REF.into());
        }
        if let Some(o) = p.extra.get("overagePolicy") {
            m.insert("overagePolicy".into(), o.clone());
        }
    }
    s
}

/// Credits per minor unit of USD (`creditsPerMinorUnit`; SolvaPay's documented normal).
pub(crate) const CREDITS_PER_MINOR_UNIT: i64 = 100;

/// Sandbox choice (credits): a plan debits credits per usage unit when it is usage-based, pre-paid
/// and has `creditsPerUnit` (the same rule the usage debit applies to a purchase's snapshot).
pub(crate) fn credits_per_unit(p: &Plan) -> Option<i64> {
    let cpu = p.credits_per_unit.filter(|c| *c > 0)?;
    (p.kind == "usage-based" && p.billing_model.as_deref() != Some("post-paid")).then_some(cpu)
}

/// The provider's auto-created `requests` meter.
pub(crate) const METER_REF: &str = "mtr_REQUESTS";

/// Activate `plan` for `customer`: expire any access-granting purchase of the same product (plan
/// switch), create the new purchase, and record a completed payment when money is due. Returns the
/// new purchase id. `reference`/`txn_ref` pin references (demo data).
pub(crate) fn activate(
    tx: &Transaction<'_>,
    at: OffsetDateTime,
    customer: &Customer,
    product: &Product,
    plan: &Plan,
    origin: &str,
    (reference, txn_ref): (Option<&str>, Option<&str>),
) -> ApiResult<String> {
    let at_s = fmt_ts(at);
    tx.execute(
        "UPDATE purchases SET status = 'expired', end_date = ?1, auto_renew = 0, updated_at = ?1
         WHERE customer_id = ?2 AND product_id = ?3 AND status IN ('active', 'trialing')",
        params![at_s, customer.id, product.id],
    )?;
    let recurring = matches!(plan.kind.as_str(), "recurring" | "hybrid");
    let cycle = plan
        .billing_cycle
        .clone()
        .or_else(|| (plan.kind == "usage-based").then(|| "monthly".to_owned()));
    let period_end = cycle.as_deref().map(|c| fmt_ts(add_cycles(at, c, 1)));
    let amount = charge_amount(plan);
    let id = new_id();
    let reference = reference.map_or_else(|| new_ref("pur"), str::to_owned);
    tx.execute(
        "INSERT INTO purchases (id, reference, customer_id, product_id, plan_id, status, amount,
           currency, start_date, paid_at, is_recurring, billing_cycle, auto_renew, next_billing_date,
           period_start, period_end, origin, plan_snapshot, metadata, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, ?8, ?9, ?10, ?11, ?10, ?12, ?8, ?13, ?14, ?15,
           '{}', ?8, ?8)",
        params![
            id,
            reference,
            customer.id,
            product.id,
            plan.id,
            amount,
            plan.currency,
            at_s,
            (amount > 0).then_some(&at_s),
            recurring,
            cycle,
            if recurring { period_end.clone() } else { None },
            period_end,
            origin,
            plan_snapshot(plan).to_string(),
        ],
    )?;
    if amount > 0 {
        model::insert_txn(
            tx,
            NewTxn {
                kind: "payment",
                status: "completed",
                amount,
                fee: transaction_fee("payment", amount),
                currency: &plan.currency,
                customer_id: &customer.id,
                product_id: &product.id,
                purchase_id: Some(&id),
                original_id: None,
                description: format!("{} - {}", product.name, plan.name),
                metadata: json!({"purchaseRef": reference, "planRef": plan.reference}),
                at: &at_s,
                reference: txn_ref,
            },
        )?;
    }
    Ok(id)
}

/// Bring the ledger up to `now`: finish pending refunds (Sandbox choice 6.3: completed on the next
/// read), expire sessions, and roll purchase periods (renew, reset usage windows, expire cancelled).
pub(crate) fn sweep(tx: &Transaction<'_>, now: OffsetDateTime) -> ApiResult<()> {
    let now_s = fmt_ts(now);
    tx.execute(
        "UPDATE transactions SET status = 'completed', updated_at = ?1
         WHERE type = 'refund' AND status = 'initiated'",
        [&now_s],
    )?;
    for table in ["checkout_sessions", "customer_sessions"] {
        tx.execute(
            &format!(
                "UPDATE {table} SET status = 'expired' WHERE status = 'active' AND expires_at <= ?1"
            ),
            [&now_s],
        )?;
    }
    let due = model::purchases_where(
        tx,
        "status IN ('active', 'trialing') AND period_end IS NOT NULL AND period_end <= ?1",
        &[&now_s],
    )?;
    for p in due {
        roll_purchase(tx, &p, now)?;
    }
    Ok(())
}

/// Sandbox choices 9.1 and 9.3: a cancelled purchase expires at its period end; an auto-renewing one
/// advances in place, one completed `payment` per renewal; other purchases only move their usage
/// window.
fn roll_purchase(tx: &Transaction<'_>, p: &Purchase, now: OffsetDateTime) -> ApiResult<()> {
    let (Some(mut start), Some(mut end)) = (
        p.period_start.as_deref().and_then(parse_ts),
        p.period_end.as_deref().and_then(parse_ts),
    ) else {
        return Ok(());
    };
    if p.cancelled_at.is_some() || (p.is_recurring && !p.auto_renew) {
        tx.execute(
            "UPDATE purchases SET status = 'expired', end_date = COALESCE(end_date, period_end),
             updated_at = ?1 WHERE id = ?2",
            params![fmt_ts(end), p.id],
        )?;
        return Ok(());
    }
    let cycle = p.billing_cycle.clone().unwrap_or_else(|| "monthly".into());
    let product_name: String = tx
        .query_row(
            "SELECT name FROM products WHERE id = ?1",
            [&p.product_id],
            |r| r.get(0),
        )
        .unwrap_or_default();
    // Periods are counted from the purchase start (the anchor), so month-end clamping does not
    // drift: Jan 31 → Feb 28 → Mar 31.
    let anchor = parse_ts(&p.start_date).unwrap_or(start);
    let mut n = 1;
    while n < 100_000 && add_cycles(anchor, &cycle, n) < end {
        n += 1;
    }
    while end <= now && n < 100_000 {
        start = end;
        n += 1;
        end = add_cycles(anchor, &cycle, n);
        if p.is_recurring && p.amount > 0 {
            model::insert_txn(
                tx,
                NewTxn {
                    kind: "payment",
                    status: "completed",
                    amount: p.amount,
                    fee: transaction_fee("payment", p.amount),
                    currency: &p.currency,
                    customer_id: &p.customer_id,
                    product_id: &p.product_id,
                    purchase_id: Some(&p.id),
                    original_id: None,
                    description: format!("{product_name} - {} (renewal)", p.snap_str("name")),
                    metadata: json!({"purchaseRef": p.reference, "renewal": true}),
                    at: &fmt_ts(start),
                    reference: None,
                },
            )?;
        }
    }
    let next = p.is_recurring.then(|| fmt_ts(end));
    tx.execute(
        "UPDATE purchases SET period_start = ?1, period_end = ?2, next_billing_date = ?3,
         paid_at = CASE WHEN ?4 THEN ?1 ELSE paid_at END, updated_at = ?1 WHERE id = ?5",
        params![
            fmt_ts(start),
            fmt_ts(end),
            next,
            p.is_recurring && p.amount > 0,
            p.id
        ],
    )?;
    Ok(())
}

/// Cancel the renewal of `p` (§2.4). Recurring: stays `active` until its period end with
/// `cancelledAt`, `autoRenew: false`, `endDate` = period end. Sandbox choice 9.19: anything else is
/// `cancelled` at once.
pub(crate) fn cancel_purchase(
    tx: &Transaction<'_>,
    p: &Purchase,
    reason: Option<&str>,
    now: OffsetDateTime,
) -> ApiResult<()> {
    if p.cancelled_at.is_some() {
        return Err(ApiError::bad_request(format!(
            "Purchase {} cannot be cancelled: renewal is already cancelled",
            p.reference
        )));
    }
    if !matches!(p.status.as_str(), "active" | "trialing") {
        return Err(ApiError::bad_request(format!(
            "Purchase {} cannot be cancelled (status: {})",
            p.reference, p.status
        )));
    }
    let now_s = fmt_ts(now);
    if p.is_recurring {
        let end = p.period_end.clone().or_else(|| p.next_billing_date.clone());
        tx.execute(
            "UPDATE purchases SET cancelled_at = ?1, cancellation_reason = ?2, auto_renew = 0,
               end_date = COALESCE(?3, ?1), updated_at = ?1 WHERE id = ?4",
            params![now_s, reason, end, p.id],
        )?;
    } else {
        tx.execute(
            "UPDATE purchases SET status = 'cancelled', cancelled_at = ?1, cancellation_reason = ?2,
               auto_renew = 0, end_date = ?1, updated_at = ?1 WHERE id = ?3",
            params![now_s, reason, p.id],
        )?;
    }
    Ok(())
}

/// Sandbox choices 4.4, 4.5, 9.8, 9.9: Σ `units` of `success` events of the customer for the product
/// (or with no product) with timestamps in `[from, to)`.
pub(crate) fn usage_used(
    tx: &Transaction<'_>,
    customer_ref: &str,
    product_ref: &str,
    from: &str,
    to: &str,
) -> ApiResult<i64> {
    Ok(tx.query_row(
        "SELECT COALESCE(SUM(units), 0) FROM usage_events WHERE customer_ref = ?1
           AND (product_ref = ?2 OR product_ref IS NULL) AND outcome = 'success'
           AND ts >= ?3 AND ts < ?4",
        params![customer_ref, product_ref, from, to],
        |r| r.get(0),
    )?)
}

/// Sandbox choice 9.12 and §3.1 step 3: the unit cap of a purchase's plan; `None` = unlimited.
pub(crate) fn usage_cap(p: &Purchase) -> Option<i64> {
    let limit = p.snap_i64("limit");
    let free = p.snap_i64("freeUnits");
    let requires_payment = p
        .plan_snapshot
        .get("requiresPayment")
        .and_then(Value::as_bool)
        .unwrap_or(p.amount > 0);
    let cap = if p.snap_str("planType") == "hybrid" {
        let overage = p.plan_snapshot.get("overagePolicy");
        let allow = overage
            .and_then(|o| o.get("allowOverage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let max = overage
            .and_then(|o| o.get("maxOverage"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if limit > 0 && allow {
            limit + max
        } else {
            limit
        }
    } else if !requires_payment {
        [limit, free]
            .into_iter()
            .filter(|n| *n > 0)
            .min()
            .unwrap_or(0)
    } else {
        limit
    };
    (cap > 0).then_some(cap)
}

/// Sandbox choice 2.2: statuses that grant access (used by limits).
pub(crate) fn grants_access(status: &str) -> bool {
    matches!(status, "active" | "trialing")
}

/// Sandbox choice 6.3: what may be refunded and how much.
pub(crate) fn check_refund(orig: &Txn, amount: i64, currency: &str) -> ApiResult<()> {
    if orig.kind != "payment" || orig.status != "completed" {
        return Err(ApiError::bad_request(format!(
            "Transaction {} is not refundable (status: {})",
            orig.reference, orig.status
        )));
    }
    if !orig.currency.eq_ignore_ascii_case(currency) {
        return Err(ApiError::bad_request(format!(
            "Refund currency {currency} does not match the transaction currency {}",
            orig.currency
        )));
    }
    let refundable = orig.amount - orig.refunded_amount;
    if amount > refundable {
        return Err(ApiError::bad_request(format!(
            "Refund amount {amount} exceeds refundable amount {refundable}"
        )));
    }
    Ok(())
}

/// Sandbox choices 6.4 / 6.5: payment statuses that count as money received (a fully refunded
/// payment was still received; its refunds are subtracted separately).
pub(crate) const RECEIVED_PAYMENT_STATUSES: &str = "('completed', 'refunded')";

/// Sandbox choice 6.5: product balance = payments received − completed refunds − fees.
pub(crate) fn product_balance(tx: &Transaction<'_>, product_id: &str) -> ApiResult<(i64, i64)> {
    let sql = format!(
        "SELECT
           COALESCE(SUM(CASE WHEN type = 'payment' AND status IN {RECEIVED_PAYMENT_STATUSES} THEN amount - fee
                             WHEN type = 'refund' AND status = 'completed' THEN -amount - fee
                             ELSE 0 END), 0),
           COUNT(*)
         FROM transactions WHERE product_id = ?1"
    );
    Ok(tx.query_row(&sql, [product_id], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn calendar_cycles_clamp_to_month_end() {
        #[rustfmt::skip]
        let cases = [
            (datetime!(2026-01-15 00:00 UTC), "monthly", 1, datetime!(2026-02-15 00:00 UTC)),
            (datetime!(2026-01-31 10:00 UTC), "monthly", 1, datetime!(2026-02-28 10:00 UTC)),
            (datetime!(2028-01-31 00:00 UTC), "monthly", 1, datetime!(2028-02-29 00:00 UTC)),
            (datetime!(2026-11-30 00:00 UTC), "quarterly", 1, datetime!(2027-02-28 00:00 UTC)),
            (datetime!(2026-12-15 00:00 UTC), "monthly", 1, datetime!(2027-01-15 00:00 UTC)),
            (datetime!(2026-01-01 00:00 UTC), "weekly", 1, datetime!(2026-01-08 00:00 UTC)),
            (datetime!(2026-01-01 00:00 UTC), "custom", 1, datetime!(2026-01-31 00:00 UTC)),
            (datetime!(2026-01-31 00:00 UTC), "monthly", 2, datetime!(2026-03-31 00:00 UTC)),
            (datetime!(2024-02-29 00:00 UTC), "yearly", 1, datetime!(2025-02-28 00:00 UTC)),
        ];
        for (start, cycle, n, expected) in cases {
            assert_eq!(
                add_cycles(start, cycle, n),
                expected,
                "{start} + {n} {cycle}"
            );
        }
    }
}
