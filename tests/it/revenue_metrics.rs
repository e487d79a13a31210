//! `get_revenue_metrics`: a November on a sandbox (new, cancelled and reactivated subscriptions, a
//! yearly plan, partial refunds, a second currency, a purchase after the month) against figures
//! computed by hand; the `--demo` data exactly, in both protocol eras; bad periods and an unknown
//! product; an empty month; a transaction list longer than the cap; progress notifications.

use std::time::Duration;

use reqwest::Method;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use solvapay_mcp::options::ServerOptions;
use solvapay_mcp::sandbox::{DbLocation, SandboxOptions};
use solvapay_mcp::{BillingServer, Config, SolvaPayClient};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use super::sandbox_support::{Sb, start_with};
use crate::support::eras::{self, ERAS};
use crate::support::{self, Client, ProgressLog, connect_server, connect_server_as, err, ok};

/// A sandbox on a database file (so a second-currency row can be written beside it) and a client
/// of a server on it whose clock is the sandbox's, as `serve` wires it.
async fn sandbox_on_file() -> (Sb, Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_with(SandboxOptions {
        db: DbLocation::Path(dir.path().join("sandbox.sqlite")),
        ..SandboxOptions::default()
    })
    .await;
    let mut config = Config::for_base_url(sb.sandbox.base_url(), Some(sb.sandbox.key())).unwrap();
    config.retry = support::fast_retries();
    let options = ServerOptions {
        clock: sb.sandbox.clock(),
        ..ServerOptions::default()
    };
    let client = connect_server(BillingServer::with_options(
        SolvaPayClient::new(&config),
        options,
    ))
    .await;
    (sb, client, dir)
}

async fn clock(sb: &Sb, now: &str) {
    sb.ok(
        Method::POST,
        "/v1/sandbox/clock",
        "/v1/sandbox/clock",
        Some(json!({"now": now})),
        200,
    )
    .await;
}

