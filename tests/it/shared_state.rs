//! The shared state in PostgreSQL (`SOLVAPAY_STATE_URL`): replicas — in-process servers with
//! options of their own, or real binaries — sharing one database and one fake SolvaPay keep "at
//! most one request per intent", one cap total and one audit trail; a replica killed mid-call is
//! reported by the next start; a database that went away refuses writes and lets reads through.
//! Each test gets a database of its own (see `support::postgres`).

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use clap::Parser;
use rmcp::model::{ClientCapabilities, Implementation, InitializeRequestParams, ProtocolVersion};
use rmcp::transport::streamable_http_server::session::{SessionState, SessionStore};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use solvapay_mcp::audit::{AuditLog, Finish, Outcome};
use solvapay_mcp::cli::{Cli, request_state_key};
use solvapay_mcp::journal::RefundJournal;
use solvapay_mcp::options::{RefundLimits, ServerOptions};
use solvapay_mcp::state::sessions::SessionTable;
use solvapay_mcp::state::{SharedState, StateUrl};
use solvapay_mcp::{BillingServer, SolvaPayClient};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::credits::{CREDITS_PATH, grant, grant_keys, granted, with_balance};
use crate::refund_safety::{
    eventually, mount_refund, mount_refundable_source, refund_ok, refund_posts,
};
use crate::shutdown::Session;
use crate::support::bin::Home;
use crate::support::postgres::{Relay, TestDb, database};
use crate::support::{self, Client, KEY, call, envelope, ok};

/// The confirmation sealing key every replica shares (64 hex digits: 32 bytes).
const SEALING_KEY: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

/// A replica: a server built as `serve` builds it from `flags`, with its state at `url`.
async fn replica(upstream: &MockServer, url: &str, flags: &[&str]) -> Client {
    let mut args = vec!["solvapay-mcp", "--state-url", url];
    args.extend(flags);
    let cli = Cli::try_parse_from(args).unwrap();
    let state = SharedState::open(&cli.server.state_url().unwrap().unwrap())
        .await
        .unwrap();
    let config = support::config(&upstream.uri());
    let sealing = request_state_key(Some(std::ffi::OsStr::new(SEALING_KEY)), true).unwrap();
    let options = cli
        .server
        .options(&config, false, Some(&state), sealing)
        .unwrap();
    support::connect_server(BillingServer::with_options(
        SolvaPayClient::new(&config),
        options,
    ))
    .await
}

fn refund(amount: i64) -> Value {
    json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": amount, "reason": "Double charge"})
}

