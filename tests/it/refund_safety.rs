//! "Never send a refund twice": cancellation of calls in flight, a refund whose answer never came,
//! and the model retrying it. Each test counts the refund POSTs the upstream received.

use std::path::Path;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use serde_json::{Value, json};
use solvapay_mcp::audit::AuditLog;
use solvapay_mcp::journal::RefundJournal;
use solvapay_mcp::options::ServerOptions;
use solvapay_mcp::{BillingServer, Config, SolvaPayClient};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::raw::{Fault, RawUpstream, Reply};
use crate::support::{self, Client, KEY};

const REFUND_ROUTE: &str = "/v1/ui/transactions/refunds";

pub(crate) fn payment(reference: &str, amount: i64) -> Value {
    json!({
        "id": "65f0c0ffee0000000000000a", "transactionId": "65f0c0ffee0000000000000a",
        "reference": reference, "type": "payment", "transactionType": "payment",
        "amount": amount, "fee": 175, "currency": "USD", "status": "completed",
        "fromEntityType": "customer", "fromEntityName": "Jane Smith",
        "toEntityType": "product", "toEntityName": "support-bot",
        "createdAt": "2026-01-20T10:00:00.000Z", "updatedAt": "2026-01-20T10:00:00.000Z"
    })
}

/// The source payment `txn_D7E8F9G0` ($50.00) and an empty list of earlier refunds.
pub(crate) async fn mount_refundable_source(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions/txn_D7E8F9G0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(payment("txn_D7E8F9G0", 5000)))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions"))
        .and(query_param("transactionType", "refund"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"transactions": [], "total": 0})),
        )
        .mount(server)
        .await;
}

/// The refund route answering `response` (after its delay, if any).
pub(crate) async fn mount_refund(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(REFUND_ROUTE))
        .respond_with(response)
        .mount(server)
        .await;
}

pub(crate) fn refund_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "reference": "txn_H1I2J3K4", "type": "refund", "status": "initiated", "amount": 2500, "currency": "USD"
    }))
}

/// Refund POSTs the upstream has received so far.
pub(crate) async fn refund_posts(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == REFUND_ROUTE)
        .count()
}

/// Polls `check` every 20 ms for up to 10 s.
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn refund_args() -> Value {
    json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": 2500, "reason": "Double charge"})
}

/// A client for a server whose journal and audit log live in `dir`.
async fn connect_journaled(config: Config, dir: &Path) -> Client {
    let options = ServerOptions {
        journal: RefundJournal::open(&dir.join("refunds.jsonl")).unwrap(),
        audit: Some(AuditLog::open(&dir.join("audit.jsonl"), vec![KEY.to_owned()]).unwrap()),
        ..ServerOptions::default()
    };
    let server = BillingServer::with_options(SolvaPayClient::new(&config), options);
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = rmcp::ServiceExt::serve(server, server_io).await {
            let _ = running.waiting().await;
        }
    });
    rmcp::ServiceExt::serve((), client_io).await.unwrap()
}

/// The parsed lines of a JSON-lines file (missing file: none).
pub(crate) fn json_lines(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn message(envelope: &Value) -> String {
    envelope["error"]["message"].as_str().unwrap().to_owned()
}

fn params(tool: &str, args: Value) -> CallToolRequestParams {
    let Value::Object(args) = args else { panic!() };
    CallToolRequestParams::new(tool.to_owned()).with_arguments(args)
}

#[tokio::test]
async fn a_cancelled_read_is_dropped_not_retried_and_the_session_goes_on() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_SLOW0001"))
        .respond_with(
            ResponseTemplate::new(503).set_delay(Duration::from_secs(3)), // would be retried
        )
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"reference": "cus_A1B2C3D4", "email": "jane@acme.com", "name": "Jane Smith"}),
        ))
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let handle = client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params(
                "get_customer",
                json!({"reference": "cus_SLOW0001"}),
            ))),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    eventually("the slow read to reach the upstream", || async {
        support::request_count(&upstream).await == 1
    })
    .await;
    handle.cancel(Some("user gave up".into())).await.unwrap();

    // The session still serves calls, at once.
    let started = std::time::Instant::now();
    let out = support::ok(
        &client,
        "get_customer",
        json!({"reference": "cus_A1B2C3D4"}),
    )
    .await;
    assert_eq!(out["reference"], "cus_A1B2C3D4");
    assert!(started.elapsed() < Duration::from_secs(2));
    // Long enough for a retry of the dropped read to show up, had it not been dropped.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let slow = upstream
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("cus_SLOW0001"))
        .count();
    assert_eq!(slow, 1, "the cancelled read was neither retried nor resent");
}

