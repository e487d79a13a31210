//! Where the real SolvaPay differs from what was assumed (issue 13): dashboard routes that refuse
//! the key, the internal id `DELETE /v1/ui/customers/{id}` takes, inclusive date ranges, what
//! `update_plan` can change, paging by what SolvaPay answers, and the fields its own clients send.

use serde_json::{Value, json};
use solvapay_mcp::Config;
use solvapay_mcp::sandbox::{SandboxOptions, UiRoutes};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::sandbox_support::{Sb, memory, start_with};
use crate::support::{self, Client, call, err, ok, request_count};

const DASHBOARD_ONLY: &str = "not available with an API key (a dashboard-only endpoint";

/// A server using the sandbox `sb`.
async fn client_of(sb: &Sb) -> Client {
    let mut config = Config::for_base_url(sb.sandbox.base_url(), Some(sb.sandbox.key())).unwrap();
    config.retry = support::fast_retries();
    support::connect_with(config).await
}

fn refusal(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({"statusCode": status, "message": "Unauthorized"}))
}

#[tokio::test]
async fn a_dashboard_route_that_refuses_the_key_is_called_once_then_answered_from_memory() {
    let upstream = support::upstream().await;
    sdk_accepts_the_key(&upstream).await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/customers"))
        .respond_with(refusal(401))
        .expect(1)
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions/stats"))
        .respond_with(refusal(403))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    // The key works on /v1/sdk: that is what makes a dashboard refusal a dashboard refusal.
    support::call(
        &client,
        "get_customer",
        json!({"reference": "cus_A1B2C3D4"}),
    )
    .await;

    for _ in 0..2 {
        let e = err(&client, "list_customers", json!({})).await;
        assert_eq!(e["error"]["code"], "UNAUTHORIZED");
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains(DASHBOARD_ONLY), "{message}");
        assert!(!message.contains("invalid"), "{message}");
    }
    assert_eq!(ui_request_count(&upstream).await, 1);

    let range = json!({"fromDate": "2026-01-01", "toDate": "2026-01-31"});
    for _ in 0..2 {
        let e = err(&client, "get_transaction_stats", range.clone()).await;
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains(DASHBOARD_ONLY),
            "{e}"
        );
    }
    // Each refusing route was called once; the merchant lookup for the currency aside.
    assert_eq!(ui_request_count(&upstream).await, 2);
}

/// `GET /v1/sdk/customers/cus_A1B2C3D4` answers a customer: the key is accepted there.
async fn sdk_accepts_the_key(upstream: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"reference": "cus_A1B2C3D4", "email": "jane@acme.com"})),
        )
        .mount(upstream)
        .await;
}

async fn ui_request_count(upstream: &MockServer) -> usize {
    upstream
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().starts_with("/v1/ui/"))
        .count()
}

#[tokio::test]
async fn before_any_sdk_answer_a_dashboard_refusal_names_both_causes_and_is_asked_again() {
    let upstream = support::upstream().await;
    sdk_accepts_the_key(&upstream).await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/customers"))
        .respond_with(refusal(401))
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;

    // Nothing yet says whether the key works: the answer says both, and nothing is remembered.
    for _ in 0..2 {
        let e = err(&client, "list_customers", json!({})).await;
        assert_eq!(e["error"]["code"], "UNAUTHORIZED");
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains(DASHBOARD_ONLY), "{message}");
        assert!(
            message.contains("unless the key itself is refused"),
            "{message}"
        );
    }
    assert_eq!(ui_request_count(&upstream).await, 2);

    // Once /v1/sdk accepts the key, the refusal is the route's, and remembered.
    support::call(
        &client,
        "get_customer",
        json!({"reference": "cus_A1B2C3D4"}),
    )
    .await;
    for _ in 0..2 {
        let e = err(&client, "list_customers", json!({})).await;
        let message = e["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("while its /v1/sdk routes accept"),
            "{message}"
        );
    }
    assert_eq!(ui_request_count(&upstream).await, 3);
}

