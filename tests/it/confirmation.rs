//! The human's confirmation on 2026-07-28 clients (MRTR): the call is answered with an
//! input-required result, and only the retried call with an accepted answer and its own sealed
//! state sends anything. Each test counts what reached the upstream.

use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ElicitationAction,
    InputRequiredResult, InputResponses,
};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient};
use serde_json::{Value, json};
use solvapay_mcp::audit::AuditLog;
use solvapay_mcp::options::ServerOptions;
use solvapay_mcp::{BillingServer, SolvaPayClient};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::refund_safety::{
    mount_refund, mount_refundable_source, payment, refund_ok, refund_posts,
};
use crate::support::bin::Home;
use crate::support::person::{Confirmer, Modern, connect_modern};
use crate::support::{self, request_count};

fn params(tool: &str, args: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_owned()).with_arguments(args.as_object().unwrap().clone())
}

fn delete(reference: &str) -> CallToolRequestParams {
    params("delete_customer", json!({"reference": reference}))
}

fn refund(amount: i64) -> CallToolRequestParams {
    params(
        "create_refund",
        json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": amount}),
    )
}

/// An upstream where any customer can be looked up and deleted (by any key); counts every request.
pub(crate) async fn deletable() -> MockServer {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path_regex("^/v1/sdk/customers/cus_[A-Z0-9]+$"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"reference": "cus_A1B2C3D4"})),
        )
        .mount(&upstream)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&upstream)
        .await;
    upstream
}

fn server_with(upstream: &MockServer, options: ServerOptions) -> BillingServer {
    BillingServer::with_options(
        SolvaPayClient::new(&support::config(&upstream.uri())),
        options,
    )
}

fn server(upstream: &MockServer) -> BillingServer {
    server_with(upstream, ServerOptions::default())
}

