//! Customer tools against a wiremock SolvaPay: exact requests, response mapping, error envelopes.

use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{self, KEY, call, err, ok, request_count, text};

fn jane() -> serde_json::Value {
    json!({"reference": "cus_A1B2C3D4", "name": "Jane Smith", "email": "jane@acme.com"})
}

#[tokio::test]
async fn create_customer_posts_the_documented_body_with_bearer_auth() {
    let upstream = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/customers"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("content-type", "application/json"))
        .and(header(
            "user-agent",
            concat!("solvapay-mcp/", env!("CARGO_PKG_VERSION")),
        ))
        .and(body_json(
            json!({"email": "jane@acme.com", "name": "Jane Smith", "metadata": {}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(jane()))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;

    let result = call(
        &client,
        "create_customer",
        json!({"email": "jane@acme.com", "name": "Jane Smith"}),
    )
    .await;

    assert_eq!(result.is_error, Some(false));
    assert_eq!(result.structured_content.as_ref().unwrap(), &jane());
    assert!(text(&result).starts_with("Customer cus_A1B2C3D4 — Jane Smith <jane@acme.com>"));
}

#[tokio::test]
async fn create_customer_sends_telephone_and_metadata() {
    let upstream = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/customers"))
        .and(body_json(
            json!({"email": "a@b.io", "telephone": "+14155550123", "metadata": {"plan": "gold"}}),
        ))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"reference": "cus_1", "email": "a@b.io"})),
        )
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    ok(
        &client,
        "create_customer",
        json!({"email": "a@b.io", "telephone": "+1 415 555 0123", "metadata": {"plan": "gold"}}),
    )
    .await;
}

#[tokio::test]
async fn get_customer_formats_purchases_and_maps_404() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "reference": "cus_A1B2C3D4", "name": "Jane Smith", "email": "jane@acme.com",
            "purchases": [{"reference": "pur_T3U4V5W6", "productName": "support-bot", "status": "active",
                           "startDate": "2026-01-15T00:00:00Z", "amount": 4900, "currency": "USD"}]
        })))
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_INVALID"))
        .respond_with(ResponseTemplate::new(404).insert_header("x-request-id", "req-42").set_body_json(json!({
            "statusCode": 404, "message": "Customer with reference cus_INVALID not found", "error": "Not Found"
        })))
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;

    let found = ok(
        &client,
        "get_customer",
        json!({"reference": "cus_A1B2C3D4"}),
    )
    .await;
    assert_eq!(found["purchases"][0]["amount"]["formatted"], "$49.00");

    let result = call(&client, "get_customer", json!({"reference": "cus_INVALID"})).await;
    assert_eq!(result.is_error, Some(true));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text(&result)).unwrap(),
        json!({"success": false, "error": {"code": "NOT_FOUND", "message": "Customer with reference cus_INVALID not found",
                                           "status": 404, "requestId": "req-42"}})
    );
    let structured = support::envelope(&result);
    assert_eq!(structured["error"]["status"], 404);
    assert_eq!(structured["error"]["requestId"], "req-42");
}

#[tokio::test]
async fn upstream_failures_map_to_documented_codes() {
    let upstream = support::upstream().await;
    let cases = [
        (
            400,
            json!({"statusCode": 400, "message": ["name must be shorter"], "error": "Bad Request"}),
            "VALIDATION_ERROR",
            "name must be shorter",
        ),
        (
            401,
            json!({"statusCode": 401, "message": "Invalid or expired secret key"}),
            "UNAUTHORIZED",
            "Invalid or expired secret key",
        ),
        (
            409,
            json!({"statusCode": 409, "message": "Customer already exists"}),
            "VALIDATION_ERROR",
            "already exists",
        ),
        (
            500,
            json!({"statusCode": 500, "message": "Internal server error"}),
            "INTERNAL_ERROR",
            "HTTP 500",
        ),
    ];
    for (i, (status, body, _, _)) in cases.iter().enumerate() {
        Mock::given(method("GET"))
            .and(path(format!("/v1/sdk/customers/cus_{i}")))
            .respond_with(ResponseTemplate::new(*status).set_body_json(body.clone()))
            .mount(&upstream)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_text"))
        .respond_with(ResponseTemplate::new(502).set_body_string("Provider not found"))
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;

    for (i, (_, _, code, fragment)) in cases.iter().enumerate() {
        let envelope = err(
            &client,
            "get_customer",
            json!({"reference": format!("cus_{i}")}),
        )
        .await;
        assert_eq!(envelope["error"]["code"], *code, "case {i}");
        let message = envelope["error"]["message"].as_str().unwrap();
        assert!(message.contains(fragment), "case {i}: {message}");
        assert!(!message.contains(KEY));
    }
    let envelope = err(&client, "get_customer", json!({"reference": "cus_text"})).await;
    assert_eq!(envelope["error"]["code"], "INTERNAL_ERROR");
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Provider not found")
    );
}

