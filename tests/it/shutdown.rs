//! The real binary ending while a refund is on the wire (stdin EOF, SIGTERM): the refund finishes
//! within the grace period, its outcome is journaled and audited, and a restarted server refuses
//! to send it again. Plus the canary: the key appears in no output of any error path.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::refund_safety::{
    eventually, json_lines, mount_refund, mount_refundable_source, refund_ok, refund_posts,
};
use crate::support;
use crate::support::bin::Home;

/// A sandbox-mode canary key, so refunds are enabled.
const CANARY: &str = "sk_test_CANARY_shutdown_7a6b5c4d3e";

/// The real binary over stdio, with its stderr drained and kept.
pub(crate) struct Session {
    child: Child,
    pub(crate) stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: tokio::task::JoinHandle<String>,
    /// The run's private home, kept as long as the process.
    _home: Home,
}

impl Session {
    /// Starts the binary against `base_url` with `data` as its data directory, `extra_env` last (so
    /// it may replace the key), and completes the MCP handshake.
    pub(crate) async fn start(base_url: &str, data: &Path, extra_env: &[(&str, &str)]) -> Self {
        let home = Home::new();
        let mut command = home.command();
        command
            .env("SOLVAPAY_SECRET_KEY", CANARY)
            .env("SOLVAPAY_API_BASE_URL", base_url)
            .env("SOLVAPAY_DATA_DIR", data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut err = child.stderr.take().unwrap();
        // Drained concurrently: trace logs would otherwise fill the pipe and stall the server.
        let stderr = tokio::spawn(async move {
            let mut logs = String::new();
            let _ = err.read_to_string(&mut logs).await;
            logs
        });
        let mut session = Self {
            child,
            stdin,
            stdout,
            stderr,
            _home: home,
        };
        session.send(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}))
            .await;
        session
            .send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        session.response(0).await;
        session
    }

    async fn send(&mut self, message: Value) {
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(b'\n');
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(&bytes).await.unwrap();
        stdin.flush().await.unwrap();
    }

    pub(crate) async fn call(&mut self, id: i64, tool: &str, args: Value) {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": args}}))
            .await;
    }

    /// Reads stdout until the response `id`; every line must be JSON-RPC.
    pub(crate) async fn response(&mut self, id: i64) -> Value {
        loop {
            let text = tokio::time::timeout(Duration::from_secs(20), self.stdout.next_line())
                .await
                .expect("a response within 20 s")
                .unwrap()
                .expect("stdout open");
            let msg: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("non-JSON on stdout ({e}): {text}"));
            assert_eq!(msg["jsonrpc"], "2.0", "{text}");
            if msg["id"] == id {
                return msg;
            }
        }
    }

    /// Waits for exit (at most `within`), then returns the rest of stdout and all of stderr.
    pub(crate) async fn finish(
        mut self,
        within: Duration,
    ) -> (std::process::ExitStatus, String, String) {
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the server did not exit within {within:?}"))
            .unwrap();
        let mut rest = String::new();
        while let Ok(Some(line)) = self.stdout.next_line().await {
            serde_json::from_str::<Value>(&line)
                .unwrap_or_else(|e| panic!("non-JSON on stdout ({e}): {line}"));
            rest.push_str(&line);
            rest.push('\n');
        }
        (status, rest, self.stderr.await.unwrap())
    }
}

fn refund_args() -> Value {
    json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": 2500, "reason": "Double charge"})
}

