//! get_transaction_stats and get_product_balance against a wiremock SolvaPay, and their defaults on
//! the demo sandbox.

use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, KEY};

async fn mount_merchant(server: &MockServer, status: u16, currency: &str) {
    Mock::given(method("GET"))
        .and(path("/v1/sdk/merchant"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_json(json!({"displayName": "Acme", "defaultCurrency": currency})),
        )
        .mount(server)
        .await;
}

fn seed_stats() -> serde_json::Value {
    json!({
        "total": 84, "totalAmount": 387_100, "completedTransactions": 79, "pendingTransactions": 0,
        "failedTransactions": 3, "cancelledTransactions": 0,
        "byType": {"payment": 82, "refund": 2}, "byCurrency": {"USD": 84}
    })
}

#[tokio::test]
async fn seed_stats_for_the_given_range() {
    let server = support::upstream().await;
    mount_merchant(&server, 200, "usd").await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions/stats"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        // A whole day is sent as its first and its last millisecond.
        .and(query_param("fromDate", "2026-01-11T00:00:00.000Z"))
        .and(query_param("toDate", "2026-02-11T23:59:59.999Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(seed_stats()))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let out = support::ok(
        &client,
        "get_transaction_stats",
        json!({"fromDate": "2026-01-11", "toDate": "2026-02-11"}),
    )
    .await;
    assert_eq!(
        (out["fromDate"].clone(), out["toDate"].clone()),
        (json!("2026-01-11"), json!("2026-02-11"))
    );
    assert_eq!(out["total"], 84);
    assert_eq!(out["completedTransactions"], 79);
    assert_eq!(out["failedTransactions"], 3);
    assert_eq!(out["refundedTransactions"], 2);
    assert_eq!(
        out["totalAmount"],
        json!({"amount": 387_100, "currency": "USD", "formatted": "$3,871.00"})
    );
    assert_eq!(out["currencySource"], "merchant");
    assert_eq!(out["byType"]["payment"], 82);
}

#[tokio::test]
async fn stats_default_to_the_last_30_days_and_fall_back_to_usd() {
    let server = support::upstream().await;
    mount_merchant(&server, 404, "").await;
    let today = time::OffsetDateTime::now_utc().date();
    let from = today - time::Duration::days(30);
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions/stats"))
        .and(query_param("fromDate", format!("{from}T00:00:00.000Z").as_str()))
        .and(query_param("toDate", format!("{today}T23:59:59.999Z").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 10, "totalAmount": 5000, "completedTransactions": 7, "pendingTransactions": 1,
            "failedTransactions": 1, "cancelledTransactions": 0, "byType": {"payment": 9}, "byCurrency": {}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let out = support::ok(&client, "get_transaction_stats", json!({})).await;
    assert_eq!(out["fromDate"], from.to_string());
    assert_eq!(out["toDate"], today.to_string());
    // No byType.refund: the remainder no status count covers.
    assert_eq!(out["refundedTransactions"], 1);
    assert_eq!(out["totalAmount"]["formatted"], "$50.00");
    assert_eq!(out["currencySource"], "fallback");
}

#[tokio::test]
async fn stats_refuse_an_inverted_range_without_a_request() {
    let server = support::upstream().await;
    let client = support::connect(&server.uri()).await;
    let result = support::call(
        &client,
        "get_transaction_stats",
        json!({"fromDate": "2026-02-11", "toDate": "2026-01-11"}),
    )
    .await;
    assert_eq!(support::envelope(&result)["error"]["field"], "fromDate");
    assert_eq!(support::request_count(&server).await, 0);
}

#[tokio::test]
async fn seed_product_balance_in_the_merchant_currency() {
    let server = support::upstream().await;
    mount_merchant(&server, 200, "usd").await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products/prd_P9Q0R1S2"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "reference": "prd_P9Q0R1S2", "name": "support-bot", "status": "active", "balance": 89_250,
            "totalTransactions": 31, "isMcpPay": false, "plans": [{"reference": "pln_X", "price": 4900}],
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let out = support::ok(
        &client,
        "get_product_balance",
        json!({"productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    assert_eq!(out["name"], "support-bot");
    assert_eq!(out["reference"], "prd_P9Q0R1S2");
    assert_eq!(
        out["balance"],
        json!({"amount": 89_250, "currency": "USD", "formatted": "$892.50"})
    );
    assert_eq!(out["totalTransactions"], 31);
}

#[tokio::test]
async fn product_balance_uses_a_non_usd_default_and_reports_missing_products() {
    let server = support::upstream().await;
    mount_merchant(&server, 200, "eur").await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products/prd_EU"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"reference": "prd_EU", "name": "eu-bot", "balance": 1050, "totalTransactions": 2})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products/prd_NOPE"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(
                json!({"statusCode": 404, "message": "Product not found: prd_NOPE"}),
            ),
        )
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let out = support::ok(
        &client,
        "get_product_balance",
        json!({"productRef": "prd_EU"}),
    )
    .await;
    assert_eq!(out["balance"]["formatted"], "€10.50");
    let env = support::err(
        &client,
        "get_product_balance",
        json!({"productRef": "prd_NOPE"}),
    )
    .await;
    assert_eq!(env["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_balance_solvapay_does_not_give_is_absent_not_zero() {
    let server = support::upstream().await;
    mount_merchant(&server, 200, "usd").await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products/prd_NEW"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"reference": "prd_NEW", "name": "new-bot", "balance": null, "totalTransactions": "0"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let result = support::call(
        &client,
        "get_product_balance",
        json!({"productRef": "prd_NEW"}),
    )
    .await;
    let out = result.structured_content.clone().unwrap();
    assert!(out.get("balance").is_none(), "{out}");
    assert_eq!(out["totalTransactions"], 0);
    assert!(
        support::text(&result).contains("balance not given"),
        "{}",
        support::text(&result)
    );
}

/// The real binary on `--demo`: the default stats range is the sandbox's last 30 days (its clock
/// starts at 2026-02-11 12:00), not the machine's, and a portal link's expiry is on the same
/// clock, to the millisecond.
#[tokio::test]
async fn on_the_demo_sandbox_defaults_follow_its_clock() {
    use rmcp::ServiceExt;
    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};

    let home = crate::support::bin::Home::new();
    let command = home.command().configure(|c| {
        c.env("RUST_LOG", "warn").arg("--demo");
    });
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    let call = |tool: &str, args: serde_json::Value| {
        CallToolRequestParams::new(tool.to_owned())
            .with_arguments(args.as_object().unwrap().clone())
    };
    let stats = client
        .call_tool(call("get_transaction_stats", json!({})))
        .await
        .unwrap()
        .structured_content
        .unwrap();
    assert_eq!(
        (&stats["fromDate"], &stats["toDate"], &stats["total"]),
        (&json!("2026-01-12"), &json!("2026-02-11"), &json!(1)),
        "{stats}"
    );
    let portal = client
        .call_tool(call(
            "create_customer_session",
            json!({"customerRef": "cus_A1B2C3D4"}),
        ))
        .await
        .unwrap()
        .structured_content
        .unwrap();
    let expires = portal["expiresAt"].as_str().unwrap();
    assert!(expires.starts_with("2026-02-11T12:"), "{expires}");
    assert_eq!(
        (
            expires.len(),
            expires.as_bytes()[19],
            expires.ends_with('Z')
        ),
        (24, b'.', true),
        "milliseconds, exactly: {expires}"
    );
    client.cancel().await.unwrap();
}