/// The completed payment of `purchase` (its `txn_` reference).
async fn payment_of(sb: &Sb, purchase: &str) -> String {
    let list = sb
        .ok(
            Method::GET,
            "/v1/ui/transactions",
            "/v1/ui/transactions?limit=100",
            None,
            200,
        )
        .await;
    let found = list["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["metadata"]["purchaseRef"] == purchase && t["type"] == "payment")
        .unwrap_or_else(|| panic!("no payment of {purchase}: {list:#}"));
    found["reference"].as_str().unwrap().to_owned()
}

async fn refund(sb: &Sb, payment: &str, amount: i64) {
    let (status, body) = sb
        .post(
            "/v1/ui/transactions/refunds",
            "/v1/ui/transactions/refunds",
            json!({"originalTransactionId": payment, "refundAmount": amount, "currency": "USD",
                   "reason": "Partial goodwill"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The figures of one currency in a list of them.
fn of<'a>(rows: &'a Value, currency: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["currency"] == currency)
        .unwrap_or_else(|| panic!("no {currency} in {rows:#}"))
}

fn money(v: &Value) -> (i64, &str) {
    (
        v["amount"].as_i64().unwrap(),
        v["formatted"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn a_november_on_the_sandbox_gives_the_figures_computed_by_hand() {
    let (sb, client, dir) = sandbox_on_file().await;
    let prd = sb.product("metrics-bot").await;
    let monthly = sb
        .plan(
            &prd,
            json!({"name": "Monthly", "type": "recurring", "price": 4900, "currency": "USD", "billingCycle": "monthly"}),
        )
        .await;
    let yearly = sb
        .plan(
            &prd,
            json!({"name": "Yearly", "type": "recurring", "price": 100_000, "currency": "USD", "billingCycle": "yearly"}),
        )
        .await;
    let (ann, ben, cat, dan, fay) = (
        sb.customer("ann@example.com", "Ann").await,
        sb.customer("ben@example.com", "Ben").await,
        sb.customer("cat@example.com", "Cat").await,
        sb.customer("dan@example.com", "Dan").await,
        sb.customer("fay@example.com", "Fay").await,
    );

    // October 15: Dan subscribes monthly (before the month: not new; his payment not counted).
    clock(&sb, "2026-10-15T09:00:00Z").await;
    let dan_pur = sb.buy(&dan, &prd, &monthly).await;
    // November 2: Ann monthly, Ben yearly. November 5: Cat monthly, and she cancels the renewal.
    clock(&sb, "2026-11-02T09:00:00Z").await;
    let ann_pur = sb.buy(&ann, &prd, &monthly).await;
    let ben_pur = sb.buy(&ben, &prd, &yearly).await;
    clock(&sb, "2026-11-05T09:00:00Z").await;
    let cat_pur = sb.buy(&cat, &prd, &monthly).await;
    ok(
        &client,
        "cancel_renewal",
        json!({"purchaseRef": cat_pur, "reason": "Too dear"}),
    )
    .await;
    // November 6 Dan cancels, November 8 he changes his mind.
    clock(&sb, "2026-11-06T09:00:00Z").await;
    ok(&client, "cancel_renewal", json!({"purchaseRef": dan_pur})).await;
    clock(&sb, "2026-11-08T09:00:00Z").await;
    let back = ok(
        &client,
        "reactivate_renewal",
        json!({"purchaseRef": dan_pur}),
    )
    .await;
    assert_eq!(
        back["reactivatedAt"], "2026-11-08T09:00:00.000Z",
        "{back:#}"
    );
    // The dashboard says so on Dan's row.
    let page = sb.http.get(sb.url("/dashboard")).send().await.unwrap();
    let html = page.text().await.unwrap();
    let row = &html[html.find(&format!("<tr data-ref=\"{dan_pur}\"")).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("(reactivated 2026-11-08)"), "{row}");
    // November 10: partial refunds of Ann's and Ben's payments.
    clock(&sb, "2026-11-10T09:00:00Z").await;
    refund(&sb, &payment_of(&sb, &ann_pur).await, 1500).await;
    refund(&sb, &payment_of(&sb, &ben_pur).await, 20_000).await;
    // November 20 (Dan's renewal of November 15 is charged on the way): a EUR subscription of a
    // second product, paid and partly refunded. The sandbox's provider takes USD only, so these
    // rows are written into the ledger, as another SolvaPay account's would hold them.
    clock(&sb, "2026-11-20T09:00:00Z").await;
    let eu = sb.product("eu-bot").await;
    let eve = sb.customer("eve@example.eu", "Eve").await;
    let ledger = rusqlite::Connection::open(dir.path().join("sandbox.sqlite")).unwrap();
    ledger.busy_timeout(Duration::from_secs(5)).unwrap();
    ledger
        .execute_batch(&format!(
            "INSERT INTO purchases (id, reference, customer_id, product_id, status, amount, currency,
               start_date, paid_at, is_recurring, billing_cycle, auto_renew, next_billing_date,
               period_start, period_end, origin, plan_snapshot, created_at, updated_at)
             SELECT 'eurpur00000000000000001', 'pur_EUR00001', c.id, p.id, 'active', 4500, 'EUR',
               '2026-11-20T09:00:00.000Z', '2026-11-20T09:00:00.000Z', 1, 'monthly', 1,
               '2026-12-20T09:00:00.000Z', '2026-11-20T09:00:00.000Z', '2026-12-20T09:00:00.000Z',
               'paid', '{{\"name\":\"Euro\",\"price\":4500,\"currency\":\"EUR\",\"planType\":\"recurring\",\"billingCycle\":\"monthly\"}}',
               '2026-11-20T09:00:00.000Z', '2026-11-20T09:00:00.000Z'
             FROM customers c, products p WHERE c.reference = '{eve}' AND p.reference = '{eu}';
             INSERT INTO transactions (id, reference, type, status, amount, currency, customer_id,
               product_id, purchase_id, metadata, created_at, updated_at)
             SELECT 'eurtxn00000000000000001', 'txn_EUR00001', 'payment', 'completed', 4500, 'EUR',
               c.id, p.id, 'eurpur00000000000000001', '{{\"purchaseRef\":\"pur_EUR00001\"}}',
               '2026-11-20T09:00:00.000Z', '2026-11-20T09:00:00.000Z'
             FROM customers c, products p WHERE c.reference = '{eve}' AND p.reference = '{eu}';
             INSERT INTO transactions (id, reference, type, status, amount, currency, customer_id,
               product_id, original_id, created_at, updated_at)
             SELECT 'eurtxn00000000000000002', 'txn_EUR00002', 'refund', 'completed', 500, 'EUR',
               c.id, p.id, 'eurtxn00000000000000001', '2026-11-25T09:00:00.000Z', '2026-11-25T09:00:00.000Z'
             FROM customers c, products p WHERE c.reference = '{eve}' AND p.reference = '{eu}';"
        ))
        .unwrap();
    // December 2, after the month: Fay subscribes (not in November), Ann's renewal is charged.
    clock(&sb, "2026-12-02T12:00:00Z").await;
    sb.buy(&fay, &prd, &monthly).await;

    let out = ok(
        &client,
        "get_revenue_metrics",
        json!({"period": "2026-11", "byProduct": true}),
    )
    .await;
    assert_eq!(
        (&out["fromDate"], &out["toDate"], &out["asOf"]),
        (
            &json!("2026-11-01"),
            &json!("2026-11-30"),
            &json!("2026-11-30T23:59:59.999Z")
        )
    );
    assert_eq!(out["complete"], true, "{out:#}");
    assert_eq!(out["reactivationsReported"], true);
    let usd = of(&out["totals"], "USD");
    // Active at the month's end: Ann, Cat (cancelled, paid to December 5), Dan monthly at $49.00,
    // Ben yearly at $1,000.00. ARR = 3 × 4900 × 12 + 100000 = 276400; MRR = 276400 / 12 =
    // 23033.33… → 23033 (rounded once, on the total).
    assert_eq!(money(&usd["arr"]), (276_400, "$2,764.00"));
    assert_eq!(money(&usd["mrr"]), (23_033, "$230.33"));
    assert_eq!(usd["activeSubscriptions"], 4);
    // New: Ann, Ben, Cat (Dan began in October, Fay in December). Churned: Cat. Reactivated: Dan.
    assert_eq!(usd["newSubscriptions"], 3);
    assert_eq!(usd["churnedSubscriptions"], 1);
    assert_eq!(usd["reactivatedSubscriptions"], 1);
    // Gross: Ann 4900 + Ben 100000 + Cat 4900 + Dan's renewal of Nov 15 4900 = 114700 (not Dan's
    // October payment, nor Ann's renewal and Fay's payment of December 2).
    assert_eq!(money(&usd["grossRevenue"]), (114_700, "$1,147.00"));
    // Refunds: 1500 + 20000; net 93200; rate 21500 / 114700 = 0.18744… → 0.1874.
    assert_eq!(money(&usd["refunds"]), (21_500, "$215.00"));
    assert_eq!(money(&usd["netRevenue"]), (93_200, "$932.00"));
    assert_eq!(usd["refundRate"], "0.1874");
    assert_eq!(money(&usd["usageRevenue"]), (0, "$0.00"));
    let eur = of(&out["totals"], "EUR");
    // Eve: €45.00 monthly from November 20; paid 4500, refunded 500: net 4000, rate 0.1111.
    assert_eq!(money(&eur["mrr"]), (4_500, "€45.00"));
    assert_eq!(money(&eur["arr"]), (54_000, "€540.00"));
    assert_eq!(
        (
            &eur["newSubscriptions"],
            &eur["churnedSubscriptions"],
            &eur["reactivatedSubscriptions"]
        ),
        (&json!(1), &json!(0), &json!(0))
    );
    assert_eq!(money(&eur["grossRevenue"]), (4_500, "€45.00"));
    assert_eq!(money(&eur["netRevenue"]), (4_000, "€40.00"));
    assert_eq!(eur["refundRate"], "0.1111");
    // The provider's currency comes first.
    assert_eq!(out["totals"][0]["currency"], "USD");
    // Per product: metrics-bot has only dollars, eu-bot only euros.
    let products = out["byProduct"].as_array().unwrap();
    let row = |r: &str| {
        products
            .iter()
            .find(|p| p["productRef"] == r)
            .unwrap_or_else(|| panic!("no {r}: {products:?}"))
    };
    assert_eq!(row(&prd)["productName"], "metrics-bot");
    assert_eq!(row(&prd)["currencies"].as_array().unwrap().len(), 1);
    assert_eq!(
        money(&of(&row(&prd)["currencies"], "USD")["netRevenue"]).0,
        93_200
    );
    assert_eq!(money(&of(&row(&eu)["currencies"], "EUR")["mrr"]).0, 4_500);
    let text = support::text(
        &support::call(&client, "get_revenue_metrics", json!({"period": "2026-11"})).await,
    );
    assert!(text.contains("USD: MRR $230.33, ARR $2,764.00"), "{text}");
    assert!(text.contains("EUR: MRR €45.00"), "{text}");

    // Only eu-bot: its euros, and zero dollars (the provider's currency is always there).
    let eu_only = ok(
        &client,
        "get_revenue_metrics",
        json!({"period": "2026-11", "productRef": eu}),
    )
    .await;
    assert_eq!(eu_only["productRef"], eu.as_str());
    assert_eq!(
        money(&of(&eu_only["totals"], "EUR")["grossRevenue"]).0,
        4_500
    );
    let zero = of(&eu_only["totals"], "USD");
    assert_eq!(
        (money(&zero["mrr"]).0, money(&zero["grossRevenue"]).0),
        (0, 0)
    );

    // No period: the sandbox's month (December), where Fay is new and nothing churned yet.
    let december = ok(&client, "get_revenue_metrics", json!({})).await;
    assert_eq!(
        (&december["fromDate"], &december["toDate"]),
        (&json!("2026-12-01"), &json!("2026-12-31"))
    );
    assert_eq!(of(&december["totals"], "USD")["newSubscriptions"], 1);
    // Ann's renewal and Fay's first payment, both December 2.
    assert_eq!(
        money(&of(&december["totals"], "USD")["grossRevenue"]).0,
        9_800
    );
}

#[tokio::test]
async fn bad_periods_and_an_unknown_product_are_actionable_errors() {
    let (_sandbox, client) = support::sandbox(true).await;
    for period in ["2026-13", "2026-1", "last month"] {
        let e = err(&client, "get_revenue_metrics", json!({"period": period})).await;
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR", "{e}");
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains("YYYY-MM"), "{period}: {message}");
    }
    let e = err(
        &client,
        "get_revenue_metrics",
        json!({"fromDate": "2026-03-01", "toDate": "2026-02-01"}),
    )
    .await;
    assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("after toDate"),
        "{e}"
    );
    let e = err(
        &client,
        "get_revenue_metrics",
        json!({"period": "2026-01", "productRef": "prd_NOPE0000"}),
    )
    .await;
    assert_eq!(e["error"]["code"], "NOT_FOUND", "{e}");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("prd_NOPE0000") && message.contains("list_products"),
        "{message}"
    );
}

#[tokio::test]
async fn an_empty_month_is_zeros_not_an_empty_answer() {
    let (_sandbox, client) = support::sandbox(false).await;
    let out = ok(&client, "get_revenue_metrics", json!({"period": "2026-11"})).await;
    let totals = out["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 1, "{out:#}");
    let usd = of(&out["totals"], "USD");
    for field in [
        "mrr",
        "arr",
        "grossRevenue",
        "refunds",
        "netRevenue",
        "usageRevenue",
    ] {
        assert_eq!(money(&usd[field]), (0, "$0.00"), "{field}");
    }
    assert_eq!(usd["newSubscriptions"], 0);
    assert!(usd.get("refundRate").is_none(), "no rate of nothing: {usd}");
    // Nothing carries reactivatedAt: not reported, rather than 0.
    assert_eq!(out["reactivationsReported"], false);
    assert!(usd.get("reactivatedSubscriptions").is_none());
    let text = support::text(
        &support::call(&client, "get_revenue_metrics", json!({"period": "2026-11"})).await,
    );
    assert!(text.contains("reactivations not reported"), "{text}");
}

/// The demo (src/sandbox/demo.rs): Jane on Pro at $49.00 monthly from 2026-01-15 (payment
/// txn_D7E8F9G0 that day), Bob on the free usage plan from 2026-02-01 (no charge, no
/// subscription: a free plan has no revenue). The demo clock starts 2026-02-11.
fn assert_demo_january(out: &Value) {
    let usd = of(&out["totals"], "USD");
    assert_eq!(out["totals"].as_array().unwrap().len(), 1);
    // MRR 4900, ARR 12 × 4900.
    assert_eq!(money(&usd["mrr"]), (4_900, "$49.00"));
    assert_eq!(money(&usd["arr"]), (58_800, "$588.00"));
    assert_eq!(
        (
            &usd["activeSubscriptions"],
            &usd["newSubscriptions"],
            &usd["churnedSubscriptions"]
        ),
        (&json!(1), &json!(1), &json!(0))
    );
    assert_eq!(money(&usd["grossRevenue"]), (4_900, "$49.00"));
    assert_eq!(money(&usd["refunds"]).0, 0);
    assert_eq!(money(&usd["netRevenue"]).0, 4_900);
    assert_eq!(usd["refundRate"], "0.0000");
    // The sandbox says reactivatedAt on every purchase (null: never): reported, and none.
    assert_eq!(out["reactivationsReported"], true);
    assert_eq!(usd["reactivatedSubscriptions"], 0);
    assert_eq!(out["purchasesRead"], 2);
    assert_eq!(out["transactionsRead"], 1);
}

#[tokio::test]
async fn the_demo_month_by_month_in_both_protocol_eras() {
    for era in ERAS {
        let (_home, client) = eras::demo(era, &[]).await;
        let Value::Object(args) = json!({"period": "2026-01", "byProduct": true}) else {
            unreachable!()
        };
        let result = client
            .call_tool(CallToolRequestParams::new("get_revenue_metrics").with_arguments(args))
            .await
            .unwrap();
        assert_ne!(result.is_error, Some(true), "{era:?}: {result:?}");
        let out = result.structured_content.unwrap();
        assert_demo_january(&out);
        let products = out["byProduct"].as_array().unwrap();
        assert_eq!(products.len(), 1, "{era:?}");
        assert_eq!(products[0]["productRef"], "prd_P9Q0R1S2");
        assert_eq!(products[0]["productName"], "support-bot");
    }
    // February, the demo's month (the default): Jane still active, nothing new, no payment yet
    // (her renewal is on the 15th).
    let (_sandbox, client) = support::sandbox(true).await;
    let feb = ok(&client, "get_revenue_metrics", json!({})).await;
    assert_eq!(
        (&feb["fromDate"], &feb["toDate"]),
        (&json!("2026-02-01"), &json!("2026-02-28"))
    );
    let usd = of(&feb["totals"], "USD");
    assert_eq!(money(&usd["mrr"]).0, 4_900);
    assert_eq!(
        (&usd["newSubscriptions"], &usd["activeSubscriptions"]),
        (&json!(0), &json!(1))
    );
    assert_eq!(money(&usd["grossRevenue"]).0, 0);
}

#[tokio::test]
async fn a_transaction_list_longer_than_the_cap_says_the_answer_is_incomplete_with_progress() {
    let upstream = solvapay_of("USD", json!([])).await;
    // 2500 payments of $1.00 in the month, 100 a page: the tool reads 10 pages, 1000 rows.
    let rows: Vec<Value> = (0..100)
        .map(|i| {
            json!({"reference": format!("txn_P{i:07}"), "type": "payment", "status": "completed",
                   "amount": 100, "currency": "USD", "createdAt": "2026-11-10T00:00:00.000Z"})
        })
        .collect();
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions"))
        .and(query_param("limit", "100"))
        .and(query_param("fromDate", "2026-11-01T00:00:00.000Z"))
        .and(query_param("toDate", "2026-11-30T23:59:59.999Z"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"transactions": rows, "total": 2500})),
        )
        .expect(10)
        .mount(&upstream)
        .await;
    let config = support::config(&upstream.uri());
    let server = BillingServer::new(SolvaPayClient::new(&config));
    let log = ProgressLog::default();
    let client = connect_server_as(server, log.clone()).await;
    let Value::Object(args) = json!({"period": "2026-11"}) else {
        unreachable!()
    };
    let result = client
        .call_tool(CallToolRequestParams::new("get_revenue_metrics").with_arguments(args))
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    let out = result.structured_content.clone().unwrap();
    assert_eq!(out["complete"], false, "{out:#}");
    let truncated = out["truncated"].as_str().unwrap();
    assert!(
        truncated.contains("1000") && truncated.contains("of 2500"),
        "{truncated}"
    );
    assert_eq!(out["transactionsRead"], 1000);
    assert_eq!(money(&of(&out["totals"], "USD")["grossRevenue"]).0, 100_000);
    let text = support::text(&result);
    assert!(text.contains("INCOMPLETE"), "{text}");
    // One notification per read: purchases, the currency, 10 pages; counting up to the total.
    let seen = log.seen(12).await;
    assert_eq!(seen.len(), 12, "{seen:?}");
    let progress: Vec<f64> = seen.iter().map(|(p, _)| *p).collect();
    assert_eq!(progress, (1..=12).map(f64::from).collect::<Vec<_>>());
    assert_eq!(seen.last().unwrap().1, Some(12.0));
}

#[tokio::test]
async fn pages_smaller_than_asked_are_followed_by_what_came_back() {
    let upstream = solvapay_of("EUR", json!([])).await;
    // SolvaPay answers 40 rows a page (of 100 asked): 100 payments at offsets 0, 40 and 80.
    for (offset, n) in [(0, 40), (40, 40), (80, 20)] {
        let rows: Vec<Value> = (0..n)
            .map(|i| {
                json!({"reference": format!("txn_{offset}_{i}"), "type": "payment",
                       "status": "completed", "amount": 250, "currency": "EUR",
                       "createdAt": "2026-11-10T00:00:00.000Z"})
            })
            .collect();
        Mock::given(method("GET"))
            .and(path("/v1/ui/transactions"))
            .and(query_param("offset", offset.to_string().as_str()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"transactions": rows, "total": 100})),
            )
            .expect(1)
            .mount(&upstream)
            .await;
    }
    let client = support::connect(&upstream.uri()).await;
    let out = ok(&client, "get_revenue_metrics", json!({"period": "2026-11"})).await;
    assert_eq!(out["complete"], true, "{out:#}");
    assert_eq!(out["transactionsRead"], 100);
    // 100 × €2.50, in the provider's currency, which comes first.
    assert_eq!(out["totals"][0]["currency"], "EUR");
    assert_eq!(
        money(&of(&out["totals"], "EUR")["grossRevenue"]),
        (25_000, "€250.00")
    );
}