#[tokio::test]
async fn a_key_refused_on_sdk_is_refused_on_the_dashboard_too_not_dashboard_only() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(refusal(401))
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/customers"))
        .respond_with(refusal(401))
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    err(
        &client,
        "get_customer",
        json!({"reference": "cus_A1B2C3D4"}),
    )
    .await;
    let e = err(&client, "list_customers", json!({})).await;
    assert_eq!(e["error"]["code"], "UNAUTHORIZED");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("refused the API key"), "{message}");
    assert!(!message.contains("dashboard"), "{message}");
}

#[tokio::test]
async fn a_refused_key_on_an_sdk_route_stays_key_refused_and_is_asked_again() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(refusal(401))
        .expect(2)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    for _ in 0..2 {
        let e = err(
            &client,
            "get_customer",
            json!({"reference": "cus_A1B2C3D4"}),
        )
        .await;
        assert_eq!(e["error"]["code"], "UNAUTHORIZED");
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains("refused the API key"), "{message}");
        assert!(!message.contains("dashboard"), "{message}");
    }
}

#[tokio::test]
async fn on_a_sandbox_whose_dashboard_routes_refuse_keys_the_sdk_tools_still_work() {
    let sb = start_with(SandboxOptions {
        ui_routes: UiRoutes::RefuseKey,
        ..memory()
    })
    .await;
    let client = client_of(&sb).await;

    let created = ok(
        &client,
        "create_customer",
        json!({"email": "ui@example.com", "name": "Ui Refused"}),
    )
    .await;
    let reference = created["reference"].as_str().unwrap();
    ok(&client, "get_customer", json!({"reference": reference})).await;
    for tool in [
        "list_customers",
        "list_transactions",
        "get_transaction_stats",
    ] {
        let e = err(&client, tool, json!({})).await;
        assert_eq!(e["error"]["code"], "UNAUTHORIZED", "{tool}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains(DASHBOARD_ONLY),
            "{tool}: {e}"
        );
    }
    // The sandbox itself refuses the key there, and only there.
    let (status, _) = sb.get("/v1/sdk/products", "/v1/sdk/products").await;
    assert_eq!(status, 200);
    let res = sb
        .http
        .get(sb.url("/v1/ui/customers"))
        .bearer_auth(sb.sandbox.key())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn delete_customer_sends_the_internal_id_solvapay_gives_for_the_reference() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"reference": "cus_A1B2C3D4", "id": "507f1f77bcf86cd799439011", "email": "jane@acme.com"}),
        ))
        .expect(1)
        .mount(&upstream)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/ui/customers/507f1f77bcf86cd799439011"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let out = ok(
        &client,
        "delete_customer",
        json!({"reference": "cus_A1B2C3D4"}),
    )
    .await;
    assert_eq!(out, json!({"reference": "cus_A1B2C3D4", "deleted": true}));
    assert_eq!(request_count(&upstream).await, 2);
}

#[tokio::test]
async fn delete_customer_of_an_unknown_reference_sends_no_delete() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_GONE0000"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"statusCode": 404, "message": "Customer with reference cus_GONE0000 not found"}),
        ))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let out = ok(
        &client,
        "delete_customer",
        json!({"reference": "cus_GONE0000"}),
    )
    .await;
    assert_eq!(out["deleted"], false);
    assert_eq!(request_count(&upstream).await, 1);
}

#[tokio::test]
async fn delete_customer_on_the_sandbox_deletes_it() {
    let sb = start_with(memory()).await;
    let client = client_of(&sb).await;
    let reference = sb.customer("gone@example.com", "Soon Gone").await;
    let out = ok(&client, "delete_customer", json!({"reference": reference})).await;
    assert_eq!(out["deleted"], true);
    let list = ok(&client, "list_customers", json!({})).await;
    assert_eq!(list["customers"], json!([]));
}

