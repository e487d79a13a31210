//! The credits toolset (SolvaPay's 2026 endpoints): each tool's exact request against a mock
//! SolvaPay, the grant's one `Idempotency-Key` per intent across retries and repeats, its
//! confirmation and cap (nothing sent when either refuses), and a credit-based plan on the sandbox
//! from top-up to debit.

use rmcp::model::{CallToolRequestParams, ElicitationAction};
use serde_json::{Value, json};
use solvapay_mcp::options::{Caps, ServerOptions};
use solvapay_mcp::{BillingServer, SolvaPayClient};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::sandbox_support::assert_valid;
use crate::support::person::{Confirmer, connect_as, connect_modern};
use crate::support::{self, err, ok, request_count};

const JANE: &str = "cus_A1B2C3D4";
const BALANCE_PATH: &str = "/v1/sdk/customers/cus_A1B2C3D4/balance";
pub(crate) const CREDITS_PATH: &str = "/v1/sdk/customers/cus_A1B2C3D4/credits";

fn balance(credits: i64) -> Value {
    json!({
        "customerRef": JANE, "credits": credits, "creditsPerMinorUnit": 100,
        "displayCurrency": "USD", "displayExchangeRate": 1,
        "display": {"amountMajor": credits as f64 / 10_000.0, "currency": "USD",
                    "formatted": "$0.42", "exchangeRate": 1, "rateSource": "parity"}
    })
}

pub(crate) fn granted(credits: i64, balance: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "success": true, "customerRef": JANE, "credits": credits, "balance": balance,
        "reason": "Goodwill"
    }))
}

/// An upstream that knows Jane's balance (4,200 credits).
pub(crate) async fn with_balance() -> MockServer {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path(BALANCE_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(balance(4200)))
        .mount(&upstream)
        .await;
    upstream
}

/// The `Idempotency-Key` of every grant request received.
pub(crate) async fn grant_keys(upstream: &MockServer) -> Vec<String> {
    upstream
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r: &&Request| r.method.as_str() == "POST" && r.url.path() == CREDITS_PATH)
        .map(|r| {
            r.headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(none)")
                .to_owned()
        })
        .collect()
}

pub(crate) fn grant(credits: i64) -> Value {
    json!({"customerRef": JANE, "credits": credits, "reason": "Goodwill"})
}

fn server(upstream: &MockServer, options: ServerOptions) -> BillingServer {
    BillingServer::with_options(
        SolvaPayClient::new(&support::config(&upstream.uri())),
        options,
    )
}

#[tokio::test]
async fn a_balance_is_read_from_its_route_with_the_value_of_the_credits() {
    let upstream = with_balance().await;
    let client = support::connect(&upstream.uri()).await;
    let result = ok(
        &client,
        "get_customer_balance",
        json!({"customerRef": JANE}),
    )
    .await;
    assert_eq!(result["credits"], 4200);
    assert_eq!(result["creditsPerMinorUnit"], 100);
    assert_eq!(
        result["value"],
        json!({"amount": 42, "currency": "USD", "formatted": "$0.42"})
    );
    assert_eq!(request_count(&upstream).await, 1);
}

#[tokio::test]
async fn a_grant_sends_its_body_with_one_key_reused_across_a_503_retry() {
    let upstream = with_balance().await;
    Mock::given(method("POST"))
        .and(path(CREDITS_PATH))
        .and(body_json(json!({"credits": 5000, "reason": "Goodwill"})))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path(CREDITS_PATH))
        .and(body_json(json!({"credits": 5000, "reason": "Goodwill"})))
        .respond_with(granted(5000, 9200))
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let result = ok(&client, "grant_credits", grant(5000)).await;
    let keys = grant_keys(&upstream).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(keys[0], keys[1]);
    assert!(keys[0].starts_with("grant_"), "{keys:?}");
    assert_eq!(result["idempotencyKey"], keys[0].as_str());
    assert_eq!(result["credits"], 5000);
    assert_eq!(result["value"]["formatted"], "$0.50");
    assert_eq!(result["balance"], 9200);
    assert_eq!(result["balanceValue"]["formatted"], "$0.92");
    assert_eq!(result["resent"], false);

    // The same grant again, at once: refused (it succeeded), nothing sent; on purpose: a new key.
    let refused = err(&client, "grant_credits", grant(5000)).await;
    assert_eq!(refused["error"]["code"], "VALIDATION_ERROR");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("newGrant: true"),
        "{refused}"
    );
    assert_eq!(grant_keys(&upstream).await.len(), 2);
    let mut again = grant(5000);
    again["newGrant"] = json!(true);
    ok(&client, "grant_credits", again).await;
    let keys = grant_keys(&upstream).await;
    assert_eq!(keys.len(), 3);
    assert_ne!(keys[2], keys[0]);
}

