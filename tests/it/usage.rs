//! record_usage and record_bulk_usage against a wiremock SolvaPay, and the bulk report's size on the
//! local sandbox.

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{self, KEY};

fn bearer() -> String {
    format!("Bearer {KEY}")
}

/// The JSON bodies of every request the upstream received.
async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// Answers a bulk request with one result per event (`usage_<n>` references), numbering from `base`.
fn bulk_answer(req: &Request) -> ResponseTemplate {
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    let events = body["events"].as_array().unwrap();
    let results: Vec<Value> = events
        .iter()
        .map(|e| json!({"reference": format!("usage_{}", &e["idempotencyKey"].as_str().unwrap()[4..14])}))
        .collect();
    ResponseTemplate::new(200)
        .set_body_json(json!({"success": true, "inserted": events.len(), "results": results}))
}

/// A whole-second RFC 3339 time an hour ago (inside SolvaPay's 30-day window, same for a whole test).
fn recent() -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    t.replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn event(i: usize, ts: &str) -> Value {
    json!({
        "customerId": "cus_X7Y8Z9W0", "productReference": "prd_P9Q0R1S2",
        "actionType": "api_call", "units": 1, "outcome": "success",
        "timestamp": ts, "action": format!("batch-{}", i % 7)
    })
}

#[tokio::test]
async fn record_usage_seed_call_sends_the_documented_body() {
    let server = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages"))
        .and(header("authorization", bearer().as_str()))
        .and(body_partial_json(json!({
            "customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2",
            "actionType": "api_call", "units": 1, "outcome": "success", "metadata": {}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "reference": "usage_A1B2C3D4",
            "creditDebit": {"debited": true, "amount": 100, "unitsRemaining": 4}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let out = support::ok(
        &client,
        "record_usage",
        json!({"customerId": "cus_X7Y8Z9W0", "productReference": "prd_P9Q0R1S2",
               "actionType": "api_call", "units": 1, "outcome": "success"}),
    )
    .await;
    assert_eq!(out["success"], true);
    assert_eq!(out["reference"], "usage_A1B2C3D4");
    assert_eq!(out["duplicate"], false);
    assert_eq!(out["creditDebit"]["unitsRemaining"], 4);
    let sent = &bodies(&server).await[0];
    let key = sent["idempotencyKey"].as_str().unwrap();
    assert!(key.starts_with("mcp-") && key.len() == 36, "{key}");
    assert_eq!(out["idempotencyKey"], key);
    let ts = sent["timestamp"].as_str().unwrap();
    let parsed =
        time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).unwrap();
    assert!(
        ts.ends_with('Z') && parsed.nanosecond().is_multiple_of(1_000_000),
        "UTC, millisecond precision: {ts}"
    );
    assert!(
        (time::OffsetDateTime::now_utc() - parsed).abs() < time::Duration::minutes(1),
        "{ts}"
    );
}

#[tokio::test]
async fn record_usage_request_id_is_the_key_and_warnings_surface() {
    let server = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages"))
        .and(body_partial_json(json!({
            "idempotencyKey": "req-42", "outcome": "fail", "duration": 350, "actionType": "api_call", "units": 1,
            "metadata": {"action": "generate_report", "requestId": "req-42"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "reference": "usage_Z",
            "creditDebit": {"debited": false, "reason": "customer_not_found"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let out = support::ok(
        &client,
        "record_usage",
        json!({"customerRef": "cus_NEW", "productRef": "prd_P9Q0R1S2", "outcome": "failure",
               "action": "generate_report", "requestId": "req-42", "actionDuration": 350}),
    )
    .await;
    assert_eq!(out["idempotencyKey"], "req-42");
    assert!(
        out["warnings"][0]
            .as_str()
            .unwrap()
            .contains("customer_not_found")
    );
}

#[tokio::test]
async fn record_usage_duplicate_is_reported_not_double_counted() {
    let server = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "reference": "usage_FIRST", "creditDebit": {"debited": false, "reason": "duplicate"}
        })))
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let args = json!({"customerRef": "cus_A", "productRef": "prd_B", "outcome": "success", "requestId": "r1"});
    let out = support::ok(&client, "record_usage", args).await;
    assert_eq!(out["duplicate"], true);
    assert_eq!(out["reference"], "usage_FIRST");
    // SolvaPay did not say what the earlier event held: the answer says a reuse cannot be ruled out.
    let warning = out["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("did not say what it held") && warning.contains("new requestId"),
        "{out}"
    );
}

#[tokio::test]
async fn record_usage_refuses_bad_units_before_sending() {
    let server = support::upstream().await;
    let client = support::connect(&server.uri()).await;
    for (args, field) in [
        (
            json!({"customerRef": "cus_A", "productRef": "prd_B", "outcome": "success", "units": 100_001}),
            "units",
        ),
        (
            json!({"customerRef": "cus_A", "productRef": "prd_B", "outcome": "success", "units": -1}),
            "units",
        ),
        (
            json!({"customerRef": "cus A", "productRef": "prd_B", "outcome": "success"}),
            "customerRef",
        ),
        (
            json!({"customerRef": "cus_A", "productRef": "prd_B", "outcome": "success", "timestamp": "2020-01-01"}),
            "timestamp",
        ),
    ] {
        let result = support::call(&client, "record_usage", args).await;
        assert_eq!(result.is_error, Some(true));
        let error = &support::envelope(&result)["error"];
        assert_eq!(error["code"], "VALIDATION_ERROR");
        assert_eq!(error["field"], field);
    }
    let env = support::err(
        &client,
        "record_usage",
        json!({"customerRef": "cus_A", "productRef": "prd_B", "outcome": "maybe"}),
    )
    .await;
    assert_eq!(env["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(support::request_count(&server).await, 0);
}

#[tokio::test]
async fn bulk_seed_shape_reports_inserted_and_references() {
    let server = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages/bulk"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "inserted": 4,
            "results": [{"reference": "usage_1"}, {"reference": "usage_2"},
                        {"reference": "usage_0", "creditDebit": {"debited": false, "reason": "duplicate"}},
                        {"reference": "usage_4", "creditDebit": {"debited": false, "reason": "no_active_purchase"}},
                        {"reference": "usage_5"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let events: Vec<Value> = (0..5)
        .map(|_| json!({"customerId": "cus_X7Y8Z9W0", "actionType": "api_call", "units": 1, "productReference": "prd_P9Q0R1S2", "outcome": "success"}))
        .collect();
    let out = support::ok(&client, "record_bulk_usage", json!({"events": events})).await;
    assert_eq!(out["inserted"], 4);
    assert_eq!(
        (out["recorded"].clone(), out["duplicates"].clone()),
        (json!(4), json!(1))
    );
    // Only the exceptions are listed: the duplicate with the record it stands for, and the event
    // recorded without a debit. Plainly recorded events are counts, not entries.
    assert!(out.get("references").is_none(), "{out}");
    assert_eq!(
        out["events"],
        json!([{"index": 2, "status": "duplicate", "reference": "usage_0"},
               {"index": 3, "status": "recorded", "reference": "usage_4", "reason": "no_active_purchase"}])
    );
    assert!(
        out["warnings"][0]
            .as_str()
            .unwrap()
            .contains("no_active_purchase")
    );
    // The duplicate came without the earlier event: a reused requestId cannot be ruled out.
    assert!(
        out["warnings"][1]
            .as_str()
            .unwrap()
            .starts_with("1 duplicates: SolvaPay already holds an event"),
        "{out}"
    );
    // Five identical events in one call are five events: five distinct keys.
    let sent = &bodies(&server).await[0]["events"];
    let mut keys: Vec<&str> = (0..5)
        .map(|i| sent[i]["idempotencyKey"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 5);
    assert_eq!(sent[0]["customerRef"], "cus_X7Y8Z9W0");
    assert_eq!(sent[0]["productRef"], "prd_P9Q0R1S2");
}

#[tokio::test]
async fn bulk_splits_2500_events_into_1000_1000_500_with_stable_keys() {
    let server = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages/bulk"))
        .respond_with(bulk_answer)
        .expect(6)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let ts = recent();
    let events: Vec<Value> = (0..2500).map(|i| event(i, &ts)).collect();
    let out = support::ok(
        &client,
        "record_bulk_usage",
        json!({"events": events.clone()}),
    )
    .await;
    assert_eq!(out["success"], true);
    assert_eq!(out["recorded"], 2500);
    assert_eq!(out["requests"], 3);
    assert_eq!(out["events"], json!([]), "a clean batch lists no event");
    support::ok(&client, "record_bulk_usage", json!({"events": events})).await;

    let sent = bodies(&server).await;
    let sizes: Vec<usize> = sent
        .iter()
        .map(|b| b["events"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [1000, 1000, 500, 1000, 1000, 500]);
    let keys = |calls: &[Value]| -> Vec<String> {
        calls
            .iter()
            .flat_map(|b| b["events"].as_array().unwrap().clone())
            .map(|e| e["idempotencyKey"].as_str().unwrap().to_owned())
            .collect()
    };
    let (first, retry) = (keys(&sent[..3]), keys(&sent[3..]));
    assert_eq!(
        first, retry,
        "a retried identical call must carry the same keys"
    );
    let mut unique = first;
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 2500, "every event has its own key");
}

#[tokio::test]
async fn bulk_bad_event_at_index_7_sends_nothing() {
    let server = support::upstream().await;
    let client = support::connect(&server.uri()).await;
    let ts = recent();
    let mut events: Vec<Value> = (0..20).map(|i| event(i, &ts)).collect();
    events[7]["units"] = json!(200_000);
    let result = support::call(&client, "record_bulk_usage", json!({"events": events})).await;
    assert_eq!(result.is_error, Some(true));
    let error = &support::envelope(&result)["error"];
    assert_eq!(error["code"], "VALIDATION_ERROR");
    assert_eq!(error["field"], "events[7].units");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("events[7].units")
    );

    let mut events: Vec<Value> = (0..3).map(|i| event(i, &ts)).collect();
    events[1]["requestId"] = json!("same");
    events[2]["requestId"] = json!("same");
    let result = support::call(&client, "record_bulk_usage", json!({"events": events})).await;
    assert_eq!(
        support::envelope(&result)["error"]["field"],
        "events[2].requestId"
    );
    let env = support::err(&client, "record_bulk_usage", json!({"events": []})).await;
    assert_eq!(env["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(support::request_count(&server).await, 0);
}

#[tokio::test]
async fn bulk_failure_mid_way_reports_every_event() {
    let server = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages/bulk"))
        .respond_with(bulk_answer)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages/bulk"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream down"))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let ts = recent();
    let events: Vec<Value> = (0..2500).map(|i| event(i, &ts)).collect();
    let out = support::ok(&client, "record_bulk_usage", json!({"events": events})).await;
    assert_eq!(out["success"], false);
    assert_eq!(
        (
            out["recorded"].clone(),
            out["unknown"].clone(),
            out["notSent"].clone()
        ),
        (json!(1000), json!(1000), json!(500))
    );
    let list = out["events"].as_array().unwrap();
    assert_eq!(list.len(), 1500, "only the events not recorded are listed");
    assert_eq!(
        (list[0]["index"].clone(), list[0]["status"].clone()),
        (json!(1000), json!("unknown"))
    );
    assert_eq!(
        (list[1499]["index"].clone(), list[1499]["status"].clone()),
        (json!(2499), json!("not_sent"))
    );
    assert!(
        list[1499]["idempotencyKey"]
            .as_str()
            .unwrap()
            .starts_with("mcp-")
    );
    assert!(out["error"].as_str().is_some());
    // The first chunk once; the second (503, deduplicated by its keys) once and twice more under the
    // default policy's two retries, with the same body; nothing after the failed chunk was sent.
    let posts = bodies(&server).await;
    let sizes: Vec<usize> = posts
        .iter()
        .map(|b| b["events"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [1000, 1000, 1000, 1000]);
    assert!(posts[2] == posts[1] && posts[3] == posts[1] && posts[1] != posts[0]);
}

#[tokio::test]
async fn bulk_first_chunk_refused_is_an_error() {
    let server = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages/bulk"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "statusCode": 400, "message": "Validation failed",
            "errors": [{"path": ["events", 0, "customerRef"], "message": "Customer not found"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let ts = recent();
    let events: Vec<Value> = (0..1500).map(|i| event(i, &ts)).collect();
    let env = support::err(&client, "record_bulk_usage", json!({"events": events})).await;
    assert_eq!(env["error"]["code"], "VALIDATION_ERROR");
    assert!(
        env["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("No usage events were recorded")
    );
}

/// A clean batch answers its counts, whatever its size: 10,000 events on a plan that is not
/// credit-based (every answer says `plan_not_credit_based`, the normal case) fit in 100 KB of
/// text and structured content together, through the real server on the local sandbox.
#[tokio::test]
async fn a_clean_10000_event_batch_answers_in_under_100_kb() {
    let (_sandbox, client) = support::sandbox(true).await;
    let event = json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2",
                       "actionType": "api_call", "units": 1, "outcome": "success"});
    let result = support::call(
        &client,
        "record_bulk_usage",
        json!({"events": vec![event; 10_000]}),
    )
    .await;
    assert_ne!(result.is_error, Some(true), "{}", support::text(&result));
    let out = result.structured_content.clone().unwrap();
    assert_eq!(
        (&out["success"], &out["recorded"], &out["requests"]),
        (&json!(true), &json!(10_000), &json!(10)),
        "{out}"
    );
    assert_eq!(out["events"], json!([]), "a normal reason is no exception");
    assert!(out.get("warnings").is_none(), "{out}");
    assert!(
        out.get("debited").is_none(),
        "nothing is debited on this plan"
    );
    let text: usize = result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.len())
        .sum();
    let size = text + serde_json::to_string(&out).unwrap().len();
    assert!(size <= 100_000, "{size} bytes");
    assert_eq!(
        support::text(&result).lines().next(),
        Some("10000 of 10000 usage events recorded, 0 duplicates")
    );
}

/// On a credit-based plan the report totals what was debited; a reason normal for the plan is no
/// exception, one that means "recorded but not billed" is.
#[tokio::test]
async fn bulk_totals_the_credits_debited_and_lists_only_real_exceptions() {
    let server = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages/bulk"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "inserted": 4,
            "results": [
                {"reference": "usage_1", "creditDebit": {"debited": true, "amount": 2, "unitsRemaining": 9}},
                {"reference": "usage_2", "creditDebit": {"debited": true, "amount": 3, "unitsRemaining": 8}},
                {"reference": "usage_3", "creditDebit": {"debited": false, "reason": "plan_not_credit_based"}},
                {"reference": "usage_4", "creditDebit": {"debited": false, "reason": "customer_not_found"}}
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = support::connect(&server.uri()).await;
    let ts = recent();
    let events: Vec<Value> = (0..4).map(|i| event(i, &ts)).collect();
    let result = support::call(&client, "record_bulk_usage", json!({"events": events})).await;
    let out = result.structured_content.clone().unwrap();
    assert_eq!(
        (&out["recorded"], &out["debited"], &out["creditsDebited"]),
        (&json!(4), &json!(2), &json!(5)),
        "{out}"
    );
    assert_eq!(
        out["events"],
        json!([{"index": 3, "status": "recorded", "reference": "usage_4", "reason": "customer_not_found"}])
    );
    assert_eq!(out["warnings"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(
        support::text(&result).lines().next(),
        Some("4 of 4 usage events recorded, 0 duplicates, 5 credits debited for 2 events")
    );
}