fn message(result: &rmcp::model::CallToolResult) -> String {
    envelope(result)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn two_replicas_sending_the_identical_refund_at_once_reach_solvapay_once() {
    let Some(db) = database().await else { return };
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    mount_refund(&upstream, refund_ok().set_delay(Duration::from_millis(300))).await;
    let (a, b) = tokio::join!(
        replica(&upstream, &db.url, &[]),
        replica(&upstream, &db.url, &[])
    );

    let (first, second) = tokio::join!(
        call(&a, "create_refund", refund(2500)),
        call(&b, "create_refund", refund(2500))
    );

    let results = [first, second];
    let refunded = results.iter().filter(|r| r.is_error != Some(true)).count();
    assert_eq!(refunded, 1, "exactly one replica refunds: {results:?}");
    let refused = results.iter().find(|r| r.is_error == Some(true)).unwrap();
    let text = message(refused);
    assert!(
        text.starts_with("Not sent: an identical refund of txn_D7E8F9G0 was requested at"),
        "{text}"
    );
    assert_eq!(refund_posts(&upstream).await, 1);
    // One audit trail: both calls, one from each replica, each with its outcome.
    let rows = db
        .client()
        .await
        .query(
            "SELECT replica, outcome FROM solvapay_audit WHERE tool = 'create_refund'",
            &[],
        )
        .await
        .unwrap();
    let replicas: BTreeSet<String> = rows.iter().map(|r| r.get(0)).collect();
    let outcomes: BTreeSet<String> = rows.iter().map(|r| r.get(1)).collect();
    assert_eq!((rows.len(), replicas.len()), (2, 2));
    assert_eq!(outcomes, BTreeSet::from(["error".into(), "ok".into()]));
}

#[tokio::test]
async fn two_replicas_granting_identical_credits_at_once_send_one_idempotency_key() {
    let Some(db) = database().await else { return };
    let upstream = with_balance().await;
    Mock::given(method("POST"))
        .and(path(CREDITS_PATH))
        .respond_with(granted(5000, 9200).set_delay(Duration::from_millis(300)))
        .mount(&upstream)
        .await;
    let (a, b) = tokio::join!(
        replica(&upstream, &db.url, &[]),
        replica(&upstream, &db.url, &[])
    );

    let (first, second) = tokio::join!(
        call(&a, "grant_credits", grant(5000)),
        call(&b, "grant_credits", grant(5000))
    );

    // The second is refused (the first succeeded) or resends the first's key (it was in flight):
    // SolvaPay grants once either way.
    let keys: BTreeSet<String> = grant_keys(&upstream).await.into_iter().collect();
    assert_eq!(keys.len(), 1, "{keys:?} {first:?} {second:?}");
    assert!(first.is_error != Some(true) || second.is_error != Some(true));
    // Once it succeeded, an identical grant through either replica is refused, nothing sent.
    let sent = grant_keys(&upstream).await.len();
    let again = call(&b, "grant_credits", grant(5000)).await;
    assert!(message(&again).contains("newGrant: true"), "{again:?}");
    assert_eq!(grant_keys(&upstream).await.len(), sent);
}

#[tokio::test]
async fn the_refund_total_cap_is_the_deployments_across_replicas() {
    let Some(db) = database().await else { return };
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    mount_refund(&upstream, refund_ok()).await;
    let cap = ["--max-refund-total", "3000"];
    let (a, b) = tokio::join!(
        replica(&upstream, &db.url, &cap),
        replica(&upstream, &db.url, &cap)
    );

    ok(&a, "create_refund", refund(2500)).await;
    let refused = call(&b, "create_refund", refund(1000)).await;

    assert_eq!(
        envelope(&refused)["error"]["code"],
        "VALIDATION_ERROR",
        "{refused:?}"
    );
    let text = message(&refused);
    assert!(
        text.contains("refund of 1000 would bring this deployment's refunds to 3500 (cap 3000"),
        "{text}"
    );
    assert_eq!(refund_posts(&upstream).await, 1);
    // What was refused was given back: 500 still fit.
    ok(&b, "create_refund", refund(500)).await;
    assert_eq!(refund_posts(&upstream).await, 2);
}

#[tokio::test]
async fn both_replicas_audit_into_one_table_with_their_callers_and_a_gone_replica_is_recovered() {
    let Some(db) = database().await else { return };
    let url: StateUrl = db.url.parse().unwrap();
    let (one, two) = tokio::join!(SharedState::open(&url), SharedState::open(&url));
    let (one, two) = (one.unwrap(), two.unwrap());
    let alice = AuditLog::shared(&one, vec![KEY.to_owned()]);
    let bob = AuditLog::shared(&two, vec![KEY.to_owned()]);
    let args = RawValue::from_string(format!(r#"{{"name": "{KEY}"}}"#)).unwrap();

    let done = alice
        .start("create_customer", Some("alice"), &args)
        .await
        .unwrap();
    let running = bob
        .start("create_product", Some("bob"), &args)
        .await
        .unwrap();
    alice
        .finish(&done, "create_customer", Outcome::Ok, &Finish::default())
        .await
        .unwrap();

    let rows = db
        .client()
        .await
        .query(
            "SELECT caller, replica, arguments, outcome FROM solvapay_audit ORDER BY caller",
            &[],
        )
        .await
        .unwrap();
    let seen: Vec<(String, String, Option<String>)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(3)))
        .collect();
    assert_eq!(
        seen,
        [
            ("alice".into(), one.replica().to_owned(), Some("ok".into())),
            ("bob".into(), two.replica().to_owned(), None),
        ]
    );
    for row in &rows {
        let arguments: String = row.get(2);
        assert!(!arguments.contains(KEY), "{arguments}");
    }
    // Bob's call is open on a live replica: listed as unfinished, never recovered by another.
    let open = alice.unfinished().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].call_id, running);
    assert!(alice.recover().await.unwrap().is_empty());

    // Bob's replica goes away (its connections close): the next start names its call, once.
    drop(bob);
    drop(two);
    let recovered = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    eventually("the gone replica's call to be recovered", || {
        let (alice, found) = (alice.clone(), recovered.clone());
        async move {
            let calls = alice.recover().await.unwrap();
            let mut found = found.lock().unwrap();
            found.extend(calls);
            !found.is_empty()
        }
    })
    .await;
    let recovered = recovered.lock().unwrap().clone();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].call_id, running);
    assert_eq!(recovered[0].tool, "create_product");
    assert!(alice.recover().await.unwrap().is_empty());
    assert!(alice.unfinished().await.unwrap().is_empty());
}