/// Sets the sandbox clock to `now`.
async fn set_clock(sb: &Sb, now: &str) {
    let res = sb
        .http
        .post(sb.url("/v1/sandbox/clock"))
        .bearer_auth(sb.sandbox.key())
        .json(&json!({"now": now}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn a_whole_last_day_is_in_the_range_and_the_next_midnight_is_not() {
    let sb = start_with(memory()).await;
    let product = sb.product("Boundary").await;
    let plan = sb
        .plan(
            &product,
            json!({"type": "one-time", "name": "Once", "price": 1000, "currency": "USD"}),
        )
        .await;
    let late = sb.customer("late@example.com", "Late").await;
    let next = sb.customer("next@example.com", "Next").await;
    set_clock(&sb, "2026-03-10T23:59:00Z").await;
    sb.buy(&late, &product, &plan).await;
    set_clock(&sb, "2026-03-11T00:00:00Z").await;
    sb.buy(&next, &product, &plan).await;
    let client = client_of(&sb).await;

    let range = json!({"fromDate": "2026-03-10", "toDate": "2026-03-10"});
    let listed = ok(&client, "list_transactions", range.clone()).await;
    let times: Vec<&str> = listed["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["createdAt"].as_str().unwrap())
        .collect();
    assert_eq!(times, ["2026-03-10T23:59:00.000Z"]);
    let stats = ok(&client, "get_transaction_stats", range).await;
    assert_eq!(stats["total"], 1, "{stats}");
    let both = ok(
        &client,
        "get_transaction_stats",
        json!({"fromDate": "2026-03-10", "toDate": "2026-03-11"}),
    )
    .await;
    assert_eq!(both["total"], 2, "{both}");
}

#[tokio::test]
async fn update_plan_refuses_what_solvapay_cannot_change_before_any_request() {
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    for (args, field) in [
        (json!({"setupFee": 500}), "setupFee"),
        (json!({"price": 900, "trialDays": 7}), "trialDays"),
        (json!({"basePrice": 100}), "basePrice"),
        (json!({"type": "one-time"}), "type"),
    ] {
        let mut args = args;
        args["productRef"] = json!("prd_1");
        args["planRef"] = json!("pln_1");
        let e = err(&client, "update_plan", args).await;
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(e["error"]["field"], field);
        let message = e["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("can change: name, description"),
            "{message}"
        );
        assert!(message.contains("nothing was sent"), "{message}");
    }
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn update_plan_sends_only_what_update_plan_request_accepts() {
    let upstream = support::upstream().await;
    Mock::given(method("PUT"))
        .and(path("/v1/sdk/products/prd_1/plans/pln_1"))
        .and(body_json(json!({"price": 900, "freeUnits": 10})))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"reference": "pln_1", "name": "Pro", "price": 900, "currency": "USD", "freeUnits": 10}),
        ))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    ok(
        &client,
        "update_plan",
        json!({"productRef": "prd_1", "planRef": "pln_1", "price": 900, "freeUnits": 10}),
    )
    .await;
}

fn plans(from: usize, count: usize) -> Vec<Value> {
    (from..from + count)
        .map(|i| {
            json!({"reference": format!("pln_{i:04}"), "name": format!("Plan {i}"),
                        "type": "recurring", "status": "active", "price": 100, "currency": "USD"})
        })
        .collect()
}

/// An upstream whose plan pages hold 50 plans whatever is asked, 120 in all.
async fn fifty_a_page(upstream: &MockServer) {
    for (offset, count) in [(0, 50), (50, 50), (100, 20)] {
        Mock::given(method("GET"))
            .and(path("/v1/sdk/products/prd_1/plans"))
            .and(query_param("limit", "100"))
            .and(query_param("offset", offset.to_string().as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "plans": plans(offset, count), "total": 120, "limit": 50, "offset": offset
            })))
            .expect(1)
            .mount(upstream)
            .await;
    }
}

#[tokio::test]
async fn list_plans_for_product_reads_every_page_of_a_fifty_plan_default() {
    let upstream = support::upstream().await;
    fifty_a_page(&upstream).await;
    let client = support::connect(&upstream.uri()).await;
    let out = ok(
        &client,
        "list_plans_for_product",
        json!({"productRef": "prd_1"}),
    )
    .await;
    let refs: Vec<&str> = out["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs.len(), 120);
    assert_eq!(
        (refs[0], refs[50], refs[119]),
        ("pln_0000", "pln_0050", "pln_0119")
    );
    assert_eq!(out["total"], 120);
    assert_eq!(request_count(&upstream).await, 3);
}

#[tokio::test]
async fn list_plans_reads_every_page_of_every_product() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "products": [{"reference": "prd_1", "name": "One"}], "total": 1, "limit": 50, "offset": 0
        })))
        .expect(1)
        .mount(&upstream)
        .await;
    fifty_a_page(&upstream).await;
    let client = support::connect(&upstream.uri()).await;
    let out = ok(&client, "list_plans", json!({"limit": 5, "offset": 115})).await;
    assert_eq!(out["total"], 120);
    assert_eq!(out["plans"][4]["reference"], "pln_0119");
}

