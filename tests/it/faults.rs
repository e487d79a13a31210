//! The fault matrix: each row asserts the tool result *and* how many requests reached the upstream.
//! Reads retry; unprotected writes (creates) never repeat once their bytes may have left.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::raw::{Fault, RawUpstream};
use crate::support::{self, Client, err, ok, request_count};

const JANE: &str = r#"{"reference":"cus_A1B2C3D4","email":"jane@acme.com","name":"Jane Smith"}"#;

async fn client_with_timeout(base: &str, timeout: Duration) -> Client {
    let mut config = support::config(base);
    config.timeout = timeout;
    support::connect_with(config).await
}

fn get_jane() -> (&'static str, serde_json::Value) {
    ("get_customer", json!({"reference": "cus_A1B2C3D4"}))
}

fn create_jane() -> (&'static str, serde_json::Value) {
    ("create_customer", json!({"email": "jane@acme.com"}))
}

async fn mount(
    server: &MockServer,
    verb: &str,
    route: &str,
    response: ResponseTemplate,
    times: Option<u64>,
) {
    let mock = Mock::given(method(verb))
        .and(path(route))
        .respond_with(response);
    let mock = match times {
        Some(n) => mock.up_to_n_times(n),
        None => mock,
    };
    mock.mount(server).await;
}

#[tokio::test]
async fn a_read_retries_through_503s() {
    let upstream = support::upstream().await;
    mount(
        &upstream,
        "GET",
        "/v1/sdk/customers/cus_A1B2C3D4",
        ResponseTemplate::new(503),
        Some(2),
    )
    .await;
    mount(
        &upstream,
        "GET",
        "/v1/sdk/customers/cus_A1B2C3D4",
        ResponseTemplate::new(200).set_body_string(JANE),
        None,
    )
    .await;
    let client = support::connect(&upstream.uri()).await;
    let (tool, args) = get_jane();
    assert_eq!(ok(&client, tool, args).await["reference"], "cus_A1B2C3D4");
    assert_eq!(request_count(&upstream).await, 3);
}

#[tokio::test]
async fn a_read_gives_up_after_three_attempts() {
    let upstream = support::upstream().await;
    mount(
        &upstream,
        "GET",
        "/v1/sdk/customers/cus_A1B2C3D4",
        ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"),
        None,
    )
    .await;
    let client = support::connect(&upstream.uri()).await;
    let (tool, args) = get_jane();
    let envelope = err(&client, tool, args).await;
    assert_eq!(envelope["error"]["code"], "INTERNAL_ERROR");
    let message = envelope["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Bad Gateway") && !message.contains("<html>"),
        "{message}"
    );
    assert_eq!(request_count(&upstream).await, 3);
}

#[tokio::test]
async fn an_unprotected_write_is_not_repeated_after_a_5xx() {
    let upstream = support::upstream().await;
    mount(
        &upstream,
        "POST",
        "/v1/sdk/customers",
        ResponseTemplate::new(500).set_body_string("oops"),
        None,
    )
    .await;
    let client = support::connect(&upstream.uri()).await;
    let (tool, args) = create_jane();
    assert_eq!(
        err(&client, tool, args).await["error"]["code"],
        "INTERNAL_ERROR"
    );
    assert_eq!(request_count(&upstream).await, 1);
}

#[tokio::test]
async fn rate_limits_honour_a_short_retry_after_and_refuse_a_long_one() {
    let upstream = support::upstream().await;
    mount(
        &upstream,
        "GET",
        "/v1/sdk/customers/cus_A1B2C3D4",
        ResponseTemplate::new(429).insert_header("retry-after", "1"),
        Some(1),
    )
    .await;
    mount(
        &upstream,
        "GET",
        "/v1/sdk/customers/cus_A1B2C3D4",
        ResponseTemplate::new(200).set_body_string(JANE),
        None,
    )
    .await;
    mount(
        &upstream,
        "GET",
        "/v1/sdk/customers/cus_SLOW0001",
        ResponseTemplate::new(429).insert_header("retry-after", "120"),
        None,
    )
    .await;
    let client = support::connect(&upstream.uri()).await;

    let started = std::time::Instant::now();
    let (tool, args) = get_jane();
    ok(&client, tool, args).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    assert_eq!(request_count(&upstream).await, 2);

    let envelope = err(
        &client,
        "get_customer",
        json!({"reference": "cus_SLOW0001"}),
    )
    .await;
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rate limiting")
    );
    assert_eq!(request_count(&upstream).await, 3);
}

#[tokio::test]
async fn auth_and_client_errors_are_never_retried() {
    let upstream = support::upstream().await;
    mount(
        &upstream,
        "GET",
        "/v1/sdk/customers/cus_A1B2C3D4",
        ResponseTemplate::new(401)
            .set_body_json(json!({"statusCode": 401, "message": "Invalid or expired secret key"})),
        None,
    )
    .await;
    let client = support::connect(&upstream.uri()).await;
    let (tool, args) = get_jane();
    assert_eq!(
        err(&client, tool, args).await["error"]["code"],
        "UNAUTHORIZED"
    );
    assert_eq!(request_count(&upstream).await, 1);
}

