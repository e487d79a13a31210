//! Purchase tools against a mocked SolvaPay, including the seed's call forms.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{KEY, call, connect, err, ok, request_count, text, upstream};

/// Jane's Pro purchase from the seed.
fn pro(status: &str) -> Value {
    json!({
        "reference": "pur_T3U4V5W6", "customerRef": "cus_A1B2C3D4", "customerEmail": "jane@acme.com",
        "productRef": "prd_P9Q0R1S2", "productName": "support-bot", "status": status,
        "amount": 4900, "currency": "EUR", "originalAmount": 4500, "startDate": "2026-01-15T10:00:00Z",
        "nextBillingDate": "2026-02-15T10:00:00Z", "isRecurring": true, "billingCycle": "monthly",
        "autoRenew": true, "createdAt": "2026-01-15T10:00:00Z",
        "planSnapshot": {"reference": "pln_K5L6M7N8", "name": "Pro", "price": 4900, "currency": "usd",
                         "planType": "recurring", "billingCycle": "monthly"}
    })
}

fn expired() -> Value {
    json!({"reference": "pur_OLD", "customerRef": "cus_A1B2C3D4", "productRef": "prd_P9Q0R1S2",
           "status": "expired", "amount": 0, "currency": "USD", "startDate": "2025-01-01T00:00:00Z"})
}

#[tokio::test]
async fn purchases_by_customer_carry_plan_dates_active_count_and_name() {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases/customer/cus_A1B2C3D4"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"purchases": [pro("active"), expired()]})),
        )
        .expect(2)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "reference": "cus_A1B2C3D4", "name": "Jane Smith", "email": "jane@acme.com"
        })))
        .expect(2)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let result = call(
        &client,
        "get_purchases_by_customer",
        json!({"customerRef": "cus_A1B2C3D4"}),
    )
    .await;
    let summary = text(&result);
    assert!(summary.contains("Jane Smith"), "{summary}");
    assert!(summary.contains("Pro ($49.00/monthly)"), "{summary}");
    assert!(summary.contains("next billing 2026-02-15"), "{summary}");
    let out = result.structured_content.unwrap();
    assert_eq!(out["customerName"], "Jane Smith");
    assert_eq!(out["activeCount"], 1);
    assert_eq!(out["total"], 2);
    assert!(out.get("hasMore").is_none(), "purchase lists do not page");
    let p = &out["purchases"][0];
    assert_eq!(p["reference"], "pur_T3U4V5W6");
    assert_eq!(p["planSnapshot"]["name"], "Pro");
    assert_eq!(
        p["planSnapshot"]["price"],
        json!({"amount": 4900, "currency": "USD", "formatted": "$49.00"})
    );
    assert_eq!(
        p["amount"],
        json!({"amount": 4900, "currency": "USD", "formatted": "$49.00"})
    );
    assert_eq!(p["billingCycle"], "monthly");
    assert_eq!(
        p["paid"],
        json!({"amount": 4500, "currency": "EUR", "formatted": "€45.00"})
    );
    assert_eq!(p["startDate"], "2026-01-15T10:00:00Z");
    assert_eq!(p["nextBillingDate"], "2026-02-15T10:00:00Z");

    // Seed-era name and a local status filter.
    let out = ok(
        &client,
        "get_purchases_by_customer",
        json!({"customerId": "cus_A1B2C3D4", "status": "expired"}),
    )
    .await;
    let refs: Vec<&str> = out["purchases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["pur_OLD"]);
    assert_eq!(out["activeCount"], 0);
}

