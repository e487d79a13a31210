//! Checkout, billing-portal and usage-limit tools against a mocked SolvaPay.

use rmcp::ServiceExt;
use serde_json::{Value, json};
use solvapay_mcp::options::ServerOptions;
use solvapay_mcp::policy::ToolSelection;
use solvapay_mcp::{BillingServer, SolvaPayClient};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, Client, KEY, call, connect, err, ok, request_count, text, upstream};

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

/// SolvaPay's limit answer (asked never to make a checkout session) and the customer's purchases.
async fn mount_limits(api: &MockServer, answer: Value, purchases: Value) {
    Mock::given(method("POST"))
        .and(path("/v1/sdk/limits"))
        .and(body_json(json!({
            "customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "includeCheckoutSession": false
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .expect(1)
        .mount(api)
        .await;
    mount_purchases(api, purchases).await;
}

async fn mount_purchases(api: &MockServer, purchases: Value) {
    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases"))
        .and(query_param("customerRef", "cus_X7Y8Z9W0"))
        .and(query_param("productRef", "prd_P9Q0R1S2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"purchases": purchases})))
        .mount(api)
        .await;
}

/// The product's plans, read when the customer has no purchase.
async fn mount_plans(api: &MockServer, plans: Value) {
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products/prd_P9Q0R1S2/plans"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"plans": plans})))
        .expect(1)
        .mount(api)
        .await;
}

fn plan(reference: &str, name: &str, price: i64, default: bool) -> Value {
    json!({"reference": reference, "name": name, "type": "recurring", "price": price,
           "currency": "USD", "status": "active", "default": default,
           "requiresPayment": price > 0, "limit": 100, "freeUnits": 100})
}

/// A client of a server started with `selection`.
async fn connect_selecting(api: &MockServer, selection: ToolSelection) -> Client {
    let options = ServerOptions {
        policy: selection.resolve(None).unwrap(),
        ..ServerOptions::default()
    };
    let client = SolvaPayClient::new(&support::config(&api.uri()));
    let server = BillingServer::with_options(client, options);
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(client_io).await.unwrap()
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

fn over_the_limit() -> Value {
    json!({"withinLimits": false, "remaining": 0, "meterName": "requests",
           "plans": [{"reference": "pln_FREE", "name": "Free", "requiresPayment": false},
                     {"reference": "pln_K5L6M7N8", "name": "Pro", "requiresPayment": true}]})
}

#[tokio::test]
async fn check_limits_over_the_limit_makes_no_link_and_names_the_tool_that_does() {
    let api = upstream().await;
    mount_limits(&api, over_the_limit(), json!([free_tier(100)])).await;
    let client = connect(&api.uri()).await;
    let result = call(
        &client,
        "check_limits",
        json!({"customerId": "cus_X7Y8Z9W0", "productReference": "prd_P9Q0R1S2"}),
    )
    .await;
    let out = result.structured_content.clone().unwrap();
    assert_eq!(out["state"], "limit_reached");
    assert_eq!(out["withinLimits"], false);
    assert_eq!(out["used"], 100);
    assert!(out.get("checkoutUrl").is_none(), "{out}");
    assert_eq!(
        out["nextStep"],
        "For a payment link, call create_checkout_session with customerRef cus_X7Y8Z9W0 and \
         productRef prd_P9Q0R1S2 (planRef: one of pln_K5L6M7N8 (Pro))."
    );
    let summary = text(&result);
    let summary = summary.lines().next().unwrap();
    assert!(
        summary.starts_with("Limit reached: used 100 of 100 requests this period")
            && summary.ends_with("call create_checkout_session with customerRef cus_X7Y8Z9W0 and productRef prd_P9Q0R1S2 (planRef: one of pln_K5L6M7N8 (Pro))."),
        "{summary}"
    );
}

#[tokio::test]
async fn check_limits_under_read_only_says_how_to_get_a_link() {
    let api = upstream().await;
    mount_limits(&api, over_the_limit(), json!([free_tier(100)])).await;
    let read_only = ToolSelection {
        read_only: true,
        ..ToolSelection::default()
    };
    let client = connect_selecting(&api, read_only).await;
    let out = ok(
        &client,
        "check_limits",
        json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    let next = out["nextStep"].as_str().unwrap();
    assert!(
        next.starts_with("No payment link was made: check_limits only reads, and this server runs with --read-only. Run it without --read-only, then call create_checkout_session with customerRef cus_X7Y8Z9W0"),
        "{next}"
    );
    // Left out by the tool flags rather than --read-only: the advice says so.
    let api = upstream().await;
    mount_limits(&api, over_the_limit(), json!([free_tier(100)])).await;
    let without_checkout = ToolSelection {
        tools: vec!["check_limits".into()],
        ..ToolSelection::default()
    };
    let client = connect_selecting(&api, without_checkout).await;
    let out = ok(
        &client,
        "check_limits",
        json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    let next = out["nextStep"].as_str().unwrap();
    assert!(
        next.contains("create_checkout_session is not enabled on this server"),
        "{next}"
    );
}

#[tokio::test]
async fn check_limits_without_a_purchase_never_sends_the_check_that_enrols() {
    // SolvaPay's limit check enrols a customer without a purchase in a free default plan.
    let api = upstream().await;
    mount_purchases(&api, json!([])).await;
    mount_plans(
        &api,
        json!([
            plan("pln_K5L6M7N8", "Pro", 4900, false),
            plan("pln_FREE", "Free", 0, true)
        ]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_X7Y8Z9W0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "reference": "cus_X7Y8Z9W0", "email": "bob@startup.io", "name": "Bob"
        })))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/limits"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let result = call(
        &client,
        "check_limits",
        json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    let out = result.structured_content.clone().unwrap();
    assert_eq!(out["state"], "not_enrolled", "{out}");
    assert_eq!(
        (
            out["withinLimits"].clone(),
            out["used"].clone(),
            out["allowance"].clone(),
            out["remaining"].clone()
        ),
        (json!(true), json!(0), json!(100), json!(100))
    );
    assert_eq!(out["planName"], "Free");
    assert!(
        text(&result).starts_with(
            "No purchase yet: the free default plan Free applies (used 0 of 100 units)"
        ),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn check_limits_reports_activation_as_needs_activation() {
    let api = upstream().await;
    mount_limits(
        &api,
        json!({"withinLimits": false, "remaining": 0, "activationRequired": true}),
        json!([]),
    )
    .await;
    // The default plan is priced: SolvaPay asks for activation and enrols nobody.
    let mut payg = plan("pln_PAYG", "PAYG", 0, true);
    payg["type"] = json!("usage-based");
    payg["creditsPerUnit"] = json!(100);
    payg["requiresPayment"] = json!(true);
    mount_plans(&api, json!([payg])).await;
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
    assert!(
        out["nextStep"]
            .as_str()
            .unwrap()
            .contains("call create_checkout_session"),
        "{out}"
    );
}

#[tokio::test]
async fn check_limits_unknown_customer_is_not_found() {
    let api = upstream().await;
    mount_purchases(&api, json!([])).await;
    mount_plans(&api, json!([plan("pln_K5L6M7N8", "Pro", 4900, false)])).await;
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
