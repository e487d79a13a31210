//! Checkout, billing-portal and usage-limit tools against a mocked SolvaPay.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{KEY, call, connect, err, ok, request_count, text, upstream};

#[tokio::test]
async fn checkout_session_sends_the_refs_and_returns_the_link() {
    let api = upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/checkout-sessions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(body_json(json!({
            "customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "planRef": "pln_K5L6M7N8"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sessionId": "e3f1c2d4b6a89f001122334455667788",
            "checkoutUrl": "https://solvapay.com/customer/checkout?id=e3f1c2d4b6a89f001122334455667788"
        })))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/checkout-sessions"))
        .and(body_json(json!({
            "customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2",
            "returnUrl": "https://app.example.com/done?x=1"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sessionId": "s2", "checkoutUrl": "https://solvapay.com/customer/checkout?id=s2"
        })))
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let out = ok(
        &client,
        "create_checkout_session",
        json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "planRef": "pln_K5L6M7N8"}),
    )
    .await;
    assert_eq!(
        out,
        json!({
            "checkoutUrl": "https://solvapay.com/customer/checkout?id=e3f1c2d4b6a89f001122334455667788",
            "sessionId": "e3f1c2d4b6a89f001122334455667788",
            "customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "planRef": "pln_K5L6M7N8"
        })
    );
    let out = ok(
        &client,
        "create_checkout_session",
        json!({"customerId": "cus_X7Y8Z9W0", "productReference": "prd_P9Q0R1S2",
               "returnUrl": "https://app.example.com/done?x=1"}),
    )
    .await;
    assert_eq!(out["sessionId"], "s2");
}

#[tokio::test]
async fn checkout_rejects_bad_return_urls_before_any_request() {
    let api = upstream().await;
    let client = connect(&api.uri()).await;
    for url in [
        "javascript:alert(1)",
        "ftp://x.example/a",
        "not a url",
        "https://",
    ] {
        let args = json!({"customerRef": "cus_1", "productRef": "prd_1", "returnUrl": url});
        let e = err(&client, "create_checkout_session", args).await;
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR", "{url}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("returnUrl"),
            "{url}"
        );
    }
    let e = err(
        &client,
        "create_checkout_session",
        json!({"customerRef": "cus_1"}),
    )
    .await;
    assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(request_count(&api).await, 0);
}

#[tokio::test]
async fn customer_session_returns_portal_link_expiry_and_name() {
    let api = upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/customers/customer-sessions"))
        .and(body_json(json!({"customerRef": "cus_A1B2C3D4"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sessionId": "ps_xyz789", "customerUrl": "https://solvapay.com/customer/manage?id=ps_xyz789"
        })))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "reference": "cus_A1B2C3D4", "name": "Jane Smith", "email": "jane@acme.com"
        })))
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let result = call(
        &client,
        "create_customer_session",
        json!({"customerRef": "cus_A1B2C3D4"}),
    )
    .await;
    assert!(
        text(&result).starts_with("Billing portal for Jane Smith (valid 15 min"),
        "{}",
        text(&result)
    );
    let out = result.structured_content.unwrap();
    assert_eq!(
        out["customerUrl"],
        "https://solvapay.com/customer/manage?id=ps_xyz789"
    );
    assert_eq!(out["sessionId"], "ps_xyz789");
    assert_eq!(out["customerName"], "Jane Smith");
    assert_eq!(out["expiresInMinutes"], 15);
    let expires = out["expiresAt"].as_str().unwrap();
    assert!(expires.len() >= 20 && expires.contains('T'), "{expires}");
}