#[tokio::test]
async fn connection_refused_says_nothing_was_sent() {
    // Bind then drop a listener: the port is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = support::connect(&format!("http://127.0.0.1:{port}")).await;
    for (tool, args) in [get_jane(), create_jane()] {
        let envelope = err(&client, tool, args).await;
        assert_eq!(envelope["error"]["code"], "INTERNAL_ERROR");
        assert!(
            envelope["error"]["message"]
                .as_str()
                .unwrap()
                .contains("nothing was sent"),
            "{envelope}"
        );
    }
}

#[tokio::test]
async fn a_reset_after_the_request_retries_a_read_but_not_a_write() {
    let upstream = RawUpstream::start(Fault::ResetAfterRequest).await;
    let client = support::connect(&upstream.url).await;
    let (tool, args) = get_jane();
    err(&client, tool, args).await;
    assert_eq!(upstream.requests(), 3);

    let (tool, args) = create_jane();
    let envelope = err(&client, tool, args).await;
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may or may not have been applied"),
        "{envelope}"
    );
    assert_eq!(upstream.requests(), 4, "the create was sent exactly once");
}

#[tokio::test]
async fn a_truncated_body_is_an_interrupted_answer() {
    let upstream = RawUpstream::start(Fault::TruncatedBody).await;
    let client = support::connect(&upstream.url).await;
    let (tool, args) = create_jane();
    let envelope = err(&client, tool, args).await;
    assert_eq!(envelope["error"]["code"], "INTERNAL_ERROR");
    assert_eq!(upstream.requests(), 1);
    let (tool, args) = get_jane();
    err(&client, tool, args).await;
    assert_eq!(upstream.requests(), 4);
}

#[tokio::test]
async fn slow_headers_and_slow_bodies_time_out_within_the_attempt_budget() {
    for fault in [
        Fault::SlowHeaders(Duration::from_secs(5)),
        Fault::SlowBody(Duration::from_secs(5)),
    ] {
        let upstream = RawUpstream::start(fault).await;
        let client = client_with_timeout(&upstream.url, Duration::from_millis(300)).await;
        let started = std::time::Instant::now();
        let (tool, args) = create_jane();
        let envelope = err(&client, tool, args).await;
        assert!(
            envelope["error"]["message"]
                .as_str()
                .unwrap()
                .contains("timed out"),
            "{fault:?}: {envelope}"
        );
        assert!(started.elapsed() < Duration::from_secs(3), "{fault:?}");
        assert_eq!(
            upstream.requests(),
            1,
            "{fault:?}: an unprotected write is sent once"
        );
    }
}

#[tokio::test]
async fn a_huge_body_is_refused_not_buffered() {
    let upstream = RawUpstream::start(Fault::HugeBody(12 * 1024 * 1024)).await;
    let client = support::connect(&upstream.url).await;
    let (tool, args) = create_jane();
    let envelope = err(&client, tool, args).await;
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exceeded"),
        "{envelope}"
    );
    assert_eq!(upstream.requests(), 1);
}

#[tokio::test]
async fn malformed_json_on_success_is_reported_not_retried_for_writes() {
    let upstream = support::upstream().await;
    mount(
        &upstream,
        "POST",
        "/v1/sdk/customers",
        ResponseTemplate::new(201).set_body_string("{not json"),
        None,
    )
    .await;
    mount(
        &upstream,
        "GET",
        "/v1/sdk/customers/cus_A1B2C3D4",
        ResponseTemplate::new(200).set_body_string("<html>oops</html>"),
        None,
    )
    .await;
    let client = support::connect(&upstream.uri()).await;
    let (tool, args) = create_jane();
    let envelope = err(&client, tool, args).await;
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("could not be read")
    );
    assert_eq!(request_count(&upstream).await, 1);
    let (tool, args) = get_jane();
    err(&client, tool, args).await;
    assert_eq!(
        request_count(&upstream).await,
        4,
        "a read retries a malformed answer"
    );
}

#[tokio::test]
async fn a_reset_mid_body_is_an_interrupted_answer_not_bad_json() {
    let upstream = RawUpstream::start(Fault::ResetMidBody).await;
    let client = support::connect(&upstream.url).await;
    let (tool, args) = create_jane();
    let envelope = err(&client, tool, args).await;
    let message = envelope["error"]["message"].as_str().unwrap();
    assert!(message.contains("may or may not"), "{message}");
    assert!(!message.contains("could not be read"), "{message}");
    assert_eq!(upstream.requests(), 1, "the create was sent exactly once");
    let (tool, args) = get_jane();
    err(&client, tool, args).await;
    assert_eq!(upstream.requests(), 4, "a read is retried");
}

/// A SolvaPay-like bulk endpoint that deduplicates on `idempotencyKey`. Requests whose number is
/// in `fail_on` store the first 400 events of the batch, then answer 500.
struct BulkFake {
    state: Arc<Mutex<BulkState>>,
    fail_on: Vec<usize>,
}

#[derive(Default)]
struct BulkState {
    requests: usize,
    /// key → how many times it was stored (must never exceed 1).
    stored: HashMap<String, usize>,
}