#[tokio::test]
async fn cancel_renewal_accepts_the_seed_call_and_reports_access_until() {
    let api = upstream().await;
    let mut cancelled = pro("active");
    cancelled["autoRenew"] = json!(false);
    cancelled["cancelledAt"] = json!("2026-02-01T09:00:00Z");
    cancelled["cancellationReason"] = json!("Customer requested downgrade");
    Mock::given(method("POST"))
        .and(path("/v1/sdk/purchases/pur_T3U4V5W6/cancel"))
        .and(body_json(json!({"reason": "Customer requested downgrade"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "purchase": cancelled, "message": "Renewal cancelled successfully"
        })))
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let result = call(
        &client,
        "cancel_renewal",
        json!({"purchaseId": "pur_T3U4V5W6", "reason": "Customer requested downgrade"}),
    )
    .await;
    assert!(
        text(&result).contains("access until 2026-02-15T10:00:00Z"),
        "{}",
        text(&result)
    );
    let out = result.structured_content.unwrap();
    assert_eq!(out["reference"], "pur_T3U4V5W6");
    assert_eq!(out["status"], "active");
    assert_eq!(out["autoRenew"], false);
    assert_eq!(out["cancellationReason"], "Customer requested downgrade");
    assert_eq!(out["accessUntil"], "2026-02-15T10:00:00Z");
    assert_eq!(out["message"], "Renewal cancelled successfully");
    assert_eq!(out["alreadyCancelled"], false);
}

#[tokio::test]
async fn cancel_renewal_tolerates_flat_and_message_shapes_and_sends_an_object() {
    let api = upstream().await;
    let mut flat = pro("active");
    flat["cancelledAt"] = json!("2026-02-01T09:00:00Z");
    flat["endDate"] = json!("2026-02-20T00:00:00Z");
    Mock::given(method("POST"))
        .and(path("/v1/sdk/purchases/pur_FLAT/cancel"))
        .and(body_json(json!({})))
        .respond_with(ResponseTemplate::new(200).set_body_json(flat.clone()))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/purchases/pur_MSG/cancel"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"purchase": flat, "message": "ok"})),
        )
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let out = ok(
        &client,
        "cancel_renewal",
        json!({"purchaseRef": "pur_FLAT"}),
    )
    .await;
    assert_eq!(out["accessUntil"], "2026-02-20T00:00:00Z");
    assert!(out.get("message").is_none());
    let out = ok(&client, "cancel_renewal", json!({"purchaseRef": "pur_MSG"})).await;
    assert_eq!(
        (out["message"].as_str(), out["accessUntil"].as_str()),
        (Some("ok"), Some("2026-02-20T00:00:00Z"))
    );
}

#[tokio::test]
async fn cancel_renewal_repeated_answers_already_cancelled_as_a_success() {
    let api = upstream().await;
    // SolvaPay refuses a second cancel with a 400; the purchase shows the renewal is cancelled.
    Mock::given(method("POST"))
        .and(path("/v1/sdk/purchases/pur_T3U4V5W6/cancel"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "statusCode": 400, "message": "Purchase cannot be cancelled or does not belong to provider"
        })))
        .expect(1)
        .mount(&api)
        .await;
    let mut cancelled = pro("active");
    cancelled["autoRenew"] = json!(false);
    cancelled["cancelledAt"] = json!("2026-02-01T09:00:00Z");
    cancelled["endDate"] = json!("2026-02-15T10:00:00Z");
    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases/pur_T3U4V5W6"))
        .respond_with(ResponseTemplate::new(200).set_body_json(cancelled))
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let result = call(
        &client,
        "cancel_renewal",
        json!({"purchaseRef": "pur_T3U4V5W6", "reason": "Downgrade"}),
    )
    .await;
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    assert!(
        text(&result).starts_with(
            "Renewal of pur_T3U4V5W6 was already cancelled (nothing changed); status active, access until 2026-02-15T10:00:00Z"
        ),
        "{}",
        text(&result)
    );
    let out = result.structured_content.unwrap();
    assert_eq!(out["alreadyCancelled"], true);
    assert_eq!(out["accessUntil"], "2026-02-15T10:00:00Z");
    assert_eq!(out["cancelledAt"], "2026-02-01T09:00:00Z");
}