async fn mount_limits(api: &MockServer, answer: Value, purchases: Value) {
    Mock::given(method("POST"))
        .and(path("/v1/sdk/limits"))
        .and(body_json(json!({
            "customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "includeCheckoutSession": true
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(api)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases"))
        .and(query_param("customerRef", "cus_X7Y8Z9W0"))
        .and(query_param("productRef", "prd_P9Q0R1S2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"purchases": purchases})))
        .mount(api)
        .await;
}

fn free_tier(used: i64) -> Value {
    json!({
        "reference": "pur_FREE", "customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2",
        "status": "active", "amount": 0, "currency": "USD", "startDate": "2026-01-01T00:00:00Z",
        "planSnapshot": {"reference": "pln_FREE", "name": "Free", "price": 0, "currency": "USD",
                         "planType": "recurring", "limit": 100, "freeUnits": 100},
        "usage": {"used": used, "overageUnits": 0, "overageCost": 0,
                  "periodStart": "2026-02-01T00:00:00Z", "periodEnd": "2026-03-01T00:00:00Z"}
    })
}

#[tokio::test]
async fn check_limits_seed_call_reports_used_allowance_and_period() {
    let api = upstream().await;
    mount_limits(
        &api,
        json!({"withinLimits": true, "remaining": 13, "meterName": "requests"}),
        json!([free_tier(87)]),
    )
    .await;
    let client = connect(&api.uri()).await;
    let result = call(
        &client,
        "check_limits",
        json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    assert!(
        text(&result).starts_with("Within limits: used 87 of 100 requests this period"),
        "{}",
        text(&result)
    );
    let out = result.structured_content.unwrap();
    assert_eq!(out["state"], "within_limits");
    assert_eq!(
        (
            out["used"].as_i64(),
            out["allowance"].as_i64(),
            out["remaining"].as_i64()
        ),
        (Some(87), Some(100), Some(13))
    );
    assert_eq!(out["unit"], "requests");
    assert_eq!(out["free"], true);
    assert_eq!(out["planName"], "Free");
    assert_eq!(out["periodStart"], "2026-02-01T00:00:00Z");
    assert_eq!(out["periodEnd"], "2026-03-01T00:00:00Z");
    assert_eq!(out["unlimited"], false);
}

#[tokio::test]
async fn check_limits_over_the_limit_carries_the_checkout_url() {
    let api = upstream().await;
    mount_limits(
        &api,
        json!({"withinLimits": false, "remaining": 0, "meterName": "requests",
               "checkoutUrl": "https://solvapay.com/customer/checkout?id=abc", "checkoutSessionId": "abc"}),
        json!([free_tier(100)]),
    )
    .await;
    let client = connect(&api.uri()).await;
    let out = ok(
        &client,
        "check_limits",
        json!({"customerId": "cus_X7Y8Z9W0", "productReference": "prd_P9Q0R1S2"}),
    )
    .await;
    assert_eq!(out["state"], "limit_reached");
    assert_eq!(out["withinLimits"], false);
    assert_eq!(out["used"], 100);
    assert_eq!(
        out["checkoutUrl"],
        "https://solvapay.com/customer/checkout?id=abc"
    );
}

#[tokio::test]
async fn check_limits_reports_activation_as_needs_activation() {
    let api = upstream().await;
    mount_limits(
        &api,
        json!({"withinLimits": false, "remaining": 0, "activationRequired": true,
               "checkoutUrl": "https://solvapay.com/customer/checkout?id=act"}),
        json!([]),
    )
    .await;
    let client = connect(&api.uri()).await;
    let result = call(
        &client,
        "check_limits",
        json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    let summary = text(&result);
    assert!(summary.starts_with("Needs activation"), "{summary}");
    assert!(
        !summary.contains("used up") || summary.contains("not used up"),
        "{summary}"
    );
    let out = result.structured_content.unwrap();
    assert_eq!(out["state"], "needs_activation");
    assert!(out.get("used").is_none());
}

#[tokio::test]
async fn check_limits_unknown_customer_is_not_found() {
    let api = upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/limits"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "statusCode": 404, "message": "Customer with reference cus_X7Y8Z9W0 not found"
        })))
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let e = err(
        &client,
        "check_limits",
        json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    assert_eq!(e["error"]["code"], "NOT_FOUND");
    let e = err(
        &client,
        "check_limits",
        json!({"customerRef": "cus_X7Y8Z9W0"}),
    )
    .await;
    assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
}
