//! Product tools against a mocked SolvaPay.

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{KEY, connect, err, ok, request_count, upstream};

fn auth() -> wiremock::matchers::HeaderExactMatcher {
    header("authorization", format!("Bearer {KEY}").as_str())
}

#[tokio::test]
async fn create_product_sends_name_description_and_empty_metadata() {
    let api = upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/products"))
        .and(auth())
        .and(body_json(json!({
            "name": "support-bot",
            "description": "Customer support automation",
            "metadata": {}
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "reference": "prd_P9Q0R1S2", "name": "support-bot", "status": "active",
            "balance": 0, "totalTransactions": 0, "isMcpPay": false,
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"
        })))
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let out = ok(
        &client,
        "create_product",
        json!({"name": "support-bot", "description": "Customer support automation"}),
    )
    .await;
    assert_eq!(out["reference"], "prd_P9Q0R1S2");
    assert_eq!(out["name"], "support-bot");
    assert_eq!(out["status"], "active");
}

#[tokio::test]
async fn get_product_formats_embedded_plan_prices_and_accepts_product_ref() {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products/prd_P9Q0R1S2"))
        .and(auth())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "reference": "prd_P9Q0R1S2", "name": "support-bot", "status": "active",
            "plans": [{"reference": "pln_K5L6M7N8", "price": 4900, "currency": "usd",
                       "status": "active", "billingCycle": "monthly", "setupFee": 1000}]
        })))
        .expect(2)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    for args in [
        json!({"reference": "prd_P9Q0R1S2"}),
        json!({"productRef": "prd_P9Q0R1S2"}),
    ] {
        let out = ok(&client, "get_product", args).await;
        let plan = &out["plans"][0];
        assert_eq!(plan["price"]["formatted"], "$49.00");
        assert_eq!(plan["price"]["currency"], "USD");
        assert_eq!(
            plan["setupFee"],
            json!({"amount": 1000, "currency": "USD", "formatted": "$10.00"})
        );
    }
}

#[tokio::test]
async fn list_products_passes_filters_and_reports_the_next_page() {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products"))
        .and(query_param("limit", "2"))
        .and(query_param("offset", "2"))
        .and(query_param("search", "bot"))
        .and(query_param("status", "active"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "products": [
                {"reference": "prd_3", "name": "bot three", "status": "active"},
                {"reference": "prd_4", "name": "bot four", "status": "active"}
            ],
            "total": 5, "limit": 2, "offset": 2
        })))
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let out = ok(
        &client,
        "list_products",
        json!({"limit": 2, "offset": 2, "search": "bot", "status": "active"}),
    )
    .await;
    assert_eq!(out["products"][1]["reference"], "prd_4");
    assert_eq!(out["total"], 5);
    assert_eq!(out["hasMore"], true);
    assert_eq!(out["nextOffset"], 4);
}

#[tokio::test]
async fn update_product_sends_only_given_fields() {
    let api = upstream().await;
    Mock::given(method("PUT"))
        .and(path("/v1/sdk/products/prd_1"))
        .and(body_json(json!({"description": "New text"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "reference": "prd_1", "name": "bot", "description": "New text", "status": "active"
        })))
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let out = ok(
        &client,
        "update_product",
        json!({"reference": "prd_1", "description": "New text"}),
    )
    .await;
    assert_eq!(out["description"], "New text");
}

#[tokio::test]
async fn delete_product_reports_the_action() {
    let api = upstream().await;
    Mock::given(method("DELETE"))
        .and(path("/v1/sdk/products/prd_1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": true, "action": "deactivated"})),
        )
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let out = ok(&client, "delete_product", json!({"reference": "prd_1"})).await;
    assert_eq!(
        out,
        json!({"reference": "prd_1", "deleted": true, "action": "deactivated"})
    );
}

#[tokio::test]
async fn missing_product_is_not_found() {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products/prd_NOPE"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "statusCode": 404, "message": "Product not found: prd_NOPE", "error": "Not Found"
        })))
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let e = err(&client, "get_product", json!({"reference": "prd_NOPE"})).await;
    assert_eq!(e["error"]["code"], "NOT_FOUND");
    assert_eq!(e["error"]["message"], "Product not found: prd_NOPE");
}

#[tokio::test]
async fn bad_arguments_never_reach_solvapay() {
    let api = upstream().await;
    let client = connect(&api.uri()).await;
    for (tool, args, field) in [
        ("create_product", json!({"name": "x"}), "name"),
        ("create_product", json!({"name": "<b>bot</b>"}), "name"),
        (
            "get_product",
            json!({"reference": "prd_1/../admin"}),
            "reference",
        ),
        ("update_product", json!({"reference": "prd_1"}), "name"),
        ("list_products", json!({"limit": 0}), "limit"),
    ] {
        let e = err(&client, tool, args).await;
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR", "{tool}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(field),
            "{tool}: {e}"
        );
    }
    let e = err(&client, "list_products", json!({"status": "deleted"})).await;
    assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(request_count(&api).await, 0);
}