fn message(result: &CallToolResult) -> String {
    support::envelope(result)["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The first round, driven by hand: the server's input-required result.
async fn first_round<H: ClientHandler>(
    client: &RunningService<RoleClient, H>,
    call: CallToolRequestParams,
) -> InputRequiredResult {
    match client.call_tool_once(call).await.unwrap() {
        CallToolResponse::InputRequired(input) => input,
        other => panic!("expected an input-required result, got {other:?}"),
    }
}

/// The retried call: `call` with the person's `answer` and the `state` the server sealed.
async fn retry<H: ClientHandler>(
    client: &RunningService<RoleClient, H>,
    call: CallToolRequestParams,
    answer: Value,
    state: &str,
) -> CallToolResult {
    let mut responses = InputResponses::new();
    responses.insert("confirm".to_owned(), answer);
    match client
        .call_tool_once(
            call.with_input_responses(responses)
                .with_request_state(state),
        )
        .await
        .unwrap()
    {
        CallToolResponse::Complete(result) => result,
        other => panic!("expected a complete result, got {other:?}"),
    }
}

fn accept() -> Value {
    json!({"action": "accept", "content": {"confirm": true}})
}

#[tokio::test]
async fn a_modern_client_is_asked_and_an_accepted_answer_sends_once() {
    let upstream = deletable().await;
    let dir = tempfile::tempdir().unwrap();
    let options = ServerOptions {
        audit: Some(AuditLog::open(&dir.path().join("audit.jsonl"), Vec::new()).unwrap()),
        ..ServerOptions::default()
    };
    let person = Confirmer::answering(ElicitationAction::Accept);
    let client = connect_modern(person.clone(), server_with(&upstream, options)).await;
    let result = client.call_tool(delete("cus_A1B2C3D4")).await.unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    assert_eq!(person.asked(), ["Delete customer cus_A1B2C3D4?"]);
    // The lookup of the internal id, then the one delete.
    assert_eq!(request_count(&upstream).await, 2);

    // The audit: the first round asked (nothing sent), the retried round did it.
    let audit = crate::refund_safety::json_lines(&dir.path().join("audit.jsonl"));
    let outcomes: Vec<&str> = audit.iter().filter_map(|l| l["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["asked", "ok"], "{audit:?}");
}

#[tokio::test]
async fn a_declined_or_cancelled_answer_sends_nothing() {
    for answer in [ElicitationAction::Decline, ElicitationAction::Cancel] {
        let upstream = deletable().await;
        let person = Confirmer::answering(answer.clone());
        let client = connect_modern(person.clone(), server(&upstream)).await;
        let result = client.call_tool(delete("cus_A1B2C3D4")).await.unwrap();
        assert_eq!(result.is_error, Some(true), "{answer:?}");
        assert!(message(&result).contains("nothing was sent"), "{result:?}");
        assert_eq!(person.asked().len(), 1);
        assert_eq!(request_count(&upstream).await, 0, "{answer:?}");
    }
}

#[tokio::test]
async fn accepting_with_the_box_unticked_is_a_decline() {
    let upstream = deletable().await;
    let client = connect_modern(
        Confirmer::answering(ElicitationAction::Accept),
        server(&upstream),
    )
    .await;
    let input = first_round(&client, delete("cus_A1B2C3D4")).await;
    let state = input.request_state.unwrap();
    let unticked = json!({"action": "accept", "content": {"confirm": false}});
    let result = retry(&client, delete("cus_A1B2C3D4"), unticked, &state).await;
    assert!(message(&result).contains("declined"), "{result:?}");
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn a_modern_client_without_elicitation_relies_on_the_annotations() {
    let upstream = deletable().await;
    let person = Confirmer::default();
    let client = connect_modern(person.clone(), server(&upstream)).await;
    let result = client.call_tool(delete("cus_A1B2C3D4")).await.unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    assert!(person.asked().is_empty());
    assert_eq!(request_count(&upstream).await, 2);
}

#[tokio::test]
async fn an_expired_confirmation_sends_nothing() {
    let upstream = deletable().await;
    let options = ServerOptions {
        confirm_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    };
    let client = connect_modern(
        Confirmer::answering(ElicitationAction::Accept),
        server_with(&upstream, options),
    )
    .await;
    let input = first_round(&client, delete("cus_A1B2C3D4")).await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let result = retry(
        &client,
        delete("cus_A1B2C3D4"),
        accept(),
        &input.request_state.unwrap(),
    )
    .await;
    assert_eq!(result.is_error, Some(true));
    assert!(message(&result).contains("has expired"), "{result:?}");
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn a_confirmation_cannot_be_replayed_for_other_arguments_altered_or_used_twice() {
    let upstream = deletable().await;
    let client = connect_modern(
        Confirmer::answering(ElicitationAction::Accept),
        server(&upstream),
    )
    .await;
    let input = first_round(&client, delete("cus_A1B2C3D4")).await;
    let state = input.request_state.unwrap();

    let other = retry(&client, delete("cus_X7Y8Z9W0"), accept(), &state).await;
    assert!(
        message(&other).contains("does not belong to this call"),
        "{other:?}"
    );
    let mut altered = state.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let forged = retry(&client, delete("cus_A1B2C3D4"), accept(), &altered).await;
    assert_eq!(forged.is_error, Some(true), "{forged:?}");
    assert_eq!(request_count(&upstream).await, 0);

    let done = retry(&client, delete("cus_A1B2C3D4"), accept(), &state).await;
    assert_ne!(done.is_error, Some(true), "{done:?}");
    let again = retry(&client, delete("cus_A1B2C3D4"), accept(), &state).await;
    assert_eq!(again.is_error, Some(true), "{again:?}");
    assert_eq!(request_count(&upstream).await, 2);
}

async fn refundable() -> MockServer {
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    mount_refund(&upstream, refund_ok()).await;
    upstream
}

#[tokio::test]
async fn a_refund_names_amount_payment_and_customer_and_is_bound_to_its_amount() {
    let upstream = refundable().await;
    let person = Confirmer::answering(ElicitationAction::Accept);
    let client = connect_modern(person.clone(), server(&upstream)).await;

    // A confirmation for $25.00 does not refund $20.00.
    let input = first_round(&client, refund(2500)).await;
    let other = retry(
        &client,
        refund(2000),
        accept(),
        &input.request_state.unwrap(),
    )
    .await;
    assert!(
        message(&other).contains("does not belong to this call"),
        "{other:?}"
    );
    assert_eq!(refund_posts(&upstream).await, 0);

    let result = client.call_tool(refund(2500)).await.unwrap();
    assert_ne!(result.is_error, Some(true), "{result:?}");
    assert_eq!(
        person.asked(),
        ["Refund $25.00 of txn_D7E8F9G0 (payment of $50.00) to Jane Smith?"]
    );
    assert_eq!(refund_posts(&upstream).await, 1);
}

#[tokio::test]
async fn a_declined_refund_sends_nothing_and_keeps_the_cap() {
    let upstream = refundable().await;
    let options = ServerOptions {
        refund_limits: solvapay_mcp::options::RefundLimits::new(None, Some(2500)),
        ..ServerOptions::default()
    };
    let client = connect_modern(
        Confirmer::answering(ElicitationAction::Decline),
        server_with(&upstream, options),
    )
    .await;
    // Each round (asked, declined) gives its reservation back: the cap still allows $25.00.
    for _ in 0..3 {
        let result = client.call_tool(refund(2500)).await.unwrap();
        assert!(message(&result).contains("declined"), "{result:?}");
    }
    assert_eq!(refund_posts(&upstream).await, 0);
}

/// A refund by the payment's internal id after the same refund by its reference: one intent.
#[tokio::test]
async fn the_same_refund_named_by_internal_id_is_not_sent_twice() {
    let upstream = refundable().await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/transactions/65f0c0ffee0000000000000a"))
        .respond_with(ResponseTemplate::new(200).set_body_json(payment("txn_D7E8F9G0", 5000)))
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    let by_reference = json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": 1000});
    support::ok(&client, "create_refund", by_reference).await;
    for args in [
        json!({"sourceTransactionRef": "65f0c0ffee0000000000000a", "amount": 1000}),
        json!({"sourceTransactionId": "65f0c0ffee0000000000000a", "amount": 1000}),
        json!({"sourceTransactionId": "txn_D7E8F9G0", "amount": 1000}),
    ] {
        let refused = support::err(&client, "create_refund", args.clone()).await;
        let text = refused["error"]["message"].as_str().unwrap();
        assert!(
            text.starts_with("Not sent: an identical refund of txn_D7E8F9G0"),
            "{args}: {text}"
        );
    }
    assert_eq!(refund_posts(&upstream).await, 1);
}

/// The real binary, local demo sandbox, rmcp's client on 2026-07-28: a refund asked, accepted and
/// made once; a declined one made never.
#[tokio::test]
async fn through_the_binary_a_modern_client_confirms_a_refund() {
    let home = Home::new();
    for (answer, refunds) in [
        (ElicitationAction::Decline, 0),
        (ElicitationAction::Accept, 1),
    ] {
        let command = home.command().configure(|c| {
            c.env("RUST_LOG", "warn").arg("--demo");
        });
        let person = Confirmer::answering(answer.clone());
        let client = Modern(person.clone())
            .serve_modern(TokioChildProcess::new(command).unwrap())
            .await;
        let result = client.call_tool(refund(1000)).await.unwrap();
        assert_eq!(
            result.is_error == Some(true),
            refunds == 0,
            "{answer:?}: {result:?}"
        );
        assert_eq!(person.asked().len(), 1, "{answer:?}");
        assert!(person.asked()[0].starts_with("Refund $10.00 of txn_D7E8F9G0"));
        let list = client
            .call_tool(params("list_transactions", json!({"limit": 100})))
            .await
            .unwrap();
        let made = list.structured_content.unwrap()["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["type"] == "refund")
            .count();
        assert_eq!(made, refunds, "{answer:?}");
        client.cancel().await.unwrap();
    }
}

/// A replica of the real binary on 2026-07-28 against `upstream`, sealing with `key`
/// (`SOLVAPAY_REQUEST_STATE_KEY`), in its own home.
async fn replica(
    home: &Home,
    upstream: &MockServer,
    key: &str,
) -> RunningService<RoleClient, Modern> {
    let command = home.command().configure(|c| {
        c.env("RUST_LOG", "warn")
            .env("SOLVAPAY_SECRET_KEY", support::KEY)
            .env("SOLVAPAY_API_BASE_URL", upstream.uri())
            .env("SOLVAPAY_REQUEST_STATE_KEY", key);
    });
    let person = Confirmer::answering(ElicitationAction::Accept);
    Modern(person)
        .serve_modern(TokioChildProcess::new(command).unwrap())
        .await
}

/// Replicas that share SOLVAPAY_REQUEST_STATE_KEY: a confirmation asked by one process is
/// answered at another, and a process with another key refuses it (nothing sent).
#[tokio::test]
async fn a_confirmation_asked_by_one_process_is_answered_at_another_with_the_same_key() {
    let upstream = deletable().await;
    let shared = "5e".repeat(32);
    let other = "a7".repeat(32);
    let (asker, stranger, answerer) = (Home::new(), Home::new(), Home::new());

    let first = replica(&asker, &upstream, &shared).await;
    let state = first_round(&first, delete("cus_A1B2C3D4"))
        .await
        .request_state
        .unwrap();
    first.cancel().await.unwrap();

    let wrong_key = replica(&stranger, &upstream, &other).await;
    let refused = retry(&wrong_key, delete("cus_A1B2C3D4"), accept(), &state).await;
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    assert!(message(&refused).contains("does not belong"), "{refused:?}");
    wrong_key.cancel().await.unwrap();
    assert_eq!(request_count(&upstream).await, 0, "nothing sent");

    let same_key = replica(&answerer, &upstream, &shared).await;
    let done = retry(&same_key, delete("cus_A1B2C3D4"), accept(), &state).await;
    assert_ne!(done.is_error, Some(true), "{done:?}");
    same_key.cancel().await.unwrap();
    assert_eq!(
        request_count(&upstream).await,
        2,
        "the lookup and the one DELETE"
    );
}

/// A request state key that is not one stops the binary with a config error that names the
/// variable and does not echo the value.
#[tokio::test]
async fn a_bad_request_state_key_is_a_config_error_that_never_echoes_it() {
    let home = Home::new();
    let value = "c0ffee-this-is-secret";
    let out = home
        .command()
        .env("SOLVAPAY_REQUEST_STATE_KEY", value)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SOLVAPAY_REQUEST_STATE_KEY"), "{stderr}");
    assert!(!stderr.contains(value), "{stderr}");
    assert!(out.stdout.is_empty());
}
