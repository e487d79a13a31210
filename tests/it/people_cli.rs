//! The commands for people, through the real binary: `sandbox status|reset|export|clock` on a
//! database file (alone and beside a running sandbox), `config <client>`, `completions`, `man`.
//! Each run has its own home (tempdir); stdin is never a terminal here.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Child;

use crate::support::bin::{BIN, Home};
use crate::support::standalone::Standalone;

/// Runs the binary with `args` in `home` (stdin closed: not a terminal) and waits for it.
async fn run(home: &Home, args: &[&str]) -> Output {
    run_with(home, args, &[]).await
}

async fn run_with(home: &Home, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = home.command();
    command.args(args).stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("the command did not finish")
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit code 0, or the test fails showing stderr.
fn succeeded(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    stdout(output)
}

/// `sandbox status --json` of `db`.
async fn status(home: &Home, db: &Path) -> Value {
    let output = run(home, &["sandbox", "status", "--json", "--db", path(db)]).await;
    serde_json::from_str(&succeeded(&output)).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A standalone sandbox (`solvapay-mcp sandbox --db FILE`) running on a file.
struct Server {
    child: Child,
    url: String,
    key: String,
    http: reqwest::Client,
}

impl Server {
    async fn start(home: &Home, db: &Path, demo: bool) -> Self {
        let mut args = vec!["--db", path(db)];
        if demo {
            args.push("--demo");
        }
        let Standalone { child, url, key } = Standalone::start(home, &args).await;
        Self {
            child,
            url,
            key,
            http: crate::support::http(),
        }
    }

    async fn get(&self, route: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{route}", self.url))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {route}");
        response.json().await.unwrap()
    }

    async fn post(&self, route: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{route}", self.url))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// The sandbox time the server gives now (`POST /v1/sandbox/clock` moving it by nothing).
    async fn now(&self) -> String {
        let (status, body) = self
            .post("/v1/sandbox/clock", json!({"advanceSeconds": 0}))
            .await;
        assert_eq!(status, 200, "{body}");
        body["now"].as_str().unwrap().to_owned()
    }

    /// Stops the server with SIGTERM and waits for its clean exit.
    async fn stop(mut self) {
        let pid = self.child.id().unwrap().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "{status:?}");
    }
}

/// What the API lists, counted the way `status` counts.
async fn api_counts(server: &Server) -> Value {
    let customers = server.get("/v1/ui/customers?limit=100").await;
    let products = server.get("/v1/sdk/products?limit=100").await;
    let purchases = server.get("/v1/sdk/purchases?limit=100").await;
    let transactions = server.get("/v1/ui/transactions?limit=100").await;
    let plans: usize = products["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["plans"].as_array().unwrap().len())
        .sum();
    let mut by_status = serde_json::Map::new();
    for purchase in purchases["purchases"].as_array().unwrap() {
        let status = purchase["status"].as_str().unwrap().to_owned();
        let n = by_status.get(&status).and_then(Value::as_i64).unwrap_or(0);
        by_status.insert(status, json!(n + 1));
    }
    json!({
        "customers": customers["customers"].as_array().unwrap().len(),
        "products": products["products"].as_array().unwrap().len(),
        "plans": plans,
        "purchases": by_status,
        "transactions": transactions["total"],
    })
}

fn status_counts(status: &Value) -> Value {
    let c = &status["contents"];
    let transactions: i64 = c["transactions"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_i64().unwrap())
        .sum();
    json!({
        "customers": c["customers"],
        "products": c["products"],
        "plans": c["plans"],
        "purchases": c["purchases"],
        "transactions": transactions,
    })
}

#[tokio::test]
async fn status_of_a_fresh_home_names_the_default_database_and_creates_nothing() {
    let home = Home::new();
    let db = home.default_data_dir().join("sandbox.sqlite");
    let text = succeeded(&run(&home, &["sandbox", "status"]).await);
    assert!(text.contains(path(&db)), "{text}");
    assert!(text.contains("does not exist yet"), "{text}");
    assert!(text.contains("sandbox reset --demo"), "{text}");
    let json: Value = serde_json::from_str(&succeeded(
        &run(&home, &["sandbox", "status", "--json"]).await,
    ))
    .unwrap();
    assert_eq!(json["exists"], false);
    assert_eq!(json["path"], path(&db));
    assert!(home.files().is_empty(), "{:?}", home.files());
    // SOLVAPAY_SANDBOX_DB is read as the server reads it.
    let elsewhere = home.path().join("elsewhere.sqlite");
    let output = run_with(
        &home,
        &["sandbox", "status", "--json"],
        &[("SOLVAPAY_SANDBOX_DB", path(&elsewhere))],
    )
    .await;
    let json: Value = serde_json::from_str(&succeeded(&output)).unwrap();
    assert_eq!(json["path"], path(&elsewhere));
}

#[tokio::test]
async fn status_of_a_demo_database_counts_what_the_api_lists_and_sees_the_server() {
    let home = Home::new();
    let db = home.path().join("demo.sqlite");
    let server = Server::start(&home, &db, true).await;
    let listed = api_counts(&server).await;
    let status = status(&home, &db).await;
    assert_eq!(status["exists"], true);
    assert_eq!(status_counts(&status), listed);
    assert_eq!(listed["customers"], 2, "{listed}");
    assert_eq!(status["contents"]["usageEvents"], 86);
    assert_eq!(status["server"]["url"], server.url.as_str());
    assert_eq!(status["server"]["running"], true);
    assert_eq!(status["clock"]["mode"], "flowing");
    assert!(
        status["clock"]["now"]
            .as_str()
            .unwrap()
            .starts_with("2026-02-11T12:"),
        "{status}"
    );
    let text = succeeded(&run(&home, &["sandbox", "status", "--db", path(&db)]).await);
    assert!(
        text.contains(&format!("running at {}", server.url)),
        "{text}"
    );
    assert!(text.contains("purchases    2 (active 2)"), "{text}");
    server.stop().await;
    // A server that stops says so in the file.
    let status = self::status(&home, &db).await;
    assert!(status.get("server").is_none(), "{status}");
}

#[tokio::test]
async fn reset_without_a_terminal_refuses_with_exit_2_and_changes_nothing() {
    let home = Home::new();
    let db = home.path().join("demo.sqlite");
    succeeded(
        &run(
            &home,
            &["sandbox", "reset", "--yes", "--demo", "--db", path(&db)],
        )
        .await,
    );
    let refused = run(&home, &["sandbox", "reset", "--db", path(&db)]).await;
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("--yes"), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("2 customers"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(status(&home, &db).await["contents"]["customers"], 2);

    let text = succeeded(&run(&home, &["sandbox", "reset", "--yes", "--db", path(&db)]).await);
    assert!(text.contains("empty"), "{text}");
    let status = status(&home, &db).await;
    let contents = &status["contents"];
    for count in [
        "customers",
        "products",
        "plans",
        "usageEvents",
        "creditGrants",
    ] {
        assert_eq!(contents[count], 0, "{count}: {status}");
    }
    assert_eq!(contents["purchases"], json!({}));
    assert_eq!(contents["transactions"], json!({}));
    // The demo's clock went with its data.
    assert_eq!(status["clock"]["stored"], false, "{status}");
}

/// Runs `solvapay-mcp ARGS` on a terminal (util-linux `script` gives it a pseudo-terminal),
/// typing `answer` into it.
async fn on_a_terminal(home: &Home, args: &[&str], answer: &str) -> Output {
    use tokio::io::AsyncWriteExt;
    let line = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut command = tokio::process::Command::new("script");
    home.confine(&mut command);
    let mut child = command
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("util-linux `script` runs the binary on a terminal");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(answer.as_bytes()).await.unwrap();
    drop(stdin);
    tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn reset_on_a_terminal_asks_first_and_only_yes_resets() {
    let home = Home::new();
    let db = home.path().join("demo.sqlite");
    succeeded(
        &run(
            &home,
            &["sandbox", "reset", "--yes", "--demo", "--db", path(&db)],
        )
        .await,
    );
    let args = ["sandbox", "reset", "--db", path(&db)];
    let declined = on_a_terminal(&home, &args, "\n").await;
    let shown = stdout(&declined);
    assert!(
        shown.contains(&format!(
            "reset {} (2 customers, 1 product, 2 plans, 2 purchases, 86 usage events, 1 transaction)? [y/N]",
            path(&db)
        )),
        "{shown}"
    );
    assert!(shown.contains("nothing reset"), "{shown}");
    assert_eq!(status(&home, &db).await["contents"]["customers"], 2);
    let accepted = on_a_terminal(&home, &args, "y\n").await;
    assert!(
        stdout(&accepted).contains(": empty"),
        "{}",
        stdout(&accepted)
    );
    assert_eq!(status(&home, &db).await["contents"]["customers"], 0);
}

#[tokio::test]
async fn reset_while_a_server_runs_on_the_file_is_what_its_next_request_reads() {
    let home = Home::new();
    let db = home.path().join("live.sqlite");
    let server = Server::start(&home, &db, true).await;
    assert_eq!(api_counts(&server).await["customers"], 2);
    succeeded(&run(&home, &["sandbox", "reset", "--yes", "--db", path(&db)]).await);
    let emptied = api_counts(&server).await;
    assert_eq!(
        emptied,
        json!({"customers": 0, "products": 0, "plans": 0, "purchases": {}, "transactions": 0})
    );
    // The server still writes to the emptied file.
    let (code, body) = server
        .post(
            "/v1/sdk/customers",
            json!({"email": "new@example.com", "name": "New"}),
        )
        .await;
    assert!(code == 200 || code == 201, "{code} {body}");
    assert_eq!(status(&home, &db).await["contents"]["customers"], 1);
    // And a reset to the demo, under the running server, is what it lists next.
    succeeded(
        &run(
            &home,
            &["sandbox", "reset", "--yes", "--demo", "--db", path(&db)],
        )
        .await,
    );
    let listed = api_counts(&server).await;
    assert_eq!(status_counts(&status(&home, &db).await), listed);
    assert_eq!(listed["customers"], 2);
    server.stop().await;
}

#[tokio::test]
async fn export_is_json_that_matches_the_api_lists() {
    let home = Home::new();
    let db = home.path().join("demo.sqlite");
    let server = Server::start(&home, &db, true).await;
    let file = home.path().join("export.json");
    succeeded(
        &run(
            &home,
            &[
                "sandbox",
                "export",
                "--db",
                path(&db),
                "--output",
                path(&file),
            ],
        )
        .await,
    );
    let to_stdout = succeeded(&run(&home, &["sandbox", "export", "--db", path(&db)]).await);
    let export: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    // The same export either way (but for the clock, which flows between the two).
    let again: Value = serde_json::from_str(&to_stdout).unwrap();
    assert_eq!(again["tables"], export["tables"]);
    assert_eq!(export["schemaVersion"], 4);
    let tables = &export["tables"];
    let refs = |rows: &Value, key: &str| -> Vec<String> {
        let mut out: Vec<String> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[key].as_str().unwrap().to_owned())
            .collect();
        out.sort();
        out
    };
    let customers = server.get("/v1/ui/customers?limit=100").await;
    assert_eq!(
        refs(&tables["customers"], "reference"),
        refs(&customers["customers"], "reference")
    );
    let products = server.get("/v1/sdk/products?limit=100").await;
    assert_eq!(
        refs(&tables["products"], "reference"),
        refs(&products["products"], "reference")
    );
    // Plans: price in minor units beside the currency, as the API gives them.
    let mut listed: Vec<(String, i64, String)> = products["products"][0]["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let price = p["price"].as_i64().unwrap();
            (
                p["reference"].as_str().unwrap().to_owned(),
                price,
                p["currency"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut exported: Vec<(String, i64, String)> = tables["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["reference"].as_str().unwrap().to_owned(),
                p["price"].as_i64().unwrap(),
                p["currency"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    listed.sort();
    exported.sort();
    assert_eq!(exported, listed);
    let purchases = server.get("/v1/sdk/purchases?limit=100").await;
    assert_eq!(
        refs(&tables["purchases"], "reference"),
        refs(&purchases["purchases"], "reference")
    );
    let transactions = server.get("/v1/ui/transactions?limit=100").await;
    let api_txn = &transactions["transactions"][0];
    let txn = &tables["transactions"][0];
    assert_eq!(txn["reference"], api_txn["reference"]);
    assert_eq!(txn["amount"], api_txn["amount"]);
    assert_eq!(txn["currency"], api_txn["currency"]);
    assert_eq!(tables["usage_events"].as_array().unwrap().len(), 86);
    // JSON columns are exported as JSON.
    assert!(
        tables["purchases"][0]["plan_snapshot"].is_object(),
        "{}",
        tables["purchases"][0]
    );
    server.stop().await;
}

#[tokio::test]
async fn the_clock_moved_from_the_command_line_is_the_apis_next_and_running() {
    let home = Home::new();
    let db = home.path().join("clock.sqlite");
    succeeded(&run(&home, &["sandbox", "reset", "--yes", "--db", path(&db)]).await);
    let set = succeeded(
        &run(
            &home,
            &[
                "sandbox",
                "clock",
                "set",
                "2026-03-01T00:00:00Z",
                "--db",
                path(&db),
            ],
        )
        .await,
    );
    assert!(
        set.starts_with("2026-03-01T00:00:00.000Z (frozen)"),
        "{set}"
    );
    // The next sandbox started on the file runs on it.
    let server = Server::start(&home, &db, false).await;
    assert_eq!(server.now().await, "2026-03-01T00:00:00.000Z");
    // The running one follows a change made beside it.
    let advanced = succeeded(
        &run(
            &home,
            &[
                "sandbox",
                "clock",
                "advance",
                "30d",
                "--json",
                "--db",
                path(&db),
            ],
        )
        .await,
    );
    let advanced: Value = serde_json::from_str(&advanced).unwrap();
    assert_eq!(advanced["now"], "2026-03-31T00:00:00.000Z");
    // (Seen in what it writes: a new customer is stamped with the sandbox time.)
    let mut seen = String::new();
    for i in 0..100 {
        let (code, customer) = server
            .post(
                "/v1/sdk/customers",
                json!({"email": format!("c{i}@example.com"), "name": "C"}),
            )
            .await;
        assert!(code == 200 || code == 201, "{code} {customer}");
        seen = customer["createdAt"].as_str().unwrap().to_owned();
        if seen == "2026-03-31T00:00:00.000Z" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, "2026-03-31T00:00:00.000Z");
    assert_eq!(server.now().await, "2026-03-31T00:00:00.000Z");
    // And what the API sets, the command line (and the next start) reads.
    let (code, _) = server
        .post("/v1/sandbox/clock", json!({"now": "2026-05-01T10:00:00Z"}))
        .await;
    assert_eq!(code, 200);
    server.stop().await;
    let shown = succeeded(&run(&home, &["sandbox", "clock", "--json", "--db", path(&db)]).await);
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["now"], "2026-05-01T10:00:00.000Z");
    assert_eq!(shown["mode"], "frozen");
    // Back a day, then time flows again from where it stands.
    succeeded(
        &run(
            &home,
            &["sandbox", "clock", "advance", "-1d", "--db", path(&db)],
        )
        .await,
    );
    let resumed = succeeded(
        &run(
            &home,
            &["sandbox", "clock", "resume", "--json", "--db", path(&db)],
        )
        .await,
    );
    let resumed: Value = serde_json::from_str(&resumed).unwrap();
    assert_eq!(resumed["mode"], "flowing");
    assert!(
        resumed["now"]
            .as_str()
            .unwrap()
            .starts_with("2026-04-30T10:00:0"),
        "{resumed}"
    );
    let frozen = succeeded(&run(&home, &["sandbox", "clock", "freeze", "--db", path(&db)]).await);
    assert!(frozen.contains("(frozen)"), "{frozen}");
}

#[tokio::test]
async fn bad_arguments_to_the_sandbox_commands_exit_2() {
    let home = Home::new();
    let db = home.path().join("x.sqlite");
    for args in [
        vec!["sandbox", "clock", "advance", "1x", "--db", path(&db)],
        vec!["sandbox", "clock", "set", "yesterday", "--db", path(&db)],
        vec!["sandbox", "status", "--db", ":memory:"],
        vec!["sandbox", "--demo", "status"],
    ] {
        let output = run(&home, &args).await;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    // A database that is not there is an error to move the clock of, not a new file.
    let missing = run(&home, &["sandbox", "clock", "--db", path(&db)]).await;
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("no sandbox database"),
        "{}",
        stderr(&missing)
    );
    assert!(!db.exists());
}

/// The binary's canonical path, as `config` must print it.
fn canonical_binary() -> PathBuf {
    Path::new(BIN).canonicalize().unwrap()
}

/// The one server entry of a client configuration.
fn server_entry<'v>(config: &'v Value, servers: &str, name: &str) -> &'v Value {
    let entries = config[servers].as_object().unwrap();
    assert_eq!(entries.len(), 1, "{config}");
    &entries[name]
}

#[tokio::test]
async fn config_prints_each_clients_format_with_this_binary_and_never_a_key() {
    const CANARY: &str = "sk_live_CANARY_do_not_print_4f3e";
    let home = Home::new();
    let binary = canonical_binary();
    let cases = [
        (
            "claude-desktop",
            "mcpServers",
            "REPLACE_WITH_YOUR_SOLVAPAY_SECRET_KEY",
            "claude_desktop_config.json",
        ),
        (
            "claude-code",
            "mcpServers",
            "${SOLVAPAY_SECRET_KEY}",
            ".mcp.json",
        ),
        (
            "cursor",
            "mcpServers",
            "${env:SOLVAPAY_SECRET_KEY}",
            ".cursor/mcp.json",
        ),
        (
            "vscode",
            "servers",
            "${input:solvapay-secret-key}",
            ".vscode/mcp.json",
        ),
    ];
    for (client, servers, key, file) in cases {
        let output = run_with(
            &home,
            &["config", client],
            &[("SOLVAPAY_SECRET_KEY", CANARY)],
        )
        .await;
        let text = succeeded(&output);
        assert!(
            !text.contains(CANARY) && !stderr(&output).contains(CANARY),
            "{client}"
        );
        let config: Value = serde_json::from_str(&text).unwrap();
        let server = server_entry(&config, servers, "solvapay");
        assert_eq!(server["command"], path(&binary), "{client}");
        assert_eq!(server["args"], json!([]), "{client}");
        assert_eq!(
            server["env"],
            json!({"SOLVAPAY_SECRET_KEY": key}),
            "{client}"
        );
        let expected_type = if client == "claude-desktop" {
            None
        } else {
            Some(&json!("stdio"))
        };
        assert_eq!(server.get("type"), expected_type, "{client}");
        assert!(
            stderr(&output).contains(file),
            "{client}: {}",
            stderr(&output)
        );
        if client == "vscode" {
            let input = &config["inputs"][0];
            assert_eq!(input["type"], "promptString");
            assert_eq!(input["id"], "solvapay-secret-key");
            assert_eq!(input["password"], true);
        }
        if client == "claude-code" {
            let add = stderr(&output);
            assert!(
                add.contains("claude mcp add --scope project --transport stdio"),
                "{add}"
            );
            assert!(
                add.contains(&format!("solvapay -- {}", path(&binary))),
                "{add}"
            );
        }
        // --sandbox: no key at all, the local sandbox; --name names the entry.
        let output = run_with(
            &home,
            &["config", client, "--sandbox", "--name", "pay_local"],
            &[("SOLVAPAY_SECRET_KEY", CANARY)],
        )
        .await;
        let config: Value = serde_json::from_str(&succeeded(&output)).unwrap();
        let server = server_entry(&config, servers, "pay_local");
        assert_eq!(server["args"], json!(["serve", "--sandbox"]), "{client}");
        assert!(server.get("env").is_none(), "{client}: {config}");
        assert!(config.get("inputs").is_none(), "{client}: {config}");
    }
    let bad = run(&home, &["config", "vscode", "--name", "two words"]).await;
    assert_eq!(bad.status.code(), Some(2));
    let unknown = run(&home, &["config", "notepad"]).await;
    assert_eq!(unknown.status.code(), Some(2));
}

#[tokio::test]
async fn the_vscode_configuration_in_full() {
    let home = Home::new();
    let text = succeeded(&run(&home, &["config", "vscode"]).await);
    let mut config: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        config["servers"]["solvapay"]["command"],
        path(&canonical_binary())
    );
    config["servers"]["solvapay"]["command"] = json!("[binary]");
    insta::assert_json_snapshot!("config_vscode", config);
}

#[tokio::test]
async fn completions_come_from_the_command_definitions() {
    let home = Home::new();
    let bash = succeeded(&run(&home, &["completions", "bash"]).await);
    for word in [
        "sandbox",
        "status",
        "reset",
        "export",
        "clock",
        "config",
        "completions",
        "man",
        "claude-desktop",
        "--read-only",
    ] {
        assert!(bash.contains(word), "bash completions lack {word}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = succeeded(&run(&home, &["completions", shell]).await);
        assert!(
            script.contains("solvapay-mcp") && script.contains("sandbox"),
            "{shell}"
        );
    }
    assert_eq!(
        run(&home, &["completions", "tcsh"]).await.status.code(),
        Some(2)
    );
}

#[tokio::test]
async fn the_man_page_lists_the_flags_and_dir_writes_one_per_subcommand() {
    let home = Home::new();
    let page = succeeded(&run(&home, &["man"]).await);
    assert!(
        page.starts_with(".ie") || page.contains(".TH solvapay-mcp 1"),
        "{page}"
    );
    for flag in [
        r"\-\-read\-only",
        r"\-\-toolsets",
        r"\-\-allow\-destructive",
        r"\-\-data\-dir",
    ] {
        assert!(page.contains(flag), "the man page lacks {flag}");
    }
    let dir = home.path().join("man");
    succeeded(&run(&home, &["man", "--dir", path(&dir)]).await);
    let status = std::fs::read_to_string(dir.join("solvapay-mcp-sandbox-status.1")).unwrap();
    assert!(status.contains(r"\-\-json"), "{status}");
    for page in [
        "solvapay-mcp.1",
        "solvapay-mcp-config.1",
        "solvapay-mcp-sandbox-clock-advance.1",
    ] {
        assert!(dir.join(page).exists(), "{page}");
    }
}