/// A SolvaPay whose provider currency is `currency` and whose purchases are `purchases` (read once
/// per call: the test makes one); its transactions are the test's to mount.
async fn solvapay_of(currency: &str, purchases: Value) -> wiremock::MockServer {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/merchant"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"defaultCurrency": currency})),
        )
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"purchases": purchases})))
        .expect(1)
        .mount(&upstream)
        .await;
    upstream
}

/// A SolvaPay whose provider currency is `currency`, answering `purchases` and, on one page,
/// `transactions`.
async fn odd_solvapay(
    currency: &str,
    purchases: Value,
    transactions: Value,
) -> (wiremock::MockServer, Client) {
    let upstream = solvapay_of(currency, purchases).await;
    let total = transactions.as_array().map_or(0, Vec::len);
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"transactions": transactions, "total": total})),
        )
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    (upstream, client)
}

#[tokio::test]
async fn odd_but_legal_amounts_currencies_and_offsets_land_in_the_providers_currency() {
    let (_upstream, client) = odd_solvapay(
        "EUR",
        json!([
            // No currency anywhere: the plan's, which is the provider's (EUR), not USD.
            {"reference": "pur_A0000001", "status": "active", "isRecurring": true,
             "productRef": "prd_P0000001", "startDate": "2026-10-05T00:00:00.000Z",
             "planSnapshot": {"price": 2000, "planType": "recurring", "billingCycle": "monthly"}},
            // A string amount, a lower-case code, a start with an offset.
            {"reference": "pur_B0000002", "status": "active", "isRecurring": true,
             "productRef": "prd_P0000001", "originalAmount": "1500", "currency": "eur",
             "billingCycle": "monthly", "startDate": "2026-11-10T12:00:00+02:00",
             "planSnapshot": {"price": 1500, "planType": "recurring"}},
            // A zero-decimal currency, a float amount, yearly.
            {"reference": "pur_C0000003", "status": "active", "isRecurring": true,
             "productRef": "prd_P0000001", "originalAmount": 12000.0, "currency": "jpy",
             "billingCycle": "yearly", "startDate": "2026-09-01T00:00:00.000Z",
             "planSnapshot": {"price": 12000, "currency": "JPY", "planType": "recurring"}},
            // No plan snapshot at all: SolvaPay's isRecurring and the purchase's own charge.
            {"reference": "pur_D0000004", "status": "active", "isRecurring": true,
             "productRef": "prd_P0000001", "originalAmount": 1000, "currency": "EUR",
             "billingCycle": "monthly", "startDate": "2026-10-01T00:00:00.000Z"},
            // A credit top-up: no snapshot, not recurring.
            {"reference": "pur_T0000005", "status": "active", "isRecurring": false,
             "originalAmount": 5000, "currency": "EUR", "startDate": "2026-11-02T00:00:00.000Z"}
        ]),
        json!([
            // No currency, no providerCurrency: the provider's.
            {"reference": "txn_T0000001", "type": "payment", "status": "completed",
             "amount": 2000, "createdAt": "2026-11-05T00:00:00.000Z"},
            // 30 November 23:00 UTC, written in +02:00; a float amount, lower case.
            {"reference": "txn_T0000002", "type": "payment", "status": "completed",
             "amount": 1500.0, "currency": "eur", "createdAt": "2026-12-01T01:00:00+02:00"},
            // 31 October 23:00 UTC: not November, whatever the local date says.
            {"reference": "txn_T0000003", "type": "payment", "status": "completed",
             "amount": 777, "currency": "EUR", "createdAt": "2026-11-01T01:00:00+02:00"},
            {"reference": "txn_T0000004", "type": "payment", "status": "completed",
             "amount": "12000", "currency": "JPY", "createdAt": "2026-11-20T00:00:00.000Z"},
            // A refund bigger than the month's payments: net goes below zero, the rate above 1.
            {"reference": "txn_T0000005", "type": "refund", "status": "completed",
             "amount": -5000, "currency": "EUR", "createdAt": "2026-11-06T00:00:00.000Z"}
        ]),
    )
    .await;
    let out = ok(&client, "get_revenue_metrics", json!({"period": "2026-11"})).await;
    let currencies: Vec<&Value> = out["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["currency"])
        .collect();
    assert_eq!(currencies, [&json!("EUR"), &json!("JPY")], "{out:#}");
    let eur = of(&out["totals"], "EUR");
    assert_eq!(money(&eur["mrr"]), (4_500, "€45.00"), "{out:#}");
    assert_eq!(
        (&eur["activeSubscriptions"], &eur["newSubscriptions"]),
        (&json!(3), &json!(1))
    );
    assert_eq!(money(&eur["grossRevenue"]), (3_500, "€35.00"), "{out:#}");
    assert_eq!(money(&eur["refunds"]), (5_000, "€50.00"));
    assert_eq!(money(&eur["netRevenue"]), (-1_500, "-€15.00"));
    assert_eq!(eur["refundRate"], "1.4286");
    let jpy = of(&out["totals"], "JPY");
    assert_eq!(money(&jpy["arr"]), (12_000, "¥12,000"));
    assert_eq!(money(&jpy["mrr"]), (1_000, "¥1,000"));
    assert_eq!(money(&jpy["grossRevenue"]), (12_000, "¥12,000"));
    assert_eq!(out["complete"], true);
}

#[tokio::test]
async fn what_the_figures_cannot_count_is_said_not_dropped() {
    let (_upstream, client) = odd_solvapay(
        "USD",
        json!([
            // Active and recurring, but no amount anywhere.
            {"reference": "pur_N0000001", "status": "active", "isRecurring": true,
             "startDate": "2026-10-05T00:00:00.000Z", "amount": null,
             "planSnapshot": {"price": null, "planType": "recurring", "billingCycle": "monthly"}},
            // Its paid period ended on the 20th, yet SolvaPay still says active.
            {"reference": "pur_E0000002", "status": "active", "isRecurring": true,
             "originalAmount": 900, "currency": "USD", "billingCycle": "monthly",
             "startDate": "2026-10-20T00:00:00.000Z", "endDate": "2026-11-20T00:00:00.000Z",
             "planSnapshot": {"price": 900, "planType": "recurring"}},
            // A start this server cannot place in time.
            {"reference": "pur_D0000003", "status": "active", "isRecurring": true,
             "originalAmount": 900, "currency": "USD", "billingCycle": "monthly",
             "startDate": "10/05/2026", "planSnapshot": {"price": 900, "planType": "recurring"}}
        ]),
        json!([
            {"reference": "txn_U0000001", "type": "payment", "status": "settled",
             "amount": 999, "currency": "USD", "createdAt": "2026-11-05T00:00:00.000Z"},
            {"reference": "txn_U0000002", "type": "payment", "status": "completed",
             "amount": 100, "currency": "USD", "createdAt": "2026-11-05T00:00:00.000Z"}
        ]),
    )
    .await;
    let out = ok(&client, "get_revenue_metrics", json!({"period": "2026-11"})).await;
    assert_eq!(money(&of(&out["totals"], "USD")["grossRevenue"]).0, 100);
    let notes = out["notes"].to_string();
    for (what, why) in [
        ("pur_N0000001", "amount"),
        ("pur_E0000002", "endDate"),
        ("txn_U0000001", "settled"),
        ("pur_D0000003", "startDate"),
    ] {
        assert!(
            notes.contains(what) && notes.contains(why),
            "{what}: {out:#}"
        );
    }
}

#[tokio::test]
async fn a_period_with_dates_besides_and_months_out_of_range_are_refused() {
    let (_sandbox, client) = support::sandbox(false).await;
    for args in [
        json!({"period": "2026-11", "fromDate": "2026-11-01"}),
        json!({"period": "2026-11", "toDate": "2026-11-30"}),
    ] {
        let e = err(&client, "get_revenue_metrics", args.clone()).await;
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR", "{args}: {e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains("not both"),
            "{e}"
        );
    }
    for period in ["0000-01", "99999-01", "-2026-01"] {
        let e = err(&client, "get_revenue_metrics", json!({"period": period})).await;
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR", "{period}: {e}");
    }
}

#[tokio::test]
async fn an_amount_without_its_charge_is_in_the_providers_currency() {
    // BEHAVIOUR §6.6: `amount` is in the provider's currency, `originalAmount` in `currency`.
    let (_upstream, client) = odd_solvapay(
        "USD",
        json!([]),
        json!([
            {"reference": "txn_C0000001", "type": "payment", "status": "completed",
             "amount": 5300, "currency": "EUR", "providerCurrency": "USD",
             "createdAt": "2026-11-05T00:00:00.000Z"},
            {"reference": "txn_C0000002", "type": "payment", "status": "completed",
             "originalAmount": 4500, "amount": 5300, "currency": "EUR",
             "providerCurrency": "USD", "createdAt": "2026-11-06T00:00:00.000Z"}
        ]),
    )
    .await;
    let out = ok(&client, "get_revenue_metrics", json!({"period": "2026-11"})).await;
    assert_eq!(
        money(&of(&out["totals"], "USD")["grossRevenue"]),
        (5_300, "$53.00"),
        "{out:#}"
    );
    assert_eq!(
        money(&of(&out["totals"], "EUR")["grossRevenue"]),
        (4_500, "€45.00"),
        "{out:#}"
    );
}

#[tokio::test]
async fn an_empty_first_page_of_a_non_empty_list_is_not_a_complete_answer() {
    let upstream = solvapay_of("USD", json!([])).await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"transactions": [], "total": 1_000_000_000_000_u64})),
        )
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let out = ok(&client, "get_revenue_metrics", json!({"period": "2026-11"})).await;
    assert_eq!(out["complete"], false, "{out:#}");
    assert!(
        out["truncated"].as_str().unwrap().contains("1000000000000"),
        "{out:#}"
    );
}