#[tokio::test]
async fn check_limits_sends_plan_ref_and_returns_the_confirmation_url() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"purchases": []})))
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products/prd_1/plans"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"plans": [], "total": 0})))
        .mount(&upstream)
        .await;
    let url = "https://solvapay.com/customer/manage?confirm=act_1";
    Mock::given(method("POST"))
        .and(path("/v1/sdk/limits"))
        .and(body_json(json!({
            "customerRef": "cus_A1B2C3D4", "productRef": "prd_1",
            "includeCheckoutSession": false, "planRef": "pln_PAYG"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "withinLimits": false, "remaining": 0, "activationRequired": true, "confirmationUrl": url
        })))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let result = call(
        &client,
        "check_limits",
        json!({"customerRef": "cus_A1B2C3D4", "productRef": "prd_1", "planRef": "pln_PAYG"}),
    )
    .await;
    assert_eq!(result.is_error, Some(false), "{}", support::text(&result));
    let out = result.structured_content.clone().unwrap();
    assert_eq!(out["state"], "needs_activation");
    assert_eq!(out["confirmationUrl"], url);
    assert!(support::text(&result).contains(url));
}

#[tokio::test]
async fn check_limits_on_the_sandbox_gives_the_confirmation_url() {
    let sb = start_with(memory()).await;
    let product = sb.product("Pay as you go").await;
    sb.plan(
        &product,
        json!({"type": "usage-based", "name": "PAYG", "billingModel": "pre-paid",
               "creditsPerUnit": 10, "currency": "USD", "default": true}),
    )
    .await;
    let customer = sb.customer("payg@example.com", "Payg").await;
    let client = client_of(&sb).await;
    let out = ok(
        &client,
        "check_limits",
        json!({"customerRef": customer, "productRef": product}),
    )
    .await;
    assert_eq!(out["state"], "needs_activation", "{out}");
    let url = out["confirmationUrl"].as_str().unwrap();
    assert!(url.starts_with(sb.sandbox.base_url()), "{url}");
}

#[tokio::test]
async fn create_customer_sends_external_ref() {
    let upstream = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/customers"))
        .and(body_json(
            json!({"email": "a@b.io", "metadata": {}, "externalRef": "user_42"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"reference": "cus_1", "email": "a@b.io", "externalRef": "user_42"}),
        ))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let out = ok(
        &client,
        "create_customer",
        json!({"email": "a@b.io", "externalRef": "user_42"}),
    )
    .await;
    assert_eq!(out["externalRef"], "user_42");
}

#[tokio::test]
async fn the_binary_with_sandbox_ui_refuses_keys_answers_dashboard_only() {
    use rmcp::ServiceExt;
    use rmcp::model::CallToolRequestParams;
    use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};

    let home = crate::support::bin::Home::new();
    let command = home.command().configure(|c| {
        c.env("RUST_LOG", "warn")
            .args(["--demo", "--sandbox-ui-refuses-keys"]);
    });
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    let call = |tool: &str, args: Value| {
        CallToolRequestParams::new(tool.to_owned())
            .with_arguments(args.as_object().unwrap().clone())
    };
    let jane = client
        .call_tool(call("get_customer", json!({"reference": "cus_A1B2C3D4"})))
        .await
        .unwrap();
    assert_eq!(jane.is_error, Some(false), "{jane:?}");
    let listed = client
        .call_tool(call("list_customers", json!({})))
        .await
        .unwrap();
    assert_eq!(listed.is_error, Some(true));
    let envelope: Value = serde_json::from_str(&support::text(&listed)).unwrap();
    assert_eq!(envelope["error"]["code"], "UNAUTHORIZED");
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains(DASHBOARD_ONLY),
        "{envelope}"
    );
    client.cancel().await.unwrap();
}