#[tokio::test]
async fn a_grant_of_unknown_outcome_is_repeated_with_the_same_key() {
    let upstream = with_balance().await;
    Mock::given(method("POST"))
        .and(path(CREDITS_PATH))
        .respond_with(ResponseTemplate::new(503))
        .with_priority(10)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let unknown = err(&client, "grant_credits", grant(700)).await;
    let message = unknown["error"]["message"].as_str().unwrap();
    assert!(message.contains("same Idempotency-Key"), "{unknown}");
    let first = grant_keys(&upstream).await;
    assert!(!first.is_empty());

    Mock::given(method("POST"))
        .and(path(CREDITS_PATH))
        .respond_with(granted(700, 4900))
        .with_priority(1)
        .mount(&upstream)
        .await;
    let result = ok(&client, "grant_credits", grant(700)).await;
    assert_eq!(result["resent"], true);
    let keys = grant_keys(&upstream).await;
    assert!(keys.len() > first.len());
    assert!(keys.iter().all(|k| *k == first[0]), "{keys:?}");
}

#[tokio::test]
async fn a_declined_grant_sends_nothing_in_either_era() {
    for answer in [ElicitationAction::Decline, ElicitationAction::Cancel] {
        let upstream = support::upstream().await;
        let person = Confirmer::answering(answer.clone());
        let args = grant(5000);
        let call = CallToolRequestParams::new("grant_credits")
            .with_arguments(args.as_object().unwrap().clone());

        let legacy = connect_as(person.clone(), server(&upstream, ServerOptions::default())).await;
        let result = legacy.call_tool(call.clone()).await.unwrap();
        assert_eq!(result.is_error, Some(true), "{result:?}");

        let modern =
            connect_modern(person.clone(), server(&upstream, ServerOptions::default())).await;
        let result = modern.call_tool(call).await.unwrap();
        assert_eq!(result.is_error, Some(true), "{result:?}");

        assert_eq!(
            person.asked(),
            ["Grant 5000 credits to cus_A1B2C3D4?"; 2],
            "{answer:?}"
        );
        assert_eq!(request_count(&upstream).await, 0, "{answer:?}");
    }
}

#[tokio::test]
async fn a_grant_over_the_operators_cap_sends_nothing() {
    let upstream = support::upstream().await;
    let options = ServerOptions {
        grant_limits: Caps::credit_grants(Some(1000), Some(1500)),
        ..ServerOptions::default()
    };
    let person = Confirmer::answering(ElicitationAction::Accept);
    let client = connect_as(person.clone(), server(&upstream, options)).await;
    let call = |args: Value| {
        CallToolRequestParams::new("grant_credits")
            .with_arguments(args.as_object().unwrap().clone())
    };
    let result = client.call_tool(call(grant(1001))).await.unwrap();
    assert_eq!(result.is_error, Some(true));
    let text = support::text(&result);
    assert!(text.contains("per-call cap of 1000"), "{text}");
    assert!(person.asked().is_empty());
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn reactivation_and_activation_send_exactly_what_the_spec_names() {
    let upstream = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/purchases/pur_T3U4V5W6/reactivate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true,
            "purchase": {"reference": "pur_T3U4V5W6", "status": "active", "autoRenew": true}
        })))
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/activate"))
        .and(body_json(
            json!({"customerRef": JANE, "productRef": "prd_P9Q0R1S2", "planRef": "pln_C1R2E3D4"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "topup_required", "creditBalance": 0, "creditsPerUnit": 10,
            "currency": "USD", "message": "Top up first"
        })))
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let reactivated = ok(
        &client,
        "reactivate_renewal",
        json!({"purchaseRef": "pur_T3U4V5W6"}),
    )
    .await;
    assert_eq!(reactivated["alreadyActive"], false);
    assert_eq!(reactivated["reference"], "pur_T3U4V5W6");
    let activation = ok(
        &client,
        "activate_plan",
        json!({"customerRef": JANE, "productRef": "prd_P9Q0R1S2", "planRef": "pln_C1R2E3D4"}),
    )
    .await;
    assert_eq!(activation["status"], "topup_required");
    assert_eq!(activation["creditBalance"], 0);
    assert_eq!(activation["creditsPerUnit"], 10);
    let requests = upstream.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].body.is_empty(), "reactivate sends no body");
}

