//! Where the binary writes when no data directory is given: only under its home's data directory
//! (`$XDG_DATA_HOME/solvapay-mcp`, else `$HOME/.local/share/solvapay-mcp`). Each run here is
//! confined to a [`Home`] (a tempdir that is its `HOME`, XDG directories, `TMPDIR` and working
//! directory, with nothing else inherited), so every path the binary can derive a default from lies
//! inside it, and the test lists every file the run left there.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support;
use crate::support::bin::Home;

const KEY: &str = "sk_test_CANARY_home_1e2d3c4b";

/// Runs the binary in `home` with a key and no data directory: handshake, one `record_usage` call
/// (a write, so it is audited; the refund journal is created only by a refund), then stdin closed; returns the call's answer once the process has
/// exited cleanly.
async fn run_one_write(home: &Home, upstream: &MockServer, env: &[(&str, PathBuf)]) -> Value {
    let mut command = home.command();
    command
        .env("SOLVAPAY_SECRET_KEY", KEY)
        .env("SOLVAPAY_API_BASE_URL", upstream.uri())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    for message in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "record_usage",
            "arguments": {"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "actionType": "api_call", "units": 1, "outcome": "success"}}}),
    ] {
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(b'\n');
        stdin.write_all(&bytes).await.unwrap();
    }
    stdin.flush().await.unwrap();
    let answer = loop {
        let text = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("an answer to the call before stdout closes");
        let message: Value = serde_json::from_str(&text).unwrap();
        if message["id"] == 2 {
            break message;
        }
    };
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    answer
}

async fn usage_upstream() -> MockServer {
    let upstream = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/usages"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": true, "reference": "usage_HOME0001"})),
        )
        .expect(2)
        .mount(&upstream)
        .await;
    upstream
}

#[tokio::test]
async fn a_run_with_a_key_and_no_data_dir_writes_only_into_its_homes_data_directory() {
    let upstream = usage_upstream().await;

    // XDG_DATA_HOME set (as Home sets it): the data directory is $XDG_DATA_HOME/solvapay-mcp.
    let home = Home::new();
    let answer = run_one_write(&home, &upstream, &[]).await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let data = PathBuf::from(".local/share/solvapay-mcp");
    assert_eq!(home.files(), [data.join("audit.jsonl")]);
    let audit = std::fs::read_to_string(home.default_data_dir().join("audit.jsonl")).unwrap();
    assert!(audit.contains("record_usage"), "{audit}");
    assert!(!audit.contains("CANARY"), "{audit}");

    // XDG_DATA_HOME elsewhere in the home: the files follow it, and nothing lands under ~/.local.
    let home = Home::new();
    let xdg = home.path().join("xdg-data");
    run_one_write(&home, &upstream, &[("XDG_DATA_HOME", xdg)]).await;
    let data = PathBuf::from("xdg-data/solvapay-mcp");
    assert_eq!(home.files(), [data.join("audit.jsonl")]);
}
