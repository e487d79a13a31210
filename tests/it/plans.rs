//! Plan tools against a mocked SolvaPay, including `list_plans` composed across products.

use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use solvapay_mcp::{BillingServer, Config, SolvaPayClient};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    KEY, ProgressLog, connect, connect_server_as, err, ok, request_count, upstream,
};

fn plan(reference: &str, name: &str, kind: &str, status: &str, price: i64) -> Value {
    json!({"reference": reference, "name": name, "type": kind, "status": status,
           "price": price, "currency": "USD", "billingCycle": "monthly",
           "isActive": status == "active", "requiresPayment": price > 0, "hidden": false})
}

async fn mount_plans(api: &MockServer, product: &str, plans: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/v1/sdk/products/{product}/plans")))
        .and(query_param("limit", "100"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": plans.as_array().map_or(0, Vec::len), "plans": plans
        })))
        .mount(api)
        .await;
}

/// Three products over two product pages: prd_a (Pro, Free), prd_b (Usage, archived Pro Old),
/// prd_c (Pro Max).
async fn catalog() -> MockServer {
    let api = upstream().await;
    for (offset, products) in [("0", json!(["prd_a", "prd_b"])), ("2", json!(["prd_c"]))] {
        let products: Vec<Value> = products
            .as_array()
            .unwrap()
            .iter()
            .map(|r| json!({"reference": r, "name": r, "status": "active"}))
            .collect();
        Mock::given(method("GET"))
            .and(path("/v1/sdk/products"))
            .and(query_param("limit", "100"))
            .and(query_param("offset", offset))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"products": products, "total": 3})),
            )
            .mount(&api)
            .await;
    }
    let a = json!([
        plan("pln_a1", "Pro", "recurring", "active", 4900),
        plan("pln_a2", "Free", "recurring", "active", 0)
    ]);
    let b = json!([
        plan("pln_b1", "Usage", "usage-based", "active", 0),
        plan("pln_b2", "Pro Old", "recurring", "archived", 3900)
    ]);
    let c = json!([plan("pln_c1", "Pro Max", "recurring", "active", 9900)]);
    mount_plans(&api, "prd_a", a).await;
    mount_plans(&api, "prd_b", b).await;
    mount_plans(&api, "prd_c", c).await;
    api
}

#[tokio::test]
async fn list_plans_composes_filters_and_pages_across_products() {
    let api = catalog().await;
    let client = connect(&api.uri()).await;
    let args = json!({"status": "active", "type": "recurring", "search": "PRO", "limit": 1});
    let out = ok(&client, "list_plans", args).await;
    assert_eq!(out["plans"].as_array().unwrap().len(), 1);
    assert_eq!(out["plans"][0]["reference"], "pln_a1");
    assert_eq!(out["plans"][0]["productRef"], "prd_a");
    assert_eq!(out["plans"][0]["price"]["formatted"], "$49.00");
    assert_eq!(
        (
            out["total"].clone(),
            out["hasMore"].clone(),
            out["nextOffset"].clone()
        ),
        (json!(2), json!(true), json!(1))
    );

    let args =
        json!({"status": "active", "type": "recurring", "search": "pro", "limit": 1, "offset": 1});
    let out = ok(&client, "list_plans", args).await;
    assert_eq!(out["plans"][0]["reference"], "pln_c1");
    assert_eq!(out["plans"][0]["productRef"], "prd_c");
    assert_eq!(out["hasMore"], false);
    assert!(out.get("nextOffset").is_none());

    let out = ok(&client, "list_plans", json!({"type": "usage-based"})).await;
    let refs: Vec<&str> = out["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["pln_b1"]);
    let out = ok(&client, "list_plans", json!({})).await;
    assert_eq!(out["total"], 5);
}

#[tokio::test]
async fn list_plans_reports_progress_per_product() {
    let api = catalog().await;
    let config = Config::for_base_url(&api.uri(), Some(KEY)).unwrap();
    let server = BillingServer::new(SolvaPayClient::new(&config));
    let log = ProgressLog::default();
    let client = connect_server_as(server, log.clone()).await;
    let Value::Object(args) = json!({}) else {
        unreachable!()
    };
    let result = client
        .call_tool(CallToolRequestParams::new("list_plans").with_arguments(args))
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true));
    let seen = log.seen(3).await;
    assert_eq!(seen, [(1.0, Some(3.0)), (2.0, Some(3.0)), (3.0, Some(3.0))]);
}