/// A credit-based plan on the sandbox: activation waits for credits, a grant tops up (once per
/// key), usage debits `creditsPerUnit` a unit, and the balance and limits follow.
#[tokio::test]
async fn a_credit_based_plan_on_the_sandbox_from_top_up_to_debit() {
    let (sandbox, client) = support::sandbox(false).await;
    let customer = ok(
        &client,
        "create_customer",
        json!({"email": "ada@example.com", "name": "Ada Lovelace"}),
    )
    .await["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let product =
        ok(&client, "create_product", json!({"name": "Analytics API"})).await["reference"]
            .as_str()
            .unwrap()
            .to_owned();
    let plan = ok(
        &client,
        "create_plan",
        json!({"productRef": product, "name": "Pay as you go", "type": "usage-based",
               "billingModel": "pre-paid", "creditsPerUnit": 10, "currency": "USD"}),
    )
    .await["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let activate = json!({"customerRef": customer, "productRef": product, "planRef": plan});
    let first = ok(&client, "activate_plan", activate.clone()).await;
    assert_eq!(first["status"], "topup_required", "{first}");
    assert_eq!(first["creditBalance"], 0);

    let grant = ok(
        &client,
        "grant_credits",
        json!({"customerRef": customer, "credits": 1000, "reason": "Welcome credits"}),
    )
    .await;
    assert_eq!(grant["balance"], 1000, "{grant}");
    assert_eq!(grant["value"]["formatted"], "$0.10");

    // The sandbox grants once per Idempotency-Key, and answers in the spec's shape.
    let http = support::http();
    let url = format!("{}/v1/sdk/customers/{customer}/credits", sandbox.base_url());
    for _ in 0..2 {
        let answer = http
            .post(&url)
            .bearer_auth(sandbox.key())
            .header("Idempotency-Key", "grant_direct_1")
            .json(&json!({"credits": 500}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let body: Value = answer.json().await.unwrap();
        assert_valid(
            &reqwest::Method::POST,
            "/v1/sdk/customers/{reference}/credits",
            200,
            &body,
        );
        assert_eq!(body["balance"], 1500, "{body}");
    }

    let activated = ok(&client, "activate_plan", activate.clone()).await;
    assert_eq!(activated["status"], "activated", "{activated}");
    let again = ok(&client, "activate_plan", activate).await;
    assert_eq!(again["status"], "already_active");
    assert_eq!(again["purchaseRef"], activated["purchaseRef"]);

    let usage = ok(
        &client,
        "record_usage",
        json!({"customerRef": customer, "productRef": product, "units": 3, "outcome": "success"}),
    )
    .await;
    let text = usage.to_string();
    assert!(text.contains("30"), "a debit of 3 × 10 credits: {usage}");

    let left = ok(
        &client,
        "get_customer_balance",
        json!({"customerRef": customer}),
    )
    .await;
    assert_eq!(left["credits"], 1470, "{left}");
    let body: Value = http
        .get(format!(
            "{}/v1/sdk/customers/{customer}/balance",
            sandbox.base_url()
        ))
        .bearer_auth(sandbox.key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_valid(
        &reqwest::Method::GET,
        "/v1/sdk/customers/{reference}/balance",
        200,
        &body,
    );

    let limits = ok(
        &client,
        "check_limits",
        json!({"customerRef": customer, "productRef": product}),
    )
    .await;
    assert!(
        limits.to_string().contains("147"),
        "1,470 credits at 10 a unit: {limits}"
    );
}

/// The sandbox's credit routes, called directly: every answer (success and refusal) matches
/// openapi.json, bad input writes nothing, and activation and reactivation follow the spec.
#[tokio::test]
async fn the_sandbox_credit_routes_answer_as_the_spec_says() {
    use reqwest::Method;
    let sb = crate::sandbox_support::start().await;
    let cus = sb.customer("al@example.com", "Al").await;
    let prd = sb.product("Base").await;
    let free = sb
        .plan(
            &prd,
            json!({"name": "Free", "price": 0, "billingCycle": "monthly"}),
        )
        .await;
    let paid = sb
        .plan(
            &prd,
            json!({"name": "Pro", "price": 500, "billingCycle": "monthly"}),
        )
        .await;
    let other = sb.product("Other").await;
    let balance = format!("/v1/sdk/customers/{cus}/balance");
    let credits = format!("/v1/sdk/customers/{cus}/credits");
    let balance_t = "/v1/sdk/customers/{reference}/balance";
    let credits_t = "/v1/sdk/customers/{reference}/credits";
    let activate_t = "/v1/sdk/activate";
    let refused: Vec<(Method, &str, String, Option<Value>, u16)> = vec![
        (
            Method::GET,
            balance_t,
            "/v1/sdk/customers/cus_NOPE0000/balance".into(),
            None,
            404,
        ),
        (
            Method::POST,
            credits_t,
            "/v1/sdk/customers/cus_NOPE0000/credits".into(),
            Some(json!({"credits": 5})),
            404,
        ),
        (
            Method::POST,
            credits_t,
            credits.clone(),
            Some(json!({"credits": 0})),
            400,
        ),
        (
            Method::POST,
            credits_t,
            credits.clone(),
            Some(json!({"credits": 1.5})),
            400,
        ),
        (
            Method::POST,
            credits_t,
            credits.clone(),
            Some(json!({"reason": "none"})),
            400,
        ),
        (
            Method::POST,
            activate_t,
            activate_t.into(),
            Some(json!({"customerRef": cus, "productRef": prd})),
            400,
        ),
        (
            Method::POST,
            activate_t,
            activate_t.into(),
            Some(json!({"customerRef": "cus_NOPE0000", "productRef": prd, "planRef": free})),
            404,
        ),
    ];
    for (method, template, path, body, expected) in refused {
        let (status, answer) = sb.call(method.clone(), template, &path, body.clone()).await;
        assert_eq!(status, expected, "{method} {path} {body:?} → {answer:#}");
    }
    let (_, b) = sb.get(balance_t, &balance).await;
    assert_eq!(b["credits"], 0, "refused grants granted nothing: {b}");

    let post = |body: Value| sb.ok(Method::POST, activate_t, activate_t, Some(body), 200);
    let invalid = post(json!({"customerRef": cus, "productRef": other, "planRef": free})).await;
    assert_eq!(invalid["status"], "invalid");
    let pay = post(json!({"customerRef": cus, "productRef": prd, "planRef": paid})).await;
    assert_eq!(pay["status"], "payment_required");
    assert!(pay["checkoutUrl"].as_str().unwrap().starts_with("http"));
    let on = post(json!({"customerRef": cus, "productRef": prd, "planRef": free})).await;
    assert_eq!(on["status"], "activated");
    let again = post(json!({"customerRef": cus, "productRef": prd, "planRef": free})).await;
    assert_eq!(again["status"], "already_active");
    assert_eq!(again["purchaseRef"], on["purchaseRef"]);

    // A cancelled renewal can be reactivated until its end date, and not after.
    let paid_pur = sb.buy(&cus, &prd, &paid).await;
    let paid_cancel = format!("/v1/sdk/purchases/{paid_pur}/cancel");
    let paid_reactivate = format!("/v1/sdk/purchases/{paid_pur}/reactivate");
    let cancel_t = "/v1/sdk/purchases/{purchaseRef}/cancel";
    let reactivate_t = "/v1/sdk/purchases/{purchaseRef}/reactivate";
    sb.ok(Method::POST, cancel_t, &paid_cancel, Some(json!({})), 200)
        .await;
    let back = sb
        .ok(Method::POST, reactivate_t, &paid_reactivate, None, 200)
        .await;
    assert_eq!(back["purchase"]["autoRenew"], true, "{back}");
    assert!(back["purchase"].get("cancelledAt").is_none(), "{back}");
    sb.ok(Method::POST, cancel_t, &paid_cancel, Some(json!({})), 200)
        .await;
    sb.ok(
        Method::POST,
        "/v1/sandbox/clock",
        "/v1/sandbox/clock",
        Some(json!({"advanceSeconds": 40 * 86_400})),
        200,
    )
    .await;
    let (status, _) = sb
        .call(Method::POST, reactivate_t, &paid_reactivate, None)
        .await;
    assert_eq!(status, 400, "past its end date");
}