/// Waits until no replica holds a connection to `db`.
async fn no_replica_connected(db: &TestDb) {
    let client = db.client().await;
    eventually("the killed replica's connections to close", || async {
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND application_name LIKE 'solvapay-mcp %'",
                &[],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0) == 0
    })
    .await;
}

#[tokio::test]
async fn a_replica_killed_mid_refund_leaves_its_start_record_which_the_next_start_reports() {
    let Some(db) = database().await else { return };
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    mount_refund(&upstream, refund_ok().set_delay(Duration::from_secs(60))).await;
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("SOLVAPAY_STATE_URL", db.url.as_str()),
        ("SOLVAPAY_REQUEST_STATE_KEY", SEALING_KEY),
    ];

    let mut first = Session::start(&upstream.uri(), data.path(), &env).await;
    first.call(1, "create_refund", refund(2500)).await;
    eventually("the refund POST", || async {
        refund_posts(&upstream).await == 1
    })
    .await;
    drop(first); // SIGKILL (kill_on_drop), mid-call
    no_replica_connected(&db).await;

    let mut second = Session::start(&upstream.uri(), data.path(), &env).await;
    // The identical refund is still refused: its intent is pending in the shared journal.
    second.call(2, "create_refund", refund(2500)).await;
    let answer = second.response(2).await;
    let text = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Not sent: an identical refund"), "{text}");
    drop(second.stdin.take());
    let (status, _, logs) = second.finish(Duration::from_secs(15)).await;
    assert!(status.success(), "{logs}");

    assert!(
        logs.contains("audit: create_refund (call call_")
            && logs.contains("has no recorded outcome: the server stopped during it"),
        "{logs}"
    );
    let rows = db
        .client()
        .await
        .query(
            "SELECT outcome FROM solvapay_audit WHERE tool = 'create_refund' ORDER BY started_at",
            &[],
        )
        .await
        .unwrap();
    let outcomes: Vec<Option<String>> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(outcomes, [Some("interrupted".into()), Some("error".into())]);
    assert_eq!(refund_posts(&upstream).await, 1);
    assert!(!data.path().join("audit.jsonl").exists());
}

#[tokio::test]
async fn without_its_database_a_replica_sends_no_refund_and_still_reads() {
    let Some(db) = database().await else { return };
    let relay = Relay::to(&db).await;
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    mount_refund(&upstream, refund_ok()).await;
    let client = replica(&upstream, &db.via(&relay), &[]).await;

    relay.cut();
    let refused = call(&client, "create_refund", refund(2500)).await;

    let error = &envelope(&refused)["error"];
    assert_eq!(error["code"], "INTERNAL_ERROR");
    let text = error["message"].as_str().unwrap();
    assert!(text.starts_with("Not sent: "), "{text}");
    assert!(
        text.contains("check the PostgreSQL database of SOLVAPAY_STATE_URL"),
        "{text}"
    );
    assert_eq!(refund_posts(&upstream).await, 0);
    let read = ok(
        &client,
        "get_transaction",
        json!({"transactionRef": "txn_D7E8F9G0"}),
    )
    .await;
    assert_eq!(read["reference"], "txn_D7E8F9G0", "{read}");
}

#[tokio::test]
async fn without_its_database_the_journal_and_the_cap_refuse_a_refund_as_not_sent() {
    let Some(db) = database().await else { return };
    let relay = Relay::to(&db).await;
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    mount_refund(&upstream, refund_ok()).await;
    let state = SharedState::open(&db.via(&relay).parse().unwrap())
        .await
        .unwrap();
    let config = support::config(&upstream.uri());
    // No audit log in the way: first the journal alone, then the deployment's cap, is shared.
    let journal_only = ServerOptions {
        journal: RefundJournal::shared(&state),
        ..ServerOptions::default()
    };
    let cap_too = ServerOptions {
        journal: RefundJournal::shared(&state),
        refund_limits: RefundLimits::new(None, Some(10_000)).deployment_wide(&state),
        ..ServerOptions::default()
    };
    let journaled = support::connect_server(BillingServer::with_options(
        SolvaPayClient::new(&config),
        journal_only,
    ))
    .await;
    let capped = support::connect_server(BillingServer::with_options(
        SolvaPayClient::new(&config),
        cap_too,
    ))
    .await;

    relay.cut();

    let text = message(&call(&journaled, "create_refund", refund(2500)).await);
    assert!(
        text.starts_with("Not sent: the refund journal cannot be written (the shared journal:"),
        "{text}"
    );
    assert!(text.contains("SOLVAPAY_STATE_URL"), "{text}");
    let text = message(&call(&capped, "create_refund", refund(2500)).await);
    assert!(
        text.starts_with("Not sent: the deployment's refund total cannot be checked"),
        "{text}"
    );
    assert!(text.contains("SOLVAPAY_STATE_URL"), "{text}");
    assert_eq!(refund_posts(&upstream).await, 0);
}

