//! Response bodies: the OpenAPI shapes (`CustomerResponse`, `SdkProductResponse`, `Plan`,
//! `SdkPurchaseResponse`, `TransactionResponse`). Absent optional fields are omitted, never `null`.

use rusqlite::{OptionalExtension, Transaction};
use serde_json::{Map, Value, json};

use super::billing;
use super::error::ApiResult;
use super::model::{self, Customer, Plan, Product, Purchase, Txn};
use super::util::fmt_ts;

fn put<T: Into<Value>>(m: &mut Map<String, Value>, key: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(key.to_owned(), v.into());
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Symbol shown next to a price.
fn currency_symbol(c: &str) -> &'static str {
    match c.to_ascii_uppercase().as_str() {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        _ => "",
    }
}

/// `CustomerResponse`, with the customer's active purchases as `PurchaseInfo`.
pub(crate) fn customer(tx: &Transaction<'_>, c: &Customer) -> ApiResult<Value> {
    let mut m = obj(json!({
        "reference": c.reference, "name": c.name, "email": c.email, "metadata": c.metadata,
        "createdAt": c.created_at, "updatedAt": c.updated_at,
    }));
    put(&mut m, "externalRef", c.external_ref.clone());
    put(&mut m, "telephone", c.telephone.clone());
    put(&mut m, "description", c.description.clone());
    let mut infos = Vec::new();
    for p in model::purchases_where(
        tx,
        "customer_id = ?1 AND status IN ('active', 'trialing')",
        &[&c.id],
    )? {
        let (product_ref, product_name) = product_names(tx, &p.product_id)?;
        let mut i = obj(json!({
            "reference": p.reference, "productName": product_name, "productRef": product_ref,
            "status": p.status, "startDate": p.start_date, "amount": p.amount,
            "originalAmount": p.amount, "currency": p.currency, "exchangeRate": 1,
            "planSnapshot": p.plan_snapshot,
        }));
        put(&mut i, "endDate", p.end_date.clone());
        put(&mut i, "cancelledAt", p.cancelled_at.clone());
        put(&mut i, "cancellationReason", p.cancellation_reason.clone());
        put(
            &mut i,
            "planRef",
            p.plan_snapshot.get("reference").and_then(Value::as_str),
        );
        infos.push(Value::Object(i));
    }
    m.insert("purchases".into(), Value::Array(infos));
    Ok(Value::Object(m))
}

