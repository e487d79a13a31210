use serde_json::{Value, json};
use time::macros::{date, datetime};

use super::*;

fn purchase(v: Value) -> PurchaseWire {
    serde_json::from_value(v).unwrap()
}

fn txn(v: Value) -> TransactionWire {
    serde_json::from_value(v).unwrap()
}

/// A paid recurring purchase of `prd_A` in USD started `start`.
fn sub(reference: &str, price: i64, cycle: &str, start: &str) -> Value {
    json!({"reference": reference, "status": "active", "productRef": "prd_A", "productName": "A",
           "originalAmount": price, "currency": "USD", "isRecurring": true, "billingCycle": cycle,
           "startDate": start, "planSnapshot": {"price": price, "currency": "USD", "planType": "recurring"}})
}

fn november() -> Period {
    Period::parse(Some("2026-11"), None, None, date!(2026 - 01 - 01)).unwrap()
}

fn run(purchases: &[PurchaseWire], transactions: &[TransactionWire]) -> Metrics {
    compute(&Inputs {
        period: november(),
        as_of: datetime!(2026-11-30 23:59:59.999 UTC),
        purchases,
        transactions,
        product: None,
        base_currency: &Currency::usd(),
    })
}

#[test]
fn cycles_are_normalised_to_a_year_exactly() {
    assert_eq!(cycles_per_year("weekly"), Some(52));
    assert_eq!(cycles_per_year("Monthly"), Some(12));
    assert_eq!(cycles_per_year("quarterly"), Some(4));
    assert_eq!(cycles_per_year("yearly"), Some(1));
    assert_eq!(cycles_per_year("custom"), None);
}

#[test]
fn mrr_is_rounded_half_up_once_on_the_total() {
    assert_eq!(mrr_of(0), 0);
    assert_eq!(mrr_of(12 * 4900), 4900);
    // A $100.00 yearly plan is 833.33… cents a month: 833.
    assert_eq!(mrr_of(10_000), 833);
    // 6 cents a year is half a cent a month: up.
    assert_eq!(mrr_of(6), 1);
    assert_eq!(mrr_of(5), 0);
    // Three yearly plans of 1000 cents: 83.33… each, 250 together (rounding each would give 249).
    let three = purchase_set(&[("pur_1", 1000), ("pur_2", 1000), ("pur_3", 1000)]);
    let m = run(&three, &[]);
    let usd = m.totals.first().unwrap();
    assert_eq!((usd.mrr.amount, usd.arr.amount), (250, 3000));
    assert_eq!(usd.mrr.formatted, "$2.50");
}

fn purchase_set(items: &[(&str, i64)]) -> Vec<PurchaseWire> {
    items
        .iter()
        .map(|(r, p)| purchase(sub(r, *p, "yearly", "2026-01-10T00:00:00.000Z")))
        .collect()
}

#[test]
fn refund_rate_is_exact_text_rounded_half_up_to_basis_points() {
    assert_eq!(refund_rate(0, 0), None);
    assert_eq!(refund_rate(650, 4900).as_deref(), Some("0.1327"));
    assert_eq!(refund_rate(1, 3).as_deref(), Some("0.3333"));
    assert_eq!(refund_rate(2, 3).as_deref(), Some("0.6667"));
    // 0.00005 exactly: half up.
    assert_eq!(refund_rate(1, 20_000).as_deref(), Some("0.0001"));
    assert_eq!(refund_rate(4900, 4900).as_deref(), Some("1.0000"));
    assert_eq!(refund_rate(0, 10).as_deref(), Some("0.0000"));
}

#[test]
fn periods_are_months_or_ranges_and_bad_ones_say_what_is_accepted() {
    let today = date!(2026 - 02 - 11);
    let feb = Period::parse(None, None, None, today).unwrap();
    assert_eq!(
        (feb.from.wire(), feb.to.wire()),
        ("2026-02-01".into(), "2026-02-28".into())
    );
    let leap = Period::parse(Some("2028-02"), None, None, today).unwrap();
    assert_eq!(leap.to.wire(), "2028-02-29");
    let range = Period::parse(None, Some("2026-01-10"), Some("2026-01-20"), today).unwrap();
    assert!(range.contains(datetime!(2026-01-20 23:59:59 UTC)));
    assert!(!range.contains(datetime!(2026-01-21 00:00 UTC)));
    let open = Period::parse(None, Some("2026-01-10"), None, today).unwrap();
    assert_eq!(open.to.wire(), "2026-01-31");
    for bad in [
        "2026-13",
        "2026-00",
        "26-11",
        "2026-1",
        "November",
        "2026-11-01",
    ] {
        let e = Period::parse(Some(bad), None, None, today).unwrap_err();
        assert_eq!(e.field, "period", "{bad}");
        assert!(e.message.contains("YYYY-MM"), "{bad}: {}", e.message);
    }
    let e = Period::parse(None, Some("2026-03-01"), Some("2026-02-01"), today).unwrap_err();
    assert_eq!(e.field, "fromDate");
    assert!(e.message.contains("after toDate"), "{}", e.message);
    let e = Period::parse(Some("2026-11"), Some("2026-11-01"), None, today).unwrap_err();
    assert!(e.message.contains("not both"), "{}", e.message);
}

