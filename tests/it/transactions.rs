//! list_transactions, get_transaction and create_refund against a wiremock SolvaPay.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, KEY};

fn payment(reference: &str, amount: i64) -> Value {
    json!({
        "id": "65f0c0ffee0000000000000a", "transactionId": "65f0c0ffee0000000000000a",
        "reference": reference, "type": "payment", "transactionType": "payment",
        "amount": amount, "fee": 175, "currency": "USD", "status": "completed",
        "fromEntityType": "customer", "fromEntityName": "Jane Smith",
        "toEntityType": "product", "toEntityName": "support-bot",
        "createdAt": "2026-01-20T10:00:00.000Z", "updatedAt": "2026-01-20T10:00:00.000Z"
    })
}

async fn mount_source(server: &MockServer, source: Value) {
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions/txn_D7E8F9G0"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(source))
        .mount(server)
        .await;
}

async fn mount_refund_list(server: &MockServer, refunds: Value) {
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions"))
        .and(query_param("transactionType", "refund"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"transactions": refunds, "total": 1})),
        )
        .mount(server)
        .await;
}

/// POSTs the refund route received.
async fn refund_posts(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/v1/ui/transactions/refunds")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn list_transactions_passes_filters_and_formats_amounts() {
    let server = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(query_param("limit", "20"))
        .and(query_param("offset", "0"))
        .and(query_param("status", "completed"))
        .and(query_param("fromDate", "2026-01-11T00:00:00.000Z"))
        .and(query_param("toDate", "2026-02-11T00:00:00.000Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "transactions": [payment("txn_D7E8F9G0", 5000), payment("txn_B", 387_100)], "total": 45
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let out = support::ok(
        &client,
        "list_transactions",
        json!({"status": "completed", "fromDate": "2026-01-11", "toDate": "2026-02-11T00:00:00Z"}),
    )
    .await;
    let first = &out["transactions"][0];
    assert_eq!(first["reference"], "txn_D7E8F9G0");
    assert_eq!(
        first["amount"],
        json!({"amount": 5000, "currency": "USD", "formatted": "$50.00"})
    );
    assert_eq!(first["fee"]["formatted"], "$1.75");
    assert_eq!(first["from"], "customer: Jane Smith");
    assert_eq!(out["transactions"][1]["amount"]["formatted"], "$3,871.00");
    assert_eq!(
        (
            out["total"].clone(),
            out["hasMore"].clone(),
            out["nextOffset"].clone()
        ),
        (json!(45), json!(true), json!(2))
    );
}

#[tokio::test]
async fn list_transactions_refuses_bad_filters_without_a_request() {
    let server = support::upstream().await;
    let client = support::connect(&server.uri()).await;
    for (args, field) in [
        (
            json!({"fromDate": "2026-02-12", "toDate": "2026-02-11"}),
            "fromDate",
        ),
        (json!({"toDate": "last week"}), "toDate"),
        (json!({"limit": 0}), "limit"),
    ] {
        let result = support::call(&client, "list_transactions", args).await;
        assert_eq!(support::envelope(&result)["error"]["field"], field);
    }
    let env = support::err(&client, "list_transactions", json!({"status": "pending"})).await;
    assert_eq!(env["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(support::request_count(&server).await, 0);
}

#[tokio::test]
async fn get_transaction_direct_with_old_param_name() {
    let server = support::upstream().await;
    mount_source(&server, payment("txn_D7E8F9G0", 5000)).await;
    let client = support::connect(&server.uri()).await;
    let out = support::ok(
        &client,
        "get_transaction",
        json!({"transactionId": "txn_D7E8F9G0"}),
    )
    .await;
    assert_eq!(out["reference"], "txn_D7E8F9G0");
    assert_eq!(out["type"], "payment");
    assert_eq!(out["status"], "completed");
    assert_eq!(out["amount"]["formatted"], "$50.00");
    assert_eq!(support::request_count(&server).await, 1);
}

#[tokio::test]
async fn get_transaction_falls_back_to_the_list() {
    let server = support::upstream().await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1/ui/transactions/txn_[A-Z0-9]+$"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"statusCode": 404, "message": "Transaction not found"})),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "transactions": [payment("txn_OTHER", 1), payment("txn_D7E8F9G0", 4900)], "total": 2
        })))
        .expect(2)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let out = support::ok(
        &client,
        "get_transaction",
        json!({"transactionRef": "txn_D7E8F9G0"}),
    )
    .await;
    assert_eq!(out["amount"]["amount"], 4900);

    let env = support::err(
        &client,
        "get_transaction",
        json!({"transactionRef": "txn_MISSING"}),
    )
    .await;
    assert_eq!(env["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn seed_partial_refund_of_2500() {
    let server = support::upstream().await;
    mount_source(&server, payment("txn_D7E8F9G0", 5000)).await;
    mount_refund_list(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path("/v1/ui/transactions/refunds"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(body_json(json!({
            "originalTransactionId": "65f0c0ffee0000000000000a", "refundAmount": 2500,
            "currency": "USD", "reason": "Double charge", "metadata": {}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "reference": "txn_H1I2J3K4", "type": "refund", "status": "initiated", "amount": 2500, "currency": "USD"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let out = support::ok(
        &client,
        "create_refund",
        json!({"sourceTransactionId": "txn_D7E8F9G0", "amount": 2500, "reason": "Double charge"}),
    )
    .await;
    assert_eq!(out["refundReference"], "txn_H1I2J3K4");
    assert_eq!(out["status"], "initiated");
    assert_eq!(out["sourceTransactionRef"], "txn_D7E8F9G0");
    assert_eq!(
        out["amount"],
        json!({"amount": 2500, "currency": "USD", "formatted": "$25.00"})
    );
    assert_eq!(out["partial"], true);
    assert_eq!(out["remainingRefundable"]["formatted"], "$25.00");
}

#[tokio::test]
async fn full_refund_refunds_what_remains_with_the_default_reason() {
    let server = support::upstream().await;
    mount_source(&server, payment("txn_D7E8F9G0", 5000)).await;
    mount_refund_list(
        &server,
        json!([{"reference": "txn_R1", "type": "refund", "status": "completed", "amount": 2000, "currency": "USD",
                "metadata": {"originalTransactionRef": "txn_D7E8F9G0"}},
               {"reference": "txn_R2", "type": "refund", "status": "completed", "amount": 999, "currency": "USD",
                "metadata": {"originalTransactionRef": "txn_SOMETHING_ELSE"}}]),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/v1/ui/transactions/refunds"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"message": "Refund initiated successfully"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let out = support::ok(
        &client,
        "create_refund",
        json!({"sourceTransactionRef": "txn_D7E8F9G0"}),
    )
    .await;
    let posted = refund_posts(&server).await;
    assert_eq!(posted[0]["refundAmount"], 3000);
    assert_eq!(posted[0]["reason"], "requested_by_customer");
    assert_eq!(out["amount"]["formatted"], "$30.00");
    assert_eq!(out["partial"], false);
    assert_eq!(out["status"], "initiated");
    assert_eq!(out["refundReference"], Value::Null);
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("list_transactions")
    );
}

#[tokio::test]
async fn over_zero_and_negative_refunds_are_refused_before_any_refund_request() {
    let server = support::upstream().await;
    mount_source(&server, payment("txn_D7E8F9G0", 5000)).await;
    mount_refund_list(
        &server,
        json!([{"reference": "txn_R1", "type": "refund", "status": "initiated", "amount": 4000,
                "metadata": {"originalTransactionRef": "txn_D7E8F9G0"}}]),
    )
    .await;
    let client = support::connect(&server.uri()).await;
    for amount in [0, -100] {
        let result = support::call(
            &client,
            "create_refund",
            json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": amount}),
        )
        .await;
        assert_eq!(support::envelope(&result)["error"]["field"], "amount");
    }
    assert_eq!(
        support::request_count(&server).await,
        0,
        "zero/negative refused before any request"
    );
    // 4000 of 5000 already refunded (pending counts): 1001 is too much.
    let env = support::err(
        &client,
        "create_refund",
        json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": 1001}),
    )
    .await;
    assert_eq!(env["error"]["code"], "VALIDATION_ERROR");
    assert!(
        env["error"]["message"].as_str().unwrap().contains("$10.00"),
        "{env}"
    );
    assert!(refund_posts(&server).await.is_empty());
}

#[tokio::test]
async fn refunded_or_failed_sources_are_refused() {
    let server = support::upstream().await;
    let mut source = payment("txn_D7E8F9G0", 5000);
    source["status"] = json!("refunded");
    mount_source(&server, source).await;
    mount_refund_list(&server, json!([])).await;
    let client = support::connect(&server.uri()).await;
    let env = support::err(
        &client,
        "create_refund",
        json!({"sourceTransactionRef": "txn_D7E8F9G0"}),
    )
    .await;
    assert!(
        env["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already fully refunded")
    );
    assert!(refund_posts(&server).await.is_empty());
}

#[tokio::test]
async fn refund_timeout_is_reported_as_unknown_and_not_retried() {
    let server = support::upstream().await;
    mount_source(&server, payment("txn_D7E8F9G0", 5000)).await;
    mount_refund_list(&server, json!([])).await;
    Mock::given(method("POST"))
        .and(path("/v1/ui/transactions/refunds"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let env = support::err(
        &client,
        "create_refund",
        json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": 100}),
    )
    .await;
    assert!(
        env["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Refund outcome unknown"),
        "{env}"
    );
    assert_eq!(refund_posts(&server).await.len(), 1);
}