#[tokio::test]
async fn migrations_applied_by_two_starts_at_once_are_applied_once() {
    let Some(db) = database().await else { return };
    let url: StateUrl = db.url.parse().unwrap();

    let (a, b) = tokio::join!(SharedState::open(&url), SharedState::open(&url));
    a.unwrap();
    b.unwrap();
    SharedState::open(&url).await.unwrap();

    let rows = db
        .client()
        .await
        .query("SELECT version FROM solvapay_schema_version", &[])
        .await
        .unwrap();
    let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, [1, 2]);
}

#[tokio::test]
async fn the_session_store_round_trips_a_session() {
    let Some(db) = database().await else { return };
    let state = SharedState::open(&db.url.parse().unwrap()).await.unwrap();
    let sessions = SessionTable::new(&state);
    let params = InitializeRequestParams::new(
        ClientCapabilities::default(),
        Implementation::new("claude-code", "2.1.0"),
    )
    .with_protocol_version(ProtocolVersion::V_2025_11_25);
    let session = SessionState::new(params);

    assert!(sessions.load("sess-1").await.unwrap().is_none());
    sessions.store("sess-1", &session).await.unwrap();
    // Another replica reads what this one stored.
    let other = SessionTable::new(&SharedState::open(&db.url.parse().unwrap()).await.unwrap());
    let loaded = other.load("sess-1").await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&loaded).unwrap(),
        serde_json::to_value(&session).unwrap()
    );
    other.delete("sess-1").await.unwrap();
    assert!(sessions.load("sess-1").await.unwrap().is_none());
}

/// The binary with `SOLVAPAY_STATE_URL` set to `url` (and the replicas' sealing key), until it
/// exits: (exit code, stderr).
async fn start_with_state_url(url: &str) -> (Option<i32>, String) {
    start_with(&[
        ("SOLVAPAY_STATE_URL", url),
        ("SOLVAPAY_REQUEST_STATE_KEY", SEALING_KEY),
    ])
    .await
}

/// The binary with `env`, until it exits: (exit code, stderr).
async fn start_with(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let home = Home::new();
    let mut command = home.command();
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.stdin(Stdio::null()).output().await.unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_bad_state_url_is_a_config_error_that_never_shows_its_password() {
    let (code, logs) = start_with_state_url("mysql://admin:hunter2@db.internal/x").await;
    assert_eq!(code, Some(2), "{logs}");
    assert!(logs.contains("SOLVAPAY_STATE_URL"), "{logs}");
    assert!(!logs.contains("hunter2"), "{logs}");

    // A well-formed URL nothing answers at: a failure to start, without the password.
    let (code, logs) = start_with_state_url("postgres://admin:hunter2@127.0.0.1:1/x").await;
    assert_eq!(code, Some(1), "{logs}");
    assert!(
        logs.contains("the shared state at postgres://admin@127.0.0.1:1/x cannot be opened"),
        "{logs}"
    );
    assert!(!logs.contains("hunter2"), "{logs}");
}

/// A shared state without the replicas' sealing key is a configuration error, found before the
/// database is dialled: exit 2 naming the missing variable, not a failure to reach PostgreSQL.
#[tokio::test]
async fn a_shared_state_without_a_sealing_key_is_refused_before_the_database_is_reached() {
    let (code, logs) = start_with(&[(
        "SOLVAPAY_STATE_URL",
        "postgres://admin:hunter2@127.0.0.1:1/x",
    )])
    .await;
    assert_eq!(code, Some(2), "{logs}");
    assert!(
        logs.contains("SOLVAPAY_REQUEST_STATE_KEY: required with SOLVAPAY_STATE_URL"),
        "{logs}"
    );
    assert!(!logs.contains("cannot be opened"), "{logs}");
    assert!(!logs.contains("hunter2"), "{logs}");
}