/// Starts a refund whose POST takes 1.5 s, ends the server with `stop` while it is on the wire,
/// and checks the refund finished, was journaled and audited, and is refused after a restart.
async fn refund_survives(stop: impl AsyncFnOnce(&mut Session)) {
    let upstream = support::upstream().await;
    mount_refundable_source(&upstream).await;
    mount_refund(
        &upstream,
        refund_ok().set_delay(Duration::from_millis(1500)),
    )
    .await;
    let data = tempfile::tempdir().unwrap();

    let mut session = Session::start(&upstream.uri(), data.path(), &[]).await;
    session.call(1, "create_refund", refund_args()).await;
    eventually("the refund POST", || async {
        refund_posts(&upstream).await == 1
    })
    .await;
    stop(&mut session).await;
    // The grace period is 10 s; the refund needs about 1.5 s of it.
    let (status, _, logs) = session.finish(Duration::from_secs(12)).await;
    assert!(status.success(), "{status:?}\n{logs}");
    assert_eq!(refund_posts(&upstream).await, 1);

    let journal = json_lines(&data.path().join("refunds.jsonl"));
    assert_eq!(journal.len(), 2, "intent and outcome: {journal:?}");
    assert_eq!(journal[0]["type"], "intent");
    assert_eq!(journal[0]["intent"]["source"], "txn_D7E8F9G0");
    assert_eq!(journal[1]["type"], "outcome");
    assert_eq!(journal[1]["id"], journal[0]["id"]);
    assert_eq!(journal[1]["outcome"]["status"], "succeeded", "{journal:?}");
    let audit = json_lines(&data.path().join("audit.jsonl"));
    assert!(
        audit
            .iter()
            .any(|l| l["tool"] == "create_refund" && l["outcome"] == "ok"),
        "{audit:?}"
    );

    // A new server on the same data refuses the identical refund without sending it.
    let mut again = Session::start(&upstream.uri(), data.path(), &[]).await;
    again.call(1, "create_refund", refund_args()).await;
    let answer = again.response(1).await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    let text = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Not sent: an identical refund"), "{text}");
    drop(again.stdin.take());
    let (status, _, _) = again.finish(Duration::from_secs(10)).await;
    assert!(status.success());
    assert_eq!(refund_posts(&upstream).await, 1);
}

#[tokio::test]
async fn stdin_eof_during_a_refund_lets_it_finish_and_record_its_outcome() {
    refund_survives(async |session: &mut Session| drop(session.stdin.take())).await;
}

#[tokio::test]
async fn sigterm_during_a_refund_lets_it_finish_and_record_its_outcome() {
    refund_survives(async |session: &mut Session| {
        let pid = session.child.id().unwrap();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    })
    .await;
}

/// Every error path reachable from a session, at `RUST_LOG=trace`: the key shows up nowhere.
#[tokio::test]
async fn the_canary_key_never_appears_in_any_output() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_UNAUTH01"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                json!({"statusCode": 401, "message": format!("Invalid key {CANARY}")}),
            ),
        )
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_MISSING1"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"statusCode": 404, "message": "Customer not found"})),
        )
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_BROKEN01"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>down</html>"))
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_SLOW0001"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&upstream)
        .await;
    mount_refundable_source(&upstream).await;
    mount_refund(
        &upstream,
        ResponseTemplate::new(502).set_body_string("bad gateway"),
    )
    .await;
    let data = tempfile::tempdir().unwrap();
    let mut session = Session::start(
        &upstream.uri(),
        data.path(),
        &[("RUST_LOG", "trace"), ("SOLVAPAY_TIMEOUT_SECS", "1")],
    )
    .await;
    let calls = [
        ("get_customer", json!({"reference": "cus_UNAUTH01"})),
        ("get_customer", json!({"reference": "cus_MISSING1"})),
        ("get_customer", json!({"reference": "cus_BROKEN01"})),
        ("get_customer", json!({"reference": "cus_SLOW0001"})),
        ("get_customer", json!({"reference": "../../admin"})),
        ("get_customer", json!({"reference": 42})),
        (
            "create_refund",
            json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": -5}),
        ),
        ("create_refund", refund_args()),
        ("create_refund", refund_args()),
        ("no_such_tool", json!({})),
    ];
    let mut answers = String::new();
    for (i, (tool, args)) in calls.into_iter().enumerate() {
        let id = i as i64 + 1;
        session.call(id, tool, args).await;
        let answer = session.response(id).await;
        if tool != "no_such_tool" {
            assert_eq!(answer["result"]["isError"], true, "{tool}: {answer}");
        }
        answers.push_str(&answer.to_string());
    }
    session
        .send(json!({"jsonrpc": "2.0", "id": 99, "method": "tools/list"}))
        .await;
    answers.push_str(&session.response(99).await.to_string());
    drop(session.stdin.take());
    let (status, rest, logs) = session.finish(Duration::from_secs(10)).await;
    assert!(status.success());
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "trace logging was on"
    );

    let audit = std::fs::read_to_string(data.path().join("audit.jsonl")).unwrap();
    let journal = std::fs::read_to_string(data.path().join("refunds.jsonl")).unwrap();
    assert!(audit.contains("create_refund") && journal.contains("intent"));
    for (what, text) in [
        ("tool results", &answers),
        ("stdout", &rest),
        ("stderr", &logs),
        ("audit log", &audit),
        ("refund journal", &journal),
    ] {
        assert_eq!(
            support::leaks::reveals(text, CANARY),
            None,
            "the key appears in the {what}"
        );
        assert!(
            !text.contains("CANARY"),
            "part of the key appears in the {what}"
        );
    }
}