#[tokio::test]
async fn a_cancelled_refund_in_flight_completes_and_its_outcome_is_journaled() {
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    mount_refund(&upstream, refund_ok().set_delay(Duration::from_secs(1))).await;
    let dir = tempfile::tempdir().unwrap();
    let client = connect_journaled(support::config(&upstream.uri()), dir.path()).await;
    let handle = client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params("create_refund", refund_args()))),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    eventually("the refund POST", || async {
        refund_posts(&upstream).await == 1
    })
    .await;
    handle
        .cancel(Some("user pressed stop".into()))
        .await
        .unwrap();

    // The POST still completes and its outcome reaches the journal.
    let journal = dir.path().join("refunds.jsonl");
    eventually("the refund outcome in the journal", || async {
        json_lines(&journal)
            .iter()
            .any(|l| l["type"] == "outcome" && l["outcome"]["status"] == "succeeded")
    })
    .await;
    let lines = json_lines(&journal);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["type"], "intent");
    assert_eq!(lines[0]["intent"]["amount"], 2500);
    assert_eq!(lines[1]["outcome"]["refund"], "txn_H1I2J3K4");
    eventually("the audit line", || async {
        json_lines(&dir.path().join("audit.jsonl"))
            .iter()
            .any(|l| l["tool"] == "create_refund")
    })
    .await;

    // The model asks again: refused from the journal, nothing sent.
    let envelope = support::err(&client, "create_refund", refund_args()).await;
    let text = message(&envelope);
    assert!(text.starts_with("Not sent: an identical refund"), "{text}");
    assert!(
        text.contains("succeeded") && text.contains("txn_H1I2J3K4"),
        "{text}"
    );
    assert_eq!(refund_posts(&upstream).await, 1);
}

#[tokio::test]
async fn a_timed_out_refund_retried_by_the_model_reaches_the_upstream_once() {
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    mount_refund(&upstream, refund_ok().set_delay(Duration::from_secs(3))).await;
    let mut config = support::config(&upstream.uri());
    config.timeout = Duration::from_millis(300);
    let client = support::connect_with(config).await;

    let first = message(&support::err(&client, "create_refund", refund_args()).await);
    assert!(first.starts_with("Refund outcome unknown"), "{first}");
    assert!(first.contains("timed out"), "{first}");
    assert!(
        first.contains("Do not repeat") && first.contains("list_transactions"),
        "says how to check: {first}"
    );
    for _ in 0..2 {
        let again = message(&support::err(&client, "create_refund", refund_args()).await);
        assert!(
            again.starts_with("Not sent: an identical refund"),
            "{again}"
        );
        assert!(again.contains("unknown outcome"), "{again}");
        assert!(again.contains("newRefund: true"), "{again}");
    }
    assert_eq!(refund_posts(&upstream).await, 1);
}

#[tokio::test]
async fn a_refund_answered_500_is_unknown_and_never_sent_again() {
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    mount_refund(
        &upstream,
        ResponseTemplate::new(500).set_body_string("internal error"),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let client = connect_journaled(support::config(&upstream.uri()), dir.path()).await;
    let first = message(&support::err(&client, "create_refund", refund_args()).await);
    assert!(first.starts_with("Refund outcome unknown"), "{first}");
    assert!(
        !first.contains("Retry later"),
        "no advice to repeat it: {first}"
    );
    let again = message(&support::err(&client, "create_refund", refund_args()).await);
    assert!(
        again.starts_with("Not sent: an identical refund"),
        "{again}"
    );
    assert_eq!(refund_posts(&upstream).await, 1);
    let journal = json_lines(&dir.path().join("refunds.jsonl"));
    assert_eq!(journal[1]["outcome"]["status"], "unknown", "{journal:?}");
    // The operator's audit log says the same: the first call's outcome is unknown, not an error.
    let audit = json_lines(&dir.path().join("audit.jsonl"));
    assert_eq!(audit[0]["record"], "started", "{audit:?}");
    assert_eq!(audit[1]["outcome"], "unknown", "{audit:?}");
}

#[tokio::test]
async fn a_refund_refused_400_may_be_asked_again() {
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    Mock::given(method("POST"))
        .and(path(REFUND_ROUTE))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"statusCode": 400, "message": "Refund window closed"})),
        )
        .up_to_n_times(1)
        .mount(&upstream)
        .await;
    mount_refund(&upstream, refund_ok()).await;
    let client = support::connect(&upstream.uri()).await;
    let first = support::err(&client, "create_refund", refund_args()).await;
    assert_eq!(first["error"]["code"], "VALIDATION_ERROR");
    assert!(message(&first).contains("Refund window closed"));
    // Definitely not refunded, so the same request may go out again.
    let out = support::ok(&client, "create_refund", refund_args()).await;
    assert_eq!(out["refundReference"], "txn_H1I2J3K4");
    assert_eq!(refund_posts(&upstream).await, 2);
}

/// Wire faults on the refund POST itself (the lookups before it answer normally).
#[tokio::test]
async fn a_reset_or_truncated_refund_answer_is_unknown_and_sent_once() {
    for fault in [Fault::ResetAfterRequest, Fault::TruncatedBody] {
        let upstream = RawUpstream::start_routed(vec![
            (
                "GET",
                "/v1/ui/transactions/txn_D7E8F9G0",
                Reply::Json(200, payment("txn_D7E8F9G0", 5000)),
            ),
            (
                "GET",
                "/v1/ui/transactions",
                Reply::Json(200, json!({"transactions": [], "total": 0})),
            ),
            ("POST", REFUND_ROUTE, Reply::Fault(fault)),
        ])
        .await;
        let client = support::connect(&upstream.url).await;
        let first = message(&support::err(&client, "create_refund", refund_args()).await);
        assert!(
            first.starts_with("Refund outcome unknown"),
            "{fault:?}: {first}"
        );
        let again = message(&support::err(&client, "create_refund", refund_args()).await);
        assert!(again.starts_with("Not sent"), "{fault:?}: {again}");
        assert_eq!(upstream.requests_to("POST", REFUND_ROUTE), 1, "{fault:?}");
    }
}