#[test]
fn a_month_of_subscriptions_counts_each_rule_once() {
    let mut cancelled = sub("pur_C", 2000, "monthly", "2026-10-05T00:00:00.000Z");
    cancelled["cancelledAt"] = json!("2026-11-10T00:00:00.000Z");
    cancelled["endDate"] = json!("2026-12-05T00:00:00.000Z");
    let mut ended = sub("pur_E", 1000, "weekly", "2026-09-01T00:00:00.000Z");
    ended["status"] = json!("expired");
    ended["endDate"] = json!("2026-11-03T00:00:00.000Z");
    let mut back = sub("pur_R", 3000, "quarterly", "2026-08-01T00:00:00.000Z");
    back["reactivatedAt"] = json!("2026-11-20T00:00:00.000Z");
    let later = sub("pur_L", 9900, "monthly", "2026-12-01T00:00:00.000Z");
    let mut eur = sub("pur_EUR", 4500, "monthly", "2026-11-02T00:00:00.000Z");
    eur["currency"] = json!("eur");
    let free = json!({"reference": "pur_F", "status": "active", "isRecurring": true, "originalAmount": 0,
                      "currency": "USD", "billingCycle": "monthly", "startDate": "2026-11-01T00:00:00.000Z",
                      "planSnapshot": {"price": 0, "planType": "recurring"}});
    let topup = json!({"reference": "pur_T", "status": "active", "originalAmount": 1000, "currency": "USD",
                       "startDate": "2026-11-01T00:00:00.000Z", "planSnapshot": null});
    let new = sub("pur_N", 4900, "monthly", "2026-11-15T00:00:00.000Z");
    let purchases: Vec<PurchaseWire> = [cancelled, ended, back, later, eur, free, topup, new]
        .into_iter()
        .map(purchase)
        .collect();
    let pay = |r: &str, amount: i64, cur: &str, at: &str, status: &str| {
        txn(
            json!({"reference": r, "type": "payment", "status": status, "amount": amount, "currency": cur,
                   "createdAt": at, "productId": "prd_A", "metadata": {"purchaseRef": "pur_N"}}),
        )
    };
    let transactions = vec![
        pay(
            "txn_1",
            4900,
            "USD",
            "2026-11-15T00:00:00.000Z",
            "completed",
        ),
        pay(
            "txn_2",
            4500,
            "EUR",
            "2026-11-02T00:00:00.000Z",
            "completed",
        ),
        pay("txn_3", 1000, "USD", "2026-11-03T00:00:00.000Z", "refunded"),
        pay("txn_4", 1000, "USD", "2026-11-04T00:00:00.000Z", "failed"),
        pay(
            "txn_5",
            9999,
            "USD",
            "2026-10-31T23:59:59.999Z",
            "completed",
        ),
        txn(
            json!({"reference": "txn_6", "type": "refund", "status": "completed", "amount": 1000,
                   "currency": "USD", "createdAt": "2026-11-05T00:00:00.000Z"}),
        ),
        txn(
            json!({"reference": "txn_7", "type": "refund", "status": "completed", "amount": 450,
                   "currency": "EUR", "createdAt": "2026-11-06T00:00:00.000Z"}),
        ),
        txn(
            json!({"reference": "txn_8", "type": "payment", "status": "completed", "amount": 300,
                   "currency": "USD", "createdAt": "2026-11-07T00:00:00.000Z",
                   "metadata": {"purpose": "usage_billing"}}),
        ),
    ];
    let m = run(&purchases, &transactions);
    assert!(m.reactivations_reported);
    let [usd, eur] = m.totals.as_slice() else {
        panic!("two currencies: {:?}", m.totals)
    };
    // Active at Nov 30: pur_C (2000 monthly → 24000/yr), pur_R (3000 quarterly → 12000/yr),
    // pur_N (4900 monthly → 58800/yr). pur_E ended Nov 3, pur_L starts in December.
    assert_eq!(usd.arr.amount, 24_000 + 12_000 + 58_800);
    assert_eq!(usd.mrr.amount, 7_900);
    assert_eq!(usd.active_subscriptions, 3);
    // New: pur_N (the free plan and the top-up are not subscriptions).
    assert_eq!(usd.new_subscriptions, 1);
    // Churned: pur_C (renewal cancelled), pur_E (ended).
    assert_eq!(usd.churned_subscriptions, 2);
    assert_eq!(usd.reactivated_subscriptions, Some(1));
    // Gross: txn_1 4900 + txn_3 1000 (received, refunded later) + txn_8 300.
    assert_eq!(usd.gross_revenue.amount, 6_200);
    assert_eq!(usd.refunds.amount, 1_000);
    assert_eq!(usd.net_revenue.amount, 5_200);
    assert_eq!(usd.refund_rate.as_deref(), Some("0.1613"));
    assert_eq!(usd.usage_revenue.amount, 300);
    assert_eq!(eur.currency, "EUR");
    assert_eq!(
        (eur.mrr.amount, eur.mrr.formatted.as_str()),
        (4_500, "€45.00")
    );
    assert_eq!(
        (eur.new_subscriptions, eur.gross_revenue.amount),
        (1, 4_500)
    );
    assert_eq!((eur.refunds.amount, eur.net_revenue.amount), (450, 4_050));
    assert_eq!(eur.refund_rate.as_deref(), Some("0.1000"));
}