#[tokio::test]
async fn list_customers_uses_the_ui_route_and_reports_the_next_page() {
    let upstream = support::upstream().await;
    let rows: Vec<_> = (0..3)
        .map(|i| json!({"reference": format!("cus_{i}"), "email": format!("u{i}@x.io")}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/v1/ui/customers"))
        .and(query_param("limit", "3"))
        .and(query_param("offset", "4"))
        .and(query_param("search", "x.io"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(rows)))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;

    let page = ok(
        &client,
        "list_customers",
        json!({"limit": 2, "offset": 4, "search": "x.io"}),
    )
    .await;
    assert_eq!(page["customers"].as_array().unwrap().len(), 2);
    assert_eq!(page["hasMore"], true);
    assert_eq!(page["nextOffset"], 6);
    assert_eq!(page["limit"], 2);
}

#[tokio::test]
async fn list_customers_last_page_with_total() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "customers": [{"reference": "cus_9", "email": "z@x.io"}], "total": 21
        })))
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let page = ok(&client, "list_customers", json!({"offset": 20})).await;
    assert_eq!(page["total"], 21);
    assert_eq!(page["hasMore"], false);
    assert!(page.get("nextOffset").is_none());
}

#[tokio::test]
async fn update_customer_patches_only_given_fields() {
    let upstream = support::upstream().await;
    Mock::given(method("PATCH"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .and(body_json(json!({"name": "Jane Doe"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"reference": "cus_A1B2C3D4", "email": "jane@acme.com", "name": "Jane Doe"}),
        ))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let updated = ok(
        &client,
        "update_customer",
        json!({"reference": "cus_A1B2C3D4", "name": "Jane Doe"}),
    )
    .await;
    assert_eq!(updated["name"], "Jane Doe");

    let envelope = err(
        &client,
        "update_customer",
        json!({"reference": "cus_A1B2C3D4"}),
    )
    .await;
    assert_eq!(envelope["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(request_count(&upstream).await, 1);
}

/// `GET /v1/sdk/customers/{reference}` answering `body` (the lookup before a delete).
async fn mount_lookup(upstream: &wiremock::MockServer, reference: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(format!("/v1/sdk/customers/{reference}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(upstream)
        .await;
}

#[tokio::test]
async fn delete_customer_uses_the_ui_route_and_accepts_204() {
    let upstream = support::upstream().await;
    mount_lookup(&upstream, "cus_A1B2C3D4", jane()).await;
    Mock::given(method("DELETE"))
        .and(path("/v1/ui/customers/cus_A1B2C3D4"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let deleted = ok(
        &client,
        "delete_customer",
        json!({"reference": "cus_A1B2C3D4"}),
    )
    .await;
    assert_eq!(
        deleted,
        json!({"reference": "cus_A1B2C3D4", "deleted": true})
    );
}

#[tokio::test]
async fn delete_customer_repeated_answers_nothing_to_delete() {
    let upstream = support::upstream().await;
    mount_lookup(&upstream, "cus_A1B2C3D4", jane()).await;
    mount_lookup(
        &upstream,
        "cus_X7Y8Z9W0",
        json!({"reference": "cus_X7Y8Z9W0"}),
    )
    .await;
    Mock::given(method("DELETE"))
        .and(path("/v1/ui/customers/cus_A1B2C3D4"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"statusCode": 404, "message": "Customer not found"})),
        )
        .expect(1)
        .mount(&upstream)
        .await;
    // A missing route (the key cannot reach it) is not "nothing to delete".
    Mock::given(method("DELETE"))
        .and(path("/v1/ui/customers/cus_X7Y8Z9W0"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "statusCode": 404, "message": "Cannot DELETE /v1/ui/customers/cus_X7Y8Z9W0"
        })))
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let result = call(
        &client,
        "delete_customer",
        json!({"reference": "cus_A1B2C3D4"}),
    )
    .await;
    assert_eq!(
        result.structured_content,
        Some(json!({"reference": "cus_A1B2C3D4", "deleted": false}))
    );
    assert!(
        text(&result).starts_with(
            "Nothing deleted: there is no customer cus_A1B2C3D4 (already deleted, or a wrong reference)"
        ),
        "{}",
        text(&result)
    );
    let e = err(
        &client,
        "delete_customer",
        json!({"reference": "cus_X7Y8Z9W0"}),
    )
    .await;
    assert_eq!(e["error"]["code"], "UNAUTHORIZED");
}

#[tokio::test]
async fn ensure_customer_returns_the_existing_customer_without_writing() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers"))
        .and(query_param("email", "bob@startup.io"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"reference": "cus_X7Y8Z9W0", "email": "bob@startup.io", "name": "Bob"}),
        ))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;

    let result = call(
        &client,
        "ensure_customer",
        json!({"email": "bob@startup.io", "name": "Bob"}),
    )
    .await;
    let out = result.structured_content.clone().unwrap();
    assert_eq!(out["created"], false);
    assert_eq!(out["customer"]["reference"], "cus_X7Y8Z9W0");
    assert!(text(&result).contains("no duplicate created"));
    assert_eq!(request_count(&upstream).await, 1);
}

#[tokio::test]
async fn ensure_customer_creates_when_missing_after_external_ref_and_email_lookups() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers"))
        .and(query_param("externalRef", "user-77"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"statusCode": 404, "message": "Customer not found"})),
        )
        .expect(1)
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers"))
        .and(query_param("email", "new@x.io"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"statusCode": 404, "message": "Customer not found"})),
        )
        .expect(1)
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/customers"))
        .and(body_json(json!({"email": "new@x.io", "name": "Nia", "externalRef": "user-77", "metadata": {}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"reference": "cus_NEW00001", "email": "new@x.io", "name": "Nia", "externalRef": "user-77"})))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let out = ok(
        &client,
        "ensure_customer",
        json!({"email": "new@x.io", "name": "Nia", "externalRef": "user-77"}),
    )
    .await;
    assert_eq!(out["created"], true);
    assert_eq!(out["customer"]["reference"], "cus_NEW00001");
}