/// Five customers and a bulk usage call on a slow upstream: every write is on record as started
/// before its request leaves.
async fn writes_in_flight(session: &mut Session, upstream: &wiremock::MockServer) {
    for n in 0..5 {
        session
            .call(
                10 + n,
                "create_customer",
                json!({"email": format!("slow{n}@example.com")}),
            )
            .await;
    }
    let events: Vec<Value> = (0..10)
        .map(|n| json!({"customerRef": "cus_A1B2C3D4", "productRef": "prd_P9Q0R1S2", "requestId": format!("req-{n}")}))
        .collect();
    session
        .call(20, "record_bulk_usage", json!({ "events": events }))
        .await;
    eventually("six POSTs on the wire", || async {
        upstream
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.method.as_str() == "POST")
            .count()
            == 6
    })
    .await;
}

async fn slow_upstream() -> wiremock::MockServer {
    let upstream = support::upstream().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(60)))
        .mount(&upstream)
        .await;
    upstream
}

fn records<'a>(audit: &'a [Value], record: &str) -> Vec<&'a Value> {
    audit.iter().filter(|l| l["record"] == record).collect()
}

#[tokio::test]
async fn sigkill_with_writes_in_flight_leaves_each_started_and_the_next_start_names_them() {
    let upstream = slow_upstream().await;
    let data = tempfile::tempdir().unwrap();
    let mut session = Session::start(&upstream.uri(), data.path(), &[]).await;
    writes_in_flight(&mut session, &upstream).await;
    session.child.start_kill().unwrap();
    let (status, _, _) = session.finish(Duration::from_secs(5)).await;
    assert!(!status.success());

    let audit = json_lines(&data.path().join("audit.jsonl"));
    let started = records(&audit, "started");
    assert_eq!(started.len(), 6, "{audit:?}");
    assert!(records(&audit, "finished").is_empty(), "{audit:?}");
    let tools: Vec<&str> = started
        .iter()
        .map(|l| l["tool"].as_str().unwrap())
        .collect();
    assert_eq!(tools.iter().filter(|t| **t == "create_customer").count(), 5);
    let bulk = started
        .iter()
        .find(|l| l["tool"] == "record_bulk_usage")
        .unwrap();
    assert_eq!(bulk["arguments"]["events"].as_array().unwrap().len(), 10);

    // The next start names each call on stderr, once.
    let mut again = Session::start(&upstream.uri(), data.path(), &[]).await;
    drop(again.stdin.take());
    let (_, _, logs) = again.finish(Duration::from_secs(10)).await;
    for call in &started {
        let id = call["callId"].as_str().unwrap();
        assert!(
            logs.contains(id) && logs.contains("has no recorded outcome"),
            "{id} not named: {logs}"
        );
    }
    let audit = json_lines(&data.path().join("audit.jsonl"));
    let closed = records(&audit, "finished");
    assert_eq!(closed.len(), 6, "{audit:?}");
    assert!(closed.iter().all(|l| l["outcome"] == "interrupted"));
    let mut third = Session::start(&upstream.uri(), data.path(), &[]).await;
    drop(third.stdin.take());
    let (_, _, logs) = third.finish(Duration::from_secs(10)).await;
    assert!(!logs.contains("has no recorded outcome"), "{logs}");
}

#[tokio::test]
async fn writes_cut_off_by_the_end_of_the_grace_are_recorded_as_interrupted() {
    let upstream = slow_upstream().await;
    let data = tempfile::tempdir().unwrap();
    let mut session = Session::start(&upstream.uri(), data.path(), &[]).await;
    writes_in_flight(&mut session, &upstream).await;
    drop(session.stdin.take());
    let (status, _, logs) = session.finish(Duration::from_secs(20)).await;
    assert!(status.success(), "{logs}");
    let audit = json_lines(&data.path().join("audit.jsonl"));
    assert_eq!(records(&audit, "started").len(), 6, "{audit:?}");
    let finished = records(&audit, "finished");
    assert_eq!(finished.len(), 6, "{audit:?}");
    assert!(
        finished.iter().all(|l| l["outcome"] == "interrupted"),
        "{audit:?}"
    );
}