#[test]
fn nothing_to_count_is_zeros_in_the_provider_currency_and_reactivations_unreported() {
    let m = run(&[], &[]);
    let [usd] = m.totals.as_slice() else {
        panic!("{:?}", m.totals)
    };
    assert_eq!(usd.currency, "USD");
    assert_eq!(
        (usd.mrr.formatted.as_str(), usd.gross_revenue.amount),
        ("$0.00", 0)
    );
    assert_eq!(usd.reactivated_subscriptions, None);
    assert_eq!(usd.refund_rate, None);
    assert!(!m.reactivations_reported);
}

#[test]
fn a_cycle_without_a_length_is_named_not_guessed() {
    let odd = purchase(sub("pur_X", 1000, "custom", "2026-11-01T00:00:00.000Z"));
    let m = run(&[odd], &[]);
    assert_eq!(m.totals.first().unwrap().arr.amount, 0);
    assert_eq!(m.totals.first().unwrap().active_subscriptions, 1);
    assert!(m.notes.iter().any(|n| n.contains("pur_X")), "{:?}", m.notes);
}

#[test]
fn a_plan_switch_is_not_churn_and_a_product_filter_names_what_it_cannot_place() {
    let mut old = sub("pur_OLD", 1000, "monthly", "2026-10-01T00:00:00.000Z");
    old["status"] = json!("expired");
    old["customerRef"] = json!("cus_1");
    old["endDate"] = json!("2026-11-12T08:00:00.000Z");
    let mut new = sub("pur_NEW", 4900, "monthly", "2026-11-12T08:00:00.000Z");
    new["customerRef"] = json!("cus_1");
    let mut gone = sub("pur_GONE", 1000, "monthly", "2026-10-01T00:00:00.000Z");
    gone["status"] = json!("expired");
    gone["customerRef"] = json!("cus_2");
    gone["endDate"] = json!("2026-11-12T08:00:00.000Z");
    let purchases: Vec<PurchaseWire> = [old, new, gone].into_iter().map(purchase).collect();
    let loose = txn(
        json!({"reference": "txn_L", "type": "payment", "status": "completed",
                           "amount": 700, "currency": "USD", "createdAt": "2026-11-03T00:00:00.000Z"}),
    );
    let m = compute(&Inputs {
        period: november(),
        as_of: datetime!(2026-11-30 23:59:59.999 UTC),
        purchases: &purchases,
        transactions: &[loose],
        product: Some("prd_A"),
        base_currency: &Currency::usd(),
    });
    let usd = m.totals.first().unwrap();
    // pur_OLD became pur_NEW (same customer, same instant): only pur_GONE churned.
    assert_eq!((usd.new_subscriptions, usd.churned_subscriptions), (1, 1));
    assert_eq!(usd.gross_revenue.amount, 0);
    assert!(
        m.notes
            .iter()
            .any(|n| n.starts_with("1 transactions of the period name no product")),
        "{:?}",
        m.notes
    );
}
