//! The HTTP mode wired to the rest, through real binaries over real HTTP: `/metrics` after calls,
//! the per-caller rate and concurrency limits, two replicas sharing sessions and one audit trail
//! through PostgreSQL, `/readyz` asking the database, and a foreign `Host` or `Origin` refused
//! before anyone is asked for a credential.

use std::time::Duration;

use serde_json::{Value, json};
use solvapay_mcp::sandbox::{Sandbox, SandboxOptions};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::refund_safety::{mount_refund, mount_refundable_source, refund_ok, refund_posts};
use crate::support;
use crate::support::http::{
    Answer, Auth, HttpServer, SESSION, Session, call, client, post, stateless,
};
use crate::support::leaks;
use crate::support::postgres::{Relay, database};

const KEY_A: &str = "sk_test_WIREALICECANARY_4d5e6f7a8b";
const KEY_B: &str = "sk_test_WIREBOBCANARY_1b2c3d4e5f";

/// The last 12 hex characters of the SHA-256 of `key`.
fn fingerprint(key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    hex[hex.len() - 12..].to_owned()
}

/// The name a caller with `key` is known by in logs, the audit and limits.
fn caller_name(key: &str) -> String {
    format!("key …{}", fingerprint(key))
}

/// A customer list answering only `key`, with `reference`, after `delay`.
fn customers_of(key: &str, reference: &str, delay: Duration) -> Mock {
    Mock::given(method("GET"))
        .and(path("/v1/ui/customers"))
        .and(header("authorization", format!("Bearer {key}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(
                    json!({"customers": [{"reference": reference, "email": "x@x.io"}], "total": 1}),
                )
                .set_delay(delay),
        )
}

/// A stateless `tools/call` of `tool` by the caller `auth`.
async fn call_as(
    http: &reqwest::Client,
    server: &HttpServer,
    auth: Auth<'_>,
    tool: &str,
    arguments: Value,
) -> Answer {
    stateless(http, &server.url, auth, "tools/call", call(tool, arguments)).await
}

/// A stateless `list_customers` by the caller `auth`.
async fn list_customers(http: &reqwest::Client, server: &HttpServer, auth: Auth<'_>) -> Answer {
    call_as(http, server, auth, "list_customers", json!({})).await
}

/// The reference of the first customer a `list_customers` result lists.
fn first_customer(result: &Value) -> &Value {
    &result["structuredContent"]["customers"][0]["reference"]
}

/// `GET` `path` of `server`: status and body.
async fn get(http: &reqwest::Client, server: &HttpServer, path: &str) -> (u16, String) {
    let response = http.get(server.path(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The sample lines of `text` whose name (and labels) start with `prefix`, sorted.
fn samples<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut lines: Vec<&str> = text.lines().filter(|l| l.starts_with(prefix)).collect();
    lines.sort_unstable();
    lines
}

/// Fails the test if any decoding of `text` shows `secret` (see `support::leaks`).
fn assert_no_trace_of(secret: &str, text: &str, what: &str) {
    if let Some(how) = leaks::reveals(text, secret) {
        panic!("{what} shows the secret ({how}):\n{text}");
    }
}

#[tokio::test]
async fn metrics_count_each_tool_call_over_http_by_outcome_and_never_show_the_callers_key() {
    let upstream = support::upstream().await;
    customers_of(KEY_A, "cus_METRICS", Duration::ZERO)
        .mount(&upstream)
        .await;
    // One 503 first: the read is retried once.
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_RETRIED"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_RETRIED"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"reference": "cus_RETRIED", "email": "r@x.io"})),
        )
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_GONE"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"statusCode": 404, "message": "Not found"})),
        )
        .mount(&upstream)
        .await;
    let server = HttpServer::start(&[], &[("SOLVAPAY_API_BASE_URL", &upstream.uri())]).await;
    let http = client();
    let alice = Auth::Bearer(KEY_A);

    for _ in 0..2 {
        list_customers(&http, &server, alice).await.result();
    }
    let retried = call_as(
        &http,
        &server,
        alice,
        "get_customer",
        json!({"reference": "cus_RETRIED"}),
    )
    .await
    .result();
    assert_eq!(retried["isError"], false, "{retried}");
    let gone = call_as(
        &http,
        &server,
        alice,
        "get_customer",
        json!({"reference": "cus_GONE"}),
    )
    .await
    .result();
    assert_eq!(gone["isError"], true, "{gone}");
    // The caller's key as an argument: a bad one, refused before anything is sent.
    let bad = call_as(
        &http,
        &server,
        alice,
        "get_customer",
        json!({"reference": 7, "note": KEY_A}),
    )
    .await
    .result();
    assert_eq!(bad["isError"], true, "{bad}");
    let unknown = call_as(&http, &server, alice, "drop_all_customers", json!({}))
        .await
        .json();
    assert_eq!(unknown["error"]["message"], "tool not found", "{unknown}");

    let (status, text) = get(&http, &server, "/metrics").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        samples(&text, "solvapay_mcp_tool_calls_total{"),
        [
            r#"solvapay_mcp_tool_calls_total{tool="get_customer",outcome="not_found"} 1"#,
            r#"solvapay_mcp_tool_calls_total{tool="get_customer",outcome="ok"} 1"#,
            r#"solvapay_mcp_tool_calls_total{tool="get_customer",outcome="validation_error"} 1"#,
            r#"solvapay_mcp_tool_calls_total{tool="list_customers",outcome="ok"} 2"#,
            r#"solvapay_mcp_tool_calls_total{tool="unknown",outcome="protocol_error"} 1"#,
        ],
        "{text}"
    );
    assert!(
        text.contains("# TYPE solvapay_mcp_tool_call_duration_seconds histogram"),
        "{text}"
    );
    assert_eq!(
        samples(
            &text,
            r#"solvapay_mcp_tool_call_duration_seconds_count{tool="list_customers"}"#
        ),
        [r#"solvapay_mcp_tool_call_duration_seconds_count{tool="list_customers"} 2"#],
        "{text}"
    );
    assert_eq!(
        samples(
            &text,
            r#"solvapay_mcp_tool_call_duration_seconds_bucket{tool="get_customer",le="+Inf"}"#
        ),
        [r#"solvapay_mcp_tool_call_duration_seconds_bucket{tool="get_customer",le="+Inf"} 3"#],
        "{text}"
    );
    assert_eq!(
        samples(&text, "solvapay_mcp_tool_calls_in_flight "),
        ["solvapay_mcp_tool_calls_in_flight 0"],
        "{text}"
    );
    assert_eq!(
        samples(&text, "solvapay_mcp_upstream_retries_total{"),
        [r#"solvapay_mcp_upstream_retries_total{reason="server_error"} 1"#],
        "{text}"
    );
    assert_no_trace_of(KEY_A, &text, "/metrics");
    assert!(!text.contains(&fingerprint(KEY_A)), "{text}");

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}: {stderr}");
    assert_no_trace_of(KEY_A, &stderr, "the logs");
}

#[tokio::test]
async fn metrics_never_show_an_operator_token_or_its_name() {
    let home = support::bin::Home::new();
    let file = home.path().join("tokens.jsonl");
    let file = file.to_str().unwrap().to_owned();
    let (status, stdout, stderr) = support::http::run(
        &home,
        &["token", "new", "--name", "wirecanaryteam", "--file", &file],
        &[],
    )
    .await;
    assert!(status.success(), "{stderr}");
    let token = stdout.trim().to_owned();
    let server = HttpServer::start_in(home, &["--sandbox", "--demo", "--tokens", &file], &[]).await;
    let http = client();

    let listed = list_customers(&http, &server, Auth::Bearer(&token))
        .await
        .result();
    assert_eq!(listed["isError"], false, "{listed}");
    let refused = list_customers(&http, &server, Auth::Bearer("smt_0000000000000000")).await;
    assert_eq!(refused.status, 401, "{}", refused.body);

    let (_, text) = get(&http, &server, "/metrics").await;
    assert_eq!(
        samples(&text, "solvapay_mcp_tool_calls_total{"),
        [r#"solvapay_mcp_tool_calls_total{tool="list_customers",outcome="ok"} 1"#],
        "{text}"
    );
    assert_no_trace_of(&token, &text, "/metrics");
    assert!(!text.contains("wirecanaryteam"), "{text}");
}

#[tokio::test]
async fn a_caller_over_its_rate_gets_429_with_retry_after_while_another_caller_gets_through() {
    let upstream = support::upstream().await;
    customers_of(KEY_A, "cus_ALICE", Duration::ZERO)
        .mount(&upstream)
        .await;
    customers_of(KEY_B, "cus_BOB", Duration::ZERO)
        .mount(&upstream)
        .await;
    let server = HttpServer::start(
        &["--caller-rate-per-minute", "3"],
        &[("SOLVAPAY_API_BASE_URL", &upstream.uri())],
    )
    .await;
    let http = client();

    for _ in 0..3 {
        list_customers(&http, &server, Auth::Bearer(KEY_A))
            .await
            .result();
    }
    let limited = list_customers(&http, &server, Auth::Bearer(KEY_A)).await;

    assert_eq!(limited.status, 429, "{}", limited.body);
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    let error = &limited.json()["error"];
    assert_eq!(error["code"], "RATE_LIMITED", "{error}");
    assert_eq!(error["limit"], "rate", "{error}");
    assert_eq!(error["retryAfterSecs"], wait, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("at most 3 a minute"),
        "{error}"
    );
    // Another caller has a budget of its own; the refused request never reached SolvaPay.
    let bob = list_customers(&http, &server, Auth::ApiKey(KEY_B))
        .await
        .result();
    assert_eq!(first_customer(&bob), "cus_BOB");
    assert_eq!(support::request_count(&upstream).await, 4);
    let (_, text) = get(&http, &server, "/metrics").await;
    assert_eq!(
        samples(&text, "solvapay_mcp_caller_limited_total{"),
        [r#"solvapay_mcp_caller_limited_total{limit="rate"} 1"#],
        "{text}"
    );
}

#[tokio::test]
async fn a_caller_over_its_concurrency_gets_429_while_another_caller_gets_through() {
    let upstream = support::upstream().await;
    // Alice's first list waits on SolvaPay; her later ones, and Bob's, answer at once.
    customers_of(KEY_A, "cus_ALICE", Duration::from_secs(3))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&upstream)
        .await;
    customers_of(KEY_A, "cus_ALICE", Duration::ZERO)
        .mount(&upstream)
        .await;
    customers_of(KEY_B, "cus_BOB", Duration::ZERO)
        .mount(&upstream)
        .await;
    let server = HttpServer::start(
        &["--caller-concurrency", "1"],
        &[("SOLVAPAY_API_BASE_URL", &upstream.uri())],
    )
    .await;
    let http = client();

    let slow = {
        let (http, url) = (http.clone(), server.url.clone());
        tokio::spawn(async move {
            stateless(
                &http,
                &url,
                Auth::Bearer(KEY_A),
                "tools/call",
                call("list_customers", json!({})),
            )
            .await
            .result()
        })
    };
    while support::request_count(&upstream).await == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = list_customers(&http, &server, Auth::Bearer(KEY_A)).await;

    assert_eq!(second.status, 429, "{}", second.body);
    assert_eq!(second.headers["retry-after"], "1");
    let error = &second.json()["error"];
    assert_eq!(
        (&error["code"], &error["limit"]),
        (&json!("RATE_LIMITED"), &json!("concurrency")),
        "{error}"
    );
    let bob = list_customers(&http, &server, Auth::Bearer(KEY_B))
        .await
        .result();
    assert_eq!(first_customer(&bob), "cus_BOB");
    assert!(!slow.is_finished(), "Alice's first call was still running");
    // Once her call has answered, her slot is free again.
    let first = slow.await.unwrap();
    assert_eq!(first_customer(&first), "cus_ALICE");
    let again = list_customers(&http, &server, Auth::Bearer(KEY_A))
        .await
        .result();
    assert_eq!(first_customer(&again), "cus_ALICE");
    assert_eq!(support::request_count(&upstream).await, 3);
}

/// A request in the session `id` (opened elsewhere) sent to `url`.
async fn in_session(
    http: &reqwest::Client,
    url: &str,
    auth: Auth<'_>,
    id: &str,
    message: Value,
) -> Answer {
    let headers = [("mcp-session-id", id), ("mcp-protocol-version", SESSION)];
    post(http, url, auth, &headers, message.to_string()).await
}

#[tokio::test]
async fn a_session_opened_on_one_replica_is_served_by_the_other_and_the_audit_names_the_caller() {
    let Some(db) = database().await else { return };
    let sandbox = Sandbox::start(SandboxOptions {
        key: Some(KEY_A.to_owned()),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let (a, b) = HttpServer::replicas(sandbox.base_url(), &db.url).await;
    let http = client();
    let alice = Auth::Bearer(KEY_A);

    let mut session = Session::open(&http, &a.url, alice).await;
    // A write on replica A, the caller's key among its arguments.
    let created = session
        .request(
            "tools/call",
            call(
                "create_customer",
                json!({"email": "replica@x.io", "metadata": {"pastedKey": KEY_A}}),
            ),
        )
        .await
        .result();
    assert_eq!(created["isError"], false, "{created}");
    // Replica B has never seen the session: it restores it from the store and answers in it.
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": call("list_customers", json!({}))});
    let listed = in_session(&http, &b.url, alice, &session.id, list.clone())
        .await
        .result();
    assert_eq!(listed["isError"], false, "{listed}");
    assert!(listed.to_string().contains("replica@x.io"), "{listed}");
    // A server without the store does not know the session: B's answer came from the store.
    let lone = HttpServer::start(&[], &[("SOLVAPAY_API_BASE_URL", sandbox.base_url())]).await;
    let unknown = in_session(&http, &lone.url, alice, &session.id, list).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    let rows = db
        .client()
        .await
        .query(
            "SELECT caller, tool, arguments, coalesce(message, ''), outcome FROM solvapay_audit",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one write, one audit row");
    let (caller, tool, outcome): (String, String, Option<String>) =
        (rows[0].get(0), rows[0].get(1), rows[0].get(4));
    assert_eq!(
        (caller.as_str(), tool.as_str(), outcome.as_deref()),
        (caller_name(KEY_A).as_str(), "create_customer", Some("ok"))
    );
    for column in 0..4 {
        let text: String = rows[0].get(column);
        assert_no_trace_of(KEY_A, &text, "the audit row");
    }
    let arguments: String = rows[0].get(2);
    assert!(arguments.contains("replica@x.io"), "{arguments}");
    for replica in [a, b] {
        let (status, stderr) = replica.terminate().await;
        assert!(status.success(), "{status}: {stderr}");
        assert_no_trace_of(KEY_A, &stderr, "the logs");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn readyz_fails_while_the_database_is_gone_reads_go_on_and_a_refund_is_not_sent() {
    let Some(db) = database().await else { return };
    let relay = Relay::to(&db).await;
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    mount_refund(&upstream, refund_ok()).await;
    let url = db.via(&relay);
    let server = HttpServer::start(
        &[],
        &[
            ("SOLVAPAY_API_BASE_URL", &upstream.uri()),
            ("SOLVAPAY_STATE_URL", &url),
            ("SOLVAPAY_REQUEST_STATE_KEY", &"5e".repeat(32)),
        ],
    )
    .await;
    let http = client();
    let alice = Auth::Bearer(KEY_A);
    assert_eq!(
        get(&http, &server, "/readyz").await,
        (200, "ready".to_owned())
    );

    relay.cut();

    let (status, body) = get(&http, &server, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("PostgreSQL") && body.contains("money-moving calls are refused"),
        "{body}"
    );
    let read = call_as(
        &http,
        &server,
        alice,
        "get_transaction",
        json!({"transactionRef": "txn_D7E8F9G0"}),
    )
    .await
    .result();
    assert_eq!(
        read["structuredContent"]["reference"], "txn_D7E8F9G0",
        "{read}"
    );
    let refund =
        json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": 2500, "reason": "Double charge"});
    let refused = call_as(&http, &server, alice, "create_refund", refund)
        .await
        .result();
    assert_eq!(refused["isError"], true, "{refused}");
    let text = refused["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Not sent: "), "{text}");
    assert!(text.contains("SOLVAPAY_STATE_URL"), "{text}");
    assert_eq!(refund_posts(&upstream).await, 0);
    // Liveness is not readiness: the process itself is fine.
    assert_eq!(get(&http, &server, "/healthz").await.0, 200);
}

#[tokio::test]
async fn a_foreign_host_or_origin_is_forbidden_before_any_credential_is_asked_for() {
    let upstream = support::upstream().await;
    let server = HttpServer::start(
        &["--allowed-origin", "https://app.example.com:443"],
        &[("SOLVAPAY_API_BASE_URL", &upstream.uri())],
    )
    .await;
    let http = client();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientCapabilities": {}}}})
    .to_string();
    let headers = |extra: (&'static str, &'static str)| {
        vec![
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
            extra,
        ]
    };

    // A page of another origin, with or without a key: 403, never a hint how to authenticate.
    for auth in [Auth::None, Auth::Bearer(KEY_A)] {
        let answer = post(
            &http,
            &server.url,
            auth,
            &headers(("origin", "https://evil.example")),
            body.clone(),
        )
        .await;
        assert_eq!(answer.status, 403, "{auth:?}: {}", answer.body);
        assert!(answer.body.contains("Origin"), "{}", answer.body);
        assert!(!answer.body.contains("Authorization"), "{}", answer.body);
    }
    // A rebinding name pointed at the server: 403 too.
    let answer = post(
        &http,
        &server.url,
        Auth::None,
        &headers(("host", "evil.example")),
        body.clone(),
    )
    .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.body.contains("Host"), "{}", answer.body);
    // The allowed origin without a credential is told how to authenticate; with one, served.
    let allowed = headers(("origin", "https://app.example.com"));
    let answer = post(&http, &server.url, Auth::None, &allowed, body.clone()).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    let answer = post(
        &http,
        &server.url,
        Auth::Bearer(KEY_A),
        &allowed,
        body.clone(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}