#[tokio::test]
async fn by_product_with_a_product_filter_is_that_product_alone() {
    let (_sandbox, client) = support::sandbox(true).await;
    let out = ok(
        &client,
        "get_revenue_metrics",
        json!({"period": "2026-01", "productRef": "prd_P9Q0R1S2", "byProduct": true}),
    )
    .await;
    assert_demo_january(&out);
    assert_eq!(out["productRef"], "prd_P9Q0R1S2");
    let products = out["byProduct"].as_array().unwrap();
    assert_eq!(products.len(), 1, "{out:#}");
    assert_eq!(products[0]["productRef"], "prd_P9Q0R1S2");
    assert_eq!(products[0]["currencies"], out["totals"], "{out:#}");
}

#[tokio::test]
async fn one_bound_with_an_offset_is_completed_by_its_utc_month() {
    let (_sandbox, client) = support::sandbox(false).await;
    // 30 November 20:00 at -05:00 is 1 December 01:00 UTC: the rest of December.
    let out = ok(
        &client,
        "get_revenue_metrics",
        json!({"fromDate": "2026-11-30T20:00:00-05:00"}),
    )
    .await;
    assert_eq!(out["toDate"], "2026-12-31", "{out:#}");
    // 1 December 01:00 at +02:00 is 30 November 23:00 UTC: November up to then.
    let out = ok(
        &client,
        "get_revenue_metrics",
        json!({"toDate": "2026-12-01T01:00:00+02:00"}),
    )
    .await;
    assert_eq!(out["fromDate"], "2026-11-01", "{out:#}");
}