#[tokio::test]
async fn ensure_customer_survives_the_create_race() {
    let upstream = support::upstream().await;
    // First lookup: nobody. Create: someone else won (409). Second lookup: theirs.
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers"))
        .and(query_param("email", "race@x.io"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"statusCode": 404, "message": "Customer not found"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/customers"))
        .respond_with(ResponseTemplate::new(409).set_body_json(
            json!({"statusCode": 409, "message": "Customer with email race@x.io already exists"}),
        ))
        .expect(1)
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers"))
        .and(query_param("email", "race@x.io"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"customers": [{"reference": "cus_WINNER01", "email": "race@x.io"}]}),
        ))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let out = ok(&client, "ensure_customer", json!({"email": "race@x.io"})).await;
    assert_eq!(out["created"], false);
    assert_eq!(out["customer"]["reference"], "cus_WINNER01");
}

#[tokio::test]
async fn invalid_arguments_are_refused_before_any_request() {
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    let cases = [
        ("create_customer", json!({"email": "not-an-email"}), "email"),
        (
            "create_customer",
            json!({"email": "a@b.io", "name": "<script>"}),
            "name",
        ),
        (
            "create_customer",
            json!({"email": "a@b.io", "telephone": "555-0123"}),
            "telephone",
        ),
        ("get_customer", json!({"reference": "  "}), "reference"),
        (
            "get_customer",
            json!({"reference": "cus_1/../admin"}),
            "reference",
        ),
        ("list_customers", json!({"limit": 0}), "limit"),
        ("list_customers", json!({"limit": 101}), "limit"),
        ("list_customers", json!({"offset": -1}), "offset"),
        (
            "update_customer",
            json!({"reference": "cus_1", "email": "x"}),
            "email",
        ),
        ("delete_customer", json!({"reference": ""}), "reference"),
        ("ensure_customer", json!({"email": "bob@"}), "email"),
    ];
    for (tool, args, field) in cases {
        let result = call(&client, tool, args.clone()).await;
        assert_eq!(result.is_error, Some(true), "{tool} {args}");
        let structured = support::envelope(&result);
        assert_eq!(
            structured["error"]["code"], "VALIDATION_ERROR",
            "{tool} {args}"
        );
        assert_eq!(structured["error"]["field"], field, "{tool} {args}");
        assert!(
            structured["error"]["message"]
                .as_str()
                .unwrap()
                .contains(field)
        );
    }
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn undecodable_arguments_get_the_validation_envelope() {
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    for args in [
        json!({}),
        json!({"email": 42}),
        json!({"email": "a@b.io", "externalId": "not-a-param"}),
    ] {
        let envelope = err(&client, "create_customer", args.clone()).await;
        assert_eq!(envelope["error"]["code"], "VALIDATION_ERROR", "{args}");
    }
    let envelope = err(&client, "list_customers", json!({"limit": "ten"})).await;
    assert_eq!(envelope["error"]["field"], "limit", "{envelope}");
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid argument `limit`: invalid type"),
        "{envelope}"
    );
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn without_a_key_tools_say_how_to_configure_one() {
    let upstream = support::upstream().await;
    let config = solvapay_mcp::Config::for_base_url(&upstream.uri(), None).unwrap();
    let client = support::connect_with(config).await;
    let envelope = err(
        &client,
        "get_customer",
        json!({"reference": "cus_A1B2C3D4"}),
    )
    .await;
    assert_eq!(envelope["error"]["code"], "UNAUTHORIZED");
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SOLVAPAY_SECRET_KEY")
    );
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn a_customer_without_email_is_answered_without_one() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_NOMAIL01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "reference": "cus_NOMAIL01", "name": "Ann", "email": null, "purchases": [
                {"reference": "pur_1", "productName": "bot", "status": "active", "amount": null}
            ]
        })))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let result = call(
        &client,
        "get_customer",
        json!({"reference": "cus_NOMAIL01"}),
    )
    .await;
    assert_eq!(
        result.structured_content,
        Some(
            json!({"reference": "cus_NOMAIL01", "name": "Ann", "purchases": [
                {"reference": "pur_1", "productName": "bot", "status": "active"}
            ]})
        )
    );
    assert!(
        text(&result).starts_with("Customer cus_NOMAIL01 — Ann"),
        "{}",
        text(&result)
    );
}