fn product_names(tx: &Transaction<'_>, product_id: &str) -> ApiResult<(String, String)> {
    Ok(tx
        .query_row(
            "SELECT reference, name FROM products WHERE id = ?1",
            [product_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or_default())
}

/// `SdkProductResponse`: balance, transaction count and embedded plans.
pub(crate) fn product(tx: &Transaction<'_>, p: &Product) -> ApiResult<Value> {
    let (balance, total_transactions) = billing::product_balance(tx, &p.id)?;
    let plans: Vec<Value> = model::plans_of(tx, &p.id)?.iter().map(sdk_plan).collect();
    let default_plan = model::plans_of(tx, &p.id)?
        .into_iter()
        .find(|pl| pl.is_default)
        .map(|pl| pl.reference);
    let mut m = obj(json!({
        "reference": p.reference, "name": p.name, "status": p.status, "balance": balance,
        "totalTransactions": total_transactions, "isMcpPay": p.is_mcp_pay, "config": p.config,
        "metadata": p.metadata, "plans": plans, "createdAt": p.created_at, "updatedAt": p.updated_at,
    }));
    put(&mut m, "description", p.description.clone());
    put(&mut m, "imageUrl", p.image_url.clone());
    put(&mut m, "productType", p.product_type.clone());
    put(&mut m, "taxBehavior", p.tax_behavior.clone());
    put(&mut m, "defaultPlanRef", default_plan);
    Ok(Value::Object(m))
}

/// Fields common to `Plan` and the embedded `SdkPlanResponse`.
fn plan_common(p: &Plan) -> Map<String, Value> {
    let mut m = obj(json!({
        "reference": p.reference, "price": p.price, "currency": p.currency,
        "currencySymbol": currency_symbol(&p.currency), "status": p.status,
        "isActive": p.status == "active", "requiresPayment": billing::requires_payment(p),
        "hidden": p.hidden, "freeUnits": p.free_units, "limit": p.limit_units,
        "createdAt": p.created_at, "updatedAt": p.updated_at,
    }));
    put(&mut m, "billingCycle", p.billing_cycle.clone());
    put(&mut m, "billingModel", p.billing_model.clone());
    put(&mut m, "creditsPerUnit", p.credits_per_unit);
    for key in ["features", "limits"] {
        put(&mut m, key, p.extra.get(key).cloned());
    }
    if matches!(p.kind.as_str(), "usage-based" | "hybrid") {
        m.insert("measures".into(), "requests".into());
        m.insert("meterRef".into(), billing::METER_REF.into());
    }
    m
}

/// The embedded `SdkPlanResponse` (no `name`, no `type`).
pub(crate) fn sdk_plan(p: &Plan) -> Value {
    Value::Object(plan_common(p))
}

/// `Plan` as the plan routes return it.
pub(crate) fn plan(p: &Plan) -> Value {
    let mut m = plan_common(p);
    m.insert("name".into(), p.name.clone().into());
    m.insert("type".into(), p.kind.clone().into());
    m.insert("default".into(), p.is_default.into());
    put(&mut m, "description", p.description.clone());
    put(&mut m, "basePrice", p.base_price);
    put(&mut m, "metadata", p.extra.get("metadata").cloned());
    for key in [
        "accessExpiryDays",
        "maxActiveUsers",
        "taxBehavior",
        "overagePolicy",
        "autoRenew",
    ] {
        put(&mut m, key, p.extra.get(key).cloned());
    }
    let mut option = obj(json!({"currency": p.currency, "price": p.price, "default": true}));
    put(&mut option, "basePrice", p.base_price);
    m.insert("pricingOptions".into(), json!([option]));
    Value::Object(m)
}

/// `LimitPlanItemDto`.
pub(crate) fn limit_plan_item(p: &Plan) -> Value {
    let mut m = obj(json!({
        "reference": p.reference, "name": p.name, "type": p.kind, "price": p.price,
        "currency": p.currency, "requiresPayment": billing::requires_payment(p),
        "freeUnits": p.free_units,
    }));
    put(&mut m, "creditsPerUnit", p.credits_per_unit);
    put(&mut m, "billingModel", p.billing_model.clone());
    put(&mut m, "billingCycle", p.billing_cycle.clone());
    Value::Object(m)
}

/// `SdkPurchaseResponse`, with `usage` computed live from the usage events (Sandbox choice 2.7).
pub(crate) fn purchase(
    tx: &Transaction<'_>,
    p: &Purchase,
    now: time::OffsetDateTime,
) -> ApiResult<Value> {
    let (customer_ref, customer_email): (String, String) = tx
        .query_row(
            "SELECT reference, email FROM customers WHERE id = ?1",
            [&p.customer_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or_default();
    let (product_ref, product_name) = product_names(tx, &p.product_id)?;
    let mut m = obj(json!({
        "reference": p.reference, "customerRef": customer_ref, "customerEmail": customer_email,
        "productRef": product_ref, "productName": product_name, "status": p.status,
        "amount": p.amount, "originalAmount": p.amount, "currency": p.currency, "exchangeRate": 1,
        "startDate": p.start_date, "isRecurring": p.is_recurring, "autoRenew": p.auto_renew,
        "metadata": p.metadata, "createdAt": p.created_at, "planSnapshot": p.plan_snapshot,
        "origin": p.origin,
    }));
    put(
        &mut m,
        "planRef",
        p.plan_snapshot.get("reference").and_then(Value::as_str),
    );
    put(&mut m, "endDate", p.end_date.clone());
    put(&mut m, "paidAt", p.paid_at.clone());
    if let Some(c) = p.billing_cycle.as_deref().filter(|c| *c != "custom") {
        m.insert("billingCycle".into(), c.into());
    }
    put(&mut m, "nextBillingDate", p.next_billing_date.clone());
    put(&mut m, "cancelledAt", p.cancelled_at.clone());
    put(&mut m, "cancellationReason", p.cancellation_reason.clone());
    // Not in SolvaPay's schema (an extra field is legal there): when the renewal was reactivated,
    // null when never, so a reader can tell "never" from "not reported".
    m.insert("reactivatedAt".into(), p.reactivated_at.clone().into());
    if let Some(u) = usage(tx, p, &customer_ref, &product_ref, now)? {
        m.insert(
            "usage".into(),
            json!({"used": u.used, "overageUnits": u.overage_units, "overageCost": u.overage_cost,
                   "periodStart": u.period_start, "periodEnd": u.period_end}),
        );
    }
    Ok(Value::Object(m))
}

/// A metered purchase's usage in its current period, as `SdkPurchaseResponse.usage` gives it.
#[derive(Debug, Clone)]
pub(crate) struct Usage {
    pub(crate) used: i64,
    pub(crate) overage_units: i64,
    /// In cents (Sandbox choice 2.7).
    pub(crate) overage_cost: i64,
    pub(crate) period_start: String,
    pub(crate) period_end: String,
}

/// The usage of `p` (of customer `customer_ref`, product `product_ref`) at `now`; `None` for a
/// purchase that is not metered or has no period.
pub(crate) fn usage(
    tx: &Transaction<'_>,
    p: &Purchase,
    customer_ref: &str,
    product_ref: &str,
    now: time::OffsetDateTime,
) -> ApiResult<Option<Usage>> {
    let kind = p.snap_str("planType");
    let metered = matches!(kind, "usage-based" | "hybrid")
        || p.snap_i64("limit") > 0
        || p.snap_i64("freeUnits") > 0;
    let (true, Some(start), Some(end)) = (metered, &p.period_start, &p.period_end) else {
        return Ok(None);
    };
    // Events stamped at `now` count (the clock may be frozen); the window ends at `periodEnd`.
    let upto = fmt_ts(now + time::Duration::milliseconds(1)).min(end.clone());
    let used = billing::usage_used(tx, customer_ref, product_ref, start, &upto)?;
    let limit = p.snap_i64("limit");
    let overage = if limit > 0 { (used - limit).max(0) } else { 0 };
    let rate = p
        .plan_snapshot
        .get("overagePolicy")
        .and_then(|o| o.get("overageRate"))
        .and_then(Value::as_i64)
        .unwrap_or_else(|| p.snap_i64("creditsPerUnit"));
    // Sandbox choice 2.7: overage cost in cents at 100 credits per cent, rounded half-up.
    Ok(Some(Usage {
        used,
        overage_units: overage,
        overage_cost: (overage * rate + 50) / 100,
        period_start: start.clone(),
        period_end: end.clone(),
    }))
}

/// `TransactionResponse`.
pub(crate) fn txn(tx: &Transaction<'_>, t: &Txn) -> ApiResult<Value> {
    let customer = match &t.customer_id {
        Some(id) => model::find_customer_any(tx, id)?,
        None => None,
    };
    let product = match &t.product_id {
        Some(id) => model::find_product(tx, id)?,
        None => None,
    };
    let customer_party = (
        "customer",
        customer.as_ref().map(|c| c.reference.clone()),
        customer.as_ref().map(|c| {
            if c.name.is_empty() {
                c.email.clone()
            } else {
                c.name.clone()
            }
        }),
    );
    let product_party = (
        "product",
        product.as_ref().map(|p| p.reference.clone()),
        product.as_ref().map(|p| p.name.clone()),
    );
    let (from, to) = if t.kind == "refund" {
        (product_party, customer_party)
    } else {
        (customer_party, product_party)
    };
    let mut m = obj(json!({
        "id": t.id, "transactionId": t.id, "reference": t.reference, "type": t.kind,
        "transactionType": t.kind, "amount": t.amount, "fee": t.fee, "currency": t.currency,
        "originalAmount": t.amount, "baseCurrencyAmount": t.amount, "exchangeRate": 1,
        "providerCurrency": billing::PROVIDER_CURRENCY, "providerExchangeRate": 1,
        "status": t.status, "metadata": t.metadata, "timestamp": t.created_at,
        "fromEntityType": from.0, "toEntityType": to.0,
        "createdAt": t.created_at, "updatedAt": t.updated_at,
    }));
    put(&mut m, "description", t.description.clone());
    put(&mut m, "fromEntityId", from.1);
    put(&mut m, "fromEntityName", from.2);
    put(&mut m, "toEntityId", to.1);
    put(&mut m, "toEntityName", to.2);
    put(&mut m, "productId", product.map(|p| p.reference));
    put(&mut m, "customerId", customer.map(|c| c.reference));
    Ok(Value::Object(m))
}