#[tokio::test]
async fn create_plan_derives_a_name_and_sends_minor_units() {
    let api = upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/products/prd_1/plans"))
        .and(body_json(json!({
            "name": "Monthly recurring", "type": "recurring", "billingCycle": "monthly",
            "price": 4900, "currency": "USD", "trialDays": 14, "metadata": {}
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(plan(
            "pln_new",
            "Monthly recurring",
            "recurring",
            "active",
            4900,
        )))
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let out = ok(
        &client,
        "create_plan",
        json!({"productRef": "prd_1", "price": 4900, "currency": "usd", "billingCycle": "monthly", "trialDays": 14}),
    )
    .await;
    assert_eq!(out["reference"], "pln_new");
    assert_eq!(out["productRef"], "prd_1");
    assert_eq!(out["price"]["formatted"], "$49.00");
}

#[tokio::test]
async fn create_plan_keeps_a_given_name_for_pre_paid_usage_without_cycle() {
    let api = upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/products/prd_1/plans"))
        .and(body_json(json!({
            "name": "Pay as you go", "type": "usage-based", "billingModel": "pre-paid",
            "creditsPerUnit": 100, "metadata": {"tier": "payg"}
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(plan(
            "pln_u",
            "Pay as you go",
            "usage-based",
            "active",
            0,
        )))
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let args = json!({"productRef": "prd_1", "name": "Pay as you go", "type": "usage-based",
                      "billingModel": "pre-paid", "creditsPerUnit": 100, "metadata": {"tier": "payg"}});
    assert_eq!(ok(&client, "create_plan", args).await["reference"], "pln_u");
}

#[tokio::test]
async fn invalid_plans_are_rejected_before_any_request() {
    let api = upstream().await;
    let client = connect(&api.uri()).await;
    for (args, field) in [
        (json!({"productRef": "prd_1", "price": 100}), "billingCycle"),
        (
            json!({"productRef": "prd_1", "type": "hybrid", "basePrice": 100}),
            "billingCycle",
        ),
        (
            json!({"productRef": "prd_1", "type": "usage-based", "billingModel": "post-paid"}),
            "billingCycle",
        ),
        (
            json!({"productRef": "prd_1", "type": "one-time", "price": -1}),
            "price",
        ),
        (
            json!({"productRef": "prd_1", "type": "one-time", "currency": "dollars"}),
            "currency",
        ),
        (
            json!({"productRef": "prd_1", "type": "one-time", "creditsPerUnit": 0}),
            "creditsPerUnit",
        ),
        (
            json!({"productRef": "prd_1", "type": "monthly"}),
            "usage-based",
        ),
        (
            json!({"productRef": "prd_1", "type": "one-time", "billingCycle": "daily"}),
            "quarterly",
        ),
    ] {
        let e = err(&client, "create_plan", args.clone()).await;
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR", "{args}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(field),
            "{args}: {e}"
        );
    }
    let e = err(
        &client,
        "update_plan",
        json!({"productRef": "prd_1", "planRef": "pln_1"}),
    )
    .await;
    assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(request_count(&api).await, 0);
}

#[tokio::test]
async fn get_update_delete_and_list_for_product_hit_the_plan_routes() {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products/prd_1/plans/pln_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(plan(
            "pln_1",
            "Pro",
            "recurring",
            "active",
            4900,
        )))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v1/sdk/products/prd_1/plans/pln_1"))
        .and(body_json(json!({"price": 5900, "status": "archived"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(plan(
            "pln_1",
            "Pro",
            "recurring",
            "archived",
            5900,
        )))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/sdk/products/prd_1/plans/pln_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&api)
        .await;
    mount_plans(
        &api,
        "prd_1",
        json!([plan("pln_1", "Pro", "recurring", "active", 4900)]),
    )
    .await;
    let client = connect(&api.uri()).await;
    let refs = json!({"productRef": "prd_1", "planRef": "pln_1"});
    assert_eq!(ok(&client, "get_plan", refs.clone()).await["name"], "Pro");
    let out = ok(
        &client,
        "update_plan",
        json!({"productRef": "prd_1", "planRef": "pln_1", "price": 5900, "status": "archived"}),
    )
    .await;
    assert_eq!(
        (out["price"]["formatted"].as_str(), out["status"].as_str()),
        (Some("$59.00"), Some("archived"))
    );
    let out = ok(
        &client,
        "list_plans_for_product",
        json!({"productRef": "prd_1"}),
    )
    .await;
    assert_eq!(
        (
            out["plans"][0]["productRef"].as_str(),
            out["total"].as_u64(),
            out["hasMore"].as_bool()
        ),
        (Some("prd_1"), Some(1), Some(false))
    );
    assert_eq!(
        ok(&client, "delete_plan", refs).await,
        json!({"productRef": "prd_1", "planRef": "pln_1", "deleted": true})
    );
}

#[tokio::test]
async fn missing_plan_is_not_found() {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products/prd_1/plans/pln_NOPE"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"statusCode": 404, "message": "Plan not found: pln_NOPE"})),
        )
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let e = err(
        &client,
        "get_plan",
        json!({"productRef": "prd_1", "planRef": "pln_NOPE"}),
    )
    .await;
    assert_eq!(
        e["error"],
        json!({"code": "NOT_FOUND", "message": "Plan not found: pln_NOPE", "status": 404})
    );
}

#[tokio::test]
async fn odd_but_legal_plan_answers_become_money_or_nothing() {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products/prd_1/plans/pln_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "reference": "pln_1", "name": "Pro", "price": "4900", "currency": "eur",
            "setupFee": 500.0, "basePrice": null
        })))
        .expect(1)
        .mount(&api)
        .await;
    mount_plans(
        &api,
        "prd_1",
        json!([{"reference": "pln_2", "price": null, "status": "active"},
               {"reference": "pln_3", "price": 4900.0}]),
    )
    .await;
    let client = connect(&api.uri()).await;
    let out = ok(
        &client,
        "get_plan",
        json!({"productRef": "prd_1", "planRef": "pln_1"}),
    )
    .await;
    assert_eq!(
        out,
        json!({"reference": "pln_1", "productRef": "prd_1", "name": "Pro",
               "price": {"amount": 4900, "currency": "EUR", "formatted": "€49.00"},
               "setupFee": {"amount": 500, "currency": "EUR", "formatted": "€5.00"}})
    );
    let out = ok(
        &client,
        "list_plans_for_product",
        json!({"productRef": "prd_1"}),
    )
    .await;
    assert!(out["plans"][0].get("price").is_none(), "{out}");
    assert_eq!(
        out["plans"][1]["price"],
        json!({"amount": 4900, "currency": "USD", "formatted": "$49.00"})
    );
}