#[tokio::test]
async fn get_purchase_accepts_reference_id_and_purchase_ref() {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases/pur_T3U4V5W6"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pro("active")))
        .expect(3)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    for key in ["reference", "id", "purchaseRef"] {
        let out = ok(&client, "get_purchase", json!({key: "pur_T3U4V5W6"})).await;
        assert_eq!(out["planSnapshot"]["name"], "Pro", "{key}");
        assert!(out.get("accessUntil").is_none());
    }
}

#[tokio::test]
async fn list_purchases_passes_status_and_by_product_filters_locally() {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases"))
        .and(query_param("status", "past_due"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"purchases": [pro("past_due")]})),
        )
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases/product/prd_P9Q0R1S2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([pro("active"), expired()])))
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let out = ok(&client, "list_purchases", json!({"status": "past_due"})).await;
    assert_eq!(
        (out["total"].as_u64(), out["activeCount"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(out["purchases"][0]["status"], "past_due");
    let out = ok(
        &client,
        "get_purchases_by_product",
        json!({"productReference": "prd_P9Q0R1S2", "status": "active"}),
    )
    .await;
    assert_eq!(out["purchases"].as_array().unwrap().len(), 1);
    assert_eq!(out["activeCount"], 1);
}

#[tokio::test]
async fn purchase_errors_map_and_bad_arguments_send_nothing() {
    let api = upstream().await;
    let client = connect(&api.uri()).await;
    for (tool, args) in [
        ("cancel_renewal", json!({"purchaseRef": "pur 1"})),
        (
            "cancel_renewal",
            json!({"purchaseRef": "pur_1", "reason": "x\u{202E}y"}),
        ),
        ("list_purchases", json!({"status": "paused"})),
        ("get_purchases_by_customer", json!({"customerRef": ""})),
        ("get_purchase", json!({"reference": "pur_1", "extra": 1})),
    ] {
        let e = err(&client, tool, args.clone()).await;
        assert_eq!(e["error"]["code"], "VALIDATION_ERROR", "{tool} {args}");
    }
    assert_eq!(request_count(&api).await, 0);

    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases/pur_NOPE"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"statusCode": 404, "message": "Purchase not found"})),
        )
        .mount(&api)
        .await;
    // Refused, and not because its renewal is cancelled already: the refusal stands.
    Mock::given(method("POST"))
        .and(path("/v1/sdk/purchases/pur_DONE/cancel"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "statusCode": 400, "message": "Purchase pur_DONE cannot be cancelled (status: expired)"
        })))
        .mount(&api)
        .await;
    let mut expired = pro("expired");
    expired["reference"] = json!("pur_DONE");
    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases/pur_DONE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(expired))
        .mount(&api)
        .await;
    let e = err(&client, "get_purchase", json!({"reference": "pur_NOPE"})).await;
    assert_eq!(
        e["error"],
        json!({"code": "NOT_FOUND", "message": "Purchase not found", "status": 404})
    );
    let e = err(
        &client,
        "cancel_renewal",
        json!({"purchaseRef": "pur_DONE"}),
    )
    .await;
    assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be cancelled")
    );
}

#[tokio::test]
async fn an_odd_but_legal_purchase_is_shown_not_refused() {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/purchases/pur_ODD"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "reference": "pur_ODD", "status": "paused", "amount": "4900", "originalAmount": null,
            "currency": null, "planSnapshot": null, "usage": null, "isRecurring": null
        })))
        .expect(1)
        .mount(&api)
        .await;
    let client = connect(&api.uri()).await;
    let result = call(&client, "get_purchase", json!({"reference": "pur_ODD"})).await;
    assert!(
        text(&result).starts_with("Purchase pur_ODD paused\n"),
        "{}",
        text(&result)
    );
    let out = result.structured_content.unwrap();
    assert_eq!(
        out,
        json!({"reference": "pur_ODD", "status": "paused",
               "amount": {"amount": 4900, "currency": "USD", "formatted": "$49.00"}})
    );
}