impl Respond for BulkFake {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let keys: Vec<String> = body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["idempotencyKey"].as_str().unwrap().to_owned())
            .collect();
        let mut state = self.state.lock().unwrap();
        state.requests += 1;
        let failing = self.fail_on.contains(&state.requests);
        let mut results = Vec::new();
        let mut inserted = 0;
        for key in keys.iter().take(if failing { 400 } else { keys.len() }) {
            if state.stored.contains_key(key) {
                results.push(json!({"reference": format!("usage_{key}"),
                    "creditDebit": {"debited": false, "reason": "duplicate"}}));
            } else {
                *state.stored.entry(key.clone()).or_default() += 1;
                inserted += 1;
                results.push(
                    json!({"reference": format!("usage_{key}"), "creditDebit": {"debited": true}}),
                );
            }
        }
        if failing {
            return ResponseTemplate::new(500).set_body_string("insert failed");
        }
        ResponseTemplate::new(200)
            .set_body_json(json!({"success": true, "inserted": inserted, "results": results}))
    }
}

fn usage_events(n: usize) -> Value {
    let t = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let ts = t
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let events: Vec<Value> = (0..n)
        .map(|i| {
            json!({"customerId": "cus_X7Y8Z9W0", "productReference": "prd_P9Q0R1S2",
                   "actionType": "api_call", "units": 1 + i % 3, "outcome": "success",
                   "timestamp": ts, "action": format!("batch-{}", i % 7)})
        })
        .collect();
    json!({"events": events})
}

/// Every event of the report is accounted for, once: counted, and listed unless plainly recorded
/// (a duplicate with its stored record, an event not stored with the key to resend it with).
fn assert_accounted(out: &Value, n: usize) {
    assert!(out.get("references").is_none(), "no reference per event");
    let listed: std::collections::HashMap<u64, &Value> = out["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e))
        .collect();
    for (i, entry) in &listed {
        assert!(*i < n as u64, "event {i} of {n}");
        match entry["status"].as_str().unwrap() {
            "duplicate" => assert!(entry["reference"].is_string(), "event {i}: {entry}"),
            "unknown" | "not_sent" | "failed" => {
                assert!(entry.get("reference").is_none(), "event {i}: {entry}");
                assert!(entry["idempotencyKey"].is_string(), "event {i}");
            }
            other => panic!("status {other}"),
        }
    }
    let total: u64 = ["recorded", "duplicates", "failed", "notSent", "unknown"]
        .iter()
        .map(|k| out[*k].as_u64().unwrap())
        .sum();
    assert_eq!(total, n as u64);
    assert_eq!(
        listed.len() as u64,
        n as u64 - out["recorded"].as_u64().unwrap(),
        "every event not recorded is listed, and only those"
    );
}

#[tokio::test]
async fn a_bulk_batch_failing_part_way_counts_no_event_twice() {
    // 1: the second chunk breaks after 400 inserts once; the automatic retry (same keys) heals it.
    let state = Arc::new(Mutex::new(BulkState::default()));
    let upstream = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages/bulk"))
        .respond_with(BulkFake {
            state: state.clone(),
            fail_on: vec![2],
        })
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let out = ok(&client, "record_bulk_usage", usage_events(2500)).await;
    assert_accounted(&out, 2500);
    assert_eq!(out["success"], true);
    assert_eq!(
        (out["recorded"].clone(), out["duplicates"].clone()),
        (json!(2100), json!(400))
    );
    {
        let state = state.lock().unwrap();
        assert_eq!(state.requests, 4);
        assert_eq!(state.stored.len(), 2500);
        assert!(
            state.stored.values().all(|n| *n == 1),
            "an event was stored twice"
        );
    }

    // 2: the second chunk keeps breaking: reported unknown / not_sent with their keys; the model
    // repeats the identical call, which completes the batch without storing anything twice.
    let state = Arc::new(Mutex::new(BulkState::default()));
    let upstream = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages/bulk"))
        .respond_with(BulkFake {
            state: state.clone(),
            fail_on: vec![2, 3, 4],
        })
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let events = usage_events(2500);
    let out = ok(&client, "record_bulk_usage", events.clone()).await;
    assert_accounted(&out, 2500);
    assert_eq!(out["success"], false);
    assert_eq!(
        (
            out["recorded"].clone(),
            out["unknown"].clone(),
            out["notSent"].clone()
        ),
        (json!(1000), json!(1000), json!(500))
    );
    assert_eq!(
        state.lock().unwrap().requests,
        4,
        "1 + 3 attempts, then stop"
    );
    assert_eq!(state.lock().unwrap().stored.len(), 1400);

    let out = ok(&client, "record_bulk_usage", events).await;
    assert_accounted(&out, 2500);
    assert_eq!(out["success"], true);
    assert_eq!(
        (out["recorded"].clone(), out["duplicates"].clone()),
        (json!(1100), json!(1400))
    );
    let state = state.lock().unwrap();
    assert_eq!(state.requests, 7);
    assert_eq!(state.stored.len(), 2500);
    assert!(
        state.stored.values().all(|n| *n == 1),
        "an event was stored twice"
    );
}
