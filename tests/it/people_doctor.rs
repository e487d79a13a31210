//! `solvapay-mcp doctor` through the real binary, each run in its own home: the local sandbox,
//! a reachable upstream, one that refuses the key, one nothing listens on, a data directory that
//! cannot be made, a live key, unfinished audited calls, and never the key in the output.

use serde_json::{Value, json};
use solvapay_mcp::audit::AuditLog;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::bin::{Home, Ran};
use crate::support::{leaks, upstream};

impl Ran {
    /// The `--json` report, by check name.
    fn checks(&self) -> Vec<Value> {
        serde_json::from_str::<Vec<Value>>(&self.stdout)
            .unwrap_or_else(|e| panic!("not a JSON array ({e}): {}", self.stdout))
    }

    fn check(&self, name: &str) -> Value {
        self.checks()
            .into_iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("no {name} check in {}", self.stdout))
    }
}

/// Runs `solvapay-mcp doctor ARGS` in `home` with `env` (no terminal; at most 60 s).
async fn doctor(home: &Home, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut all = vec!["doctor"];
    all.extend_from_slice(args);
    home.run_with(&all, env).await
}

/// An upstream that lists no products to `key`.
async fn listing_products(key: &str) -> MockServer {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products"))
        .and(query_param("limit", "1"))
        .and(header("authorization", format!("Bearer {key}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"products": [], "total": 0})))
        .expect(1)
        .mount(&api)
        .await;
    api
}

#[tokio::test]
async fn on_the_local_sandbox_every_check_passes() {
    let home = Home::new();
    let page = doctor(&home, &[], &[]).await;
    assert_eq!(page.code, 0, "{}\n{}", page.stdout, page.stderr);
    let lines: Vec<&str> = page.stdout.lines().collect();
    let (summary, checks) = lines.split_last().unwrap();
    assert!(
        summary.starts_with("all ") && summary.ends_with(" checks passed"),
        "{summary}"
    );
    for line in checks {
        assert!(line.starts_with('✓'), "{line}");
    }
    let database = home.default_data_dir().join("sandbox.sqlite");
    assert!(
        page.stdout
            .contains(&format!("local sandbox, database {}", database.display())),
        "{}",
        page.stdout
    );

    let report = doctor(&home, &["--json"], &[]).await;
    assert_eq!(report.code, 0);
    let checks = report.checks();
    let names: Vec<&str> = checks
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    for expected in [
        "version",
        "key",
        "api",
        "tools",
        "data dir",
        "refund journal",
        "audit log",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    assert!(
        checks.iter().all(|c| c["ok"] == true && c["fix"].is_null()),
        "{checks:#?}"
    );
    let api = report.check("api");
    assert!(
        api["detail"]
            .as_str()
            .unwrap()
            .starts_with("list_products answered in "),
        "{api}"
    );
    let version = report.check("version");
    assert!(
        version["detail"].as_str().unwrap().contains("2026-07-28"),
        "{version}"
    );
}

#[tokio::test]
async fn a_reachable_upstream_with_a_test_key_passes() {
    let key = "sk_test_DOCTOR_reach_41";
    let api = listing_products(key).await;
    let home = Home::new();
    let uri = api.uri();
    let env = [
        ("SOLVAPAY_SECRET_KEY", key),
        ("SOLVAPAY_API_BASE_URL", uri.as_str()),
    ];
    let report = doctor(&home, &["--json"], &env).await;
    assert_eq!(report.code, 0, "{}\n{}", report.stdout, report.stderr);
    let key_line = report.check("key")["detail"].as_str().unwrap().to_owned();
    assert!(key_line.starts_with("sandbox key"), "{key_line}");
    assert!(key_line.contains("from SOLVAPAY_SECRET_KEY"), "{key_line}");
    let reached = report.check("api")["detail"].as_str().unwrap().to_owned();
    assert!(
        reached.starts_with("list_products answered in ") && reached.contains(&uri),
        "{reached}"
    );
}

#[tokio::test]
async fn an_upstream_nothing_listens_on_fails_the_api_check_with_what_to_do() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let home = Home::new();
    let env = [
        ("SOLVAPAY_SECRET_KEY", "sk_test_DOCTOR_nowhere_7"),
        ("SOLVAPAY_API_BASE_URL", base.as_str()),
    ];
    let page = doctor(&home, &[], &env).await;
    assert_eq!(page.code, 5, "{}\n{}", page.stdout, page.stderr);
    let lines: Vec<&str> = page.stdout.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("✗ api")).unwrap();
    assert!(
        lines[at].contains("Could not reach SolvaPay"),
        "{}",
        lines[at]
    );
    let fix = lines[at + 1].trim_start();
    assert!(
        fix.starts_with("→ check SOLVAPAY_API_BASE_URL") && fix.contains(&base),
        "{fix}"
    );
    assert_eq!(
        lines.last().copied(),
        Some("1 of 10 checks failed"),
        "{}",
        page.stdout
    );
}

#[tokio::test]
async fn a_refused_key_points_at_the_key() {
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": "Invalid API key"})),
        )
        .mount(&api)
        .await;
    let home = Home::new();
    let uri = api.uri();
    let env = [
        ("SOLVAPAY_API_KEY", "sk_test_DOCTOR_revoked_3"),
        ("SOLVAPAY_API_BASE_URL", uri.as_str()),
    ];
    let report = doctor(&home, &["--json"], &env).await;
    assert_eq!(report.code, 5, "{}", report.stderr);
    let api_check = report.check("api");
    assert_eq!(api_check["ok"], false);
    assert!(
        api_check["detail"]
            .as_str()
            .unwrap()
            .contains("SolvaPay refused the API key (Invalid API key)"),
        "{api_check}"
    );
    let fix = api_check["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("check that SOLVAPAY_API_KEY holds a valid"),
        "{fix}"
    );
    assert!(
        report.check("key")["detail"]
            .as_str()
            .unwrap()
            .contains("from SOLVAPAY_API_KEY"),
        "{}",
        report.stdout
    );
}

#[tokio::test]
async fn a_data_dir_that_cannot_be_made_fails_with_its_path() {
    // Permissions do not bind root (CI runs as root); a directory under a regular file cannot be
    // made by anyone.
    let home = Home::new();
    let file = home.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let dir = file.join("data");
    let report = doctor(
        &home,
        &["--json"],
        &[("SOLVAPAY_DATA_DIR", dir.to_str().unwrap())],
    )
    .await;
    assert_eq!(report.code, 5, "{}", report.stdout);
    let data = report.check("data dir");
    assert_eq!(data["ok"], false);
    assert!(
        data["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{} cannot be created", dir.display())),
        "{data}"
    );
    assert!(
        data["fix"].as_str().unwrap().contains("SOLVAPAY_DATA_DIR"),
        "{data}"
    );
    for guard in ["refund journal", "grant journal", "audit log"] {
        assert_eq!(
            report.check(guard)["ok"],
            false,
            "{guard}: {}",
            report.stdout
        );
    }
    assert!(!dir.exists());
}

#[tokio::test]
async fn a_live_key_without_the_allow_flag_says_what_the_guard_keeps_off() {
    let key = "sk_live_DOCTOR_guarded_9";
    let api = listing_products(key).await;
    let home = Home::new();
    let uri = api.uri();
    let env = [
        ("SOLVAPAY_SECRET_KEY", key),
        ("SOLVAPAY_API_BASE_URL", uri.as_str()),
    ];
    let report = doctor(&home, &["--json"], &env).await;
    assert_eq!(report.code, 0, "{}\n{}", report.stdout, report.stderr);
    assert!(
        report.check("key")["detail"]
            .as_str()
            .unwrap()
            .starts_with("live key (sk_live_) from SOLVAPAY_SECRET_KEY: real money"),
        "{}",
        report.stdout
    );
    let tools = report.check("tools");
    assert_eq!(tools["ok"], true);
    assert!(tools["fix"].is_null(), "{tools}");
    assert!(
        tools["detail"].as_str().unwrap().contains(
            "live key: destructive and money-moving tools off (--allow-destructive enables them)"
        ),
        "{tools}"
    );
}

#[tokio::test]
async fn unfinished_audited_calls_are_a_warning_not_a_failure() {
    let home = Home::new();
    let data = home.path().join("data");
    let log = AuditLog::open(&data.join("audit.jsonl"), Vec::new()).unwrap();
    let arguments = serde_json::value::RawValue::from_string("{}".to_owned()).unwrap();
    log.start("create_refund", None, &arguments).await.unwrap();
    drop(log);
    let report = doctor(
        &home,
        &["--json"],
        &[("SOLVAPAY_DATA_DIR", data.to_str().unwrap())],
    )
    .await;
    assert_eq!(report.code, 0, "{}", report.stdout);
    let audit = report.check("audit log");
    assert_eq!(audit["ok"], true);
    let detail = audit["detail"].as_str().unwrap();
    assert!(
        detail.contains("1 write call(s) started with no recorded outcome: create_refund"),
        "{detail}"
    );
    assert!(
        audit["fix"]
            .as_str()
            .unwrap()
            .starts_with("check their effect in SolvaPay"),
        "{audit}"
    );
}

#[tokio::test]
async fn the_key_appears_in_no_form_on_stdout_or_stderr() {
    let key = "sk_live_DOCTORSECRET_Zq81Lm0Xv4Tp";
    // An upstream that echoes the key back in its refusal, in several encodings.
    let echoed: Vec<String> = leaks::forms(key)
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    let api = upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/products"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"message": echoed.join(" ")})),
        )
        .mount(&api)
        .await;
    let uri = api.uri();
    let home = Home::new();
    let env = [
        ("SOLVAPAY_SECRET_KEY", key),
        ("SOLVAPAY_API_BASE_URL", uri.as_str()),
        ("RUST_LOG", "debug"),
    ];
    for args in [&[][..], &["--json"][..]] {
        let run = doctor(&home, args, &env).await;
        assert_eq!(run.code, 5, "{}", run.stdout);
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if let Some(how) = leaks::reveals(text, key) {
                panic!("the key shows on {stream} ({how}):\n{text}");
            }
        }
        assert!(run.stdout.contains("live key"), "{}", run.stdout);
    }
}

#[tokio::test]
async fn a_shared_state_is_connected_and_its_schema_version_read() {
    let Some(db) = crate::support::postgres::database().await else {
        return;
    };
    let home = Home::new();
    let sealing = "ab".repeat(32);
    let env = [
        ("SOLVAPAY_STATE_URL", db.url.as_str()),
        ("SOLVAPAY_REQUEST_STATE_KEY", sealing.as_str()),
    ];
    let report = doctor(&home, &["--json"], &env).await;
    assert_eq!(report.code, 0, "{}\n{}", report.stdout, report.stderr);
    let state = report.check("shared state");
    let detail = state["detail"].as_str().unwrap();
    assert!(
        detail.ends_with(&format!(
            ": connected, schema version {}",
            solvapay_mcp::state::SCHEMA_VERSION
        )),
        "{state}"
    );
    assert!(
        report.check("audit log")["detail"]
            .as_str()
            .unwrap()
            .starts_with("in the shared state: readable"),
        "{}",
        report.stdout
    );
    for journal in ["refund journal", "grant journal"] {
        let detail = report.check(journal)["detail"].as_str().unwrap().to_owned();
        assert!(
            detail.starts_with("in the shared state (postgres://"),
            "{detail}"
        );
    }

    // Replicas must share the sealing key: without one, the server would not start.
    let unsealed = doctor(&home, &["--json"], &env[..1]).await;
    assert_eq!(unsealed.code, 5, "{}", unsealed.stdout);
    let key = unsealed.check("request-state key");
    assert_eq!(key["ok"], false);
    assert!(
        key["detail"]
            .as_str()
            .unwrap()
            .contains("required with SOLVAPAY_STATE_URL"),
        "{key}"
    );
}

#[tokio::test]
async fn a_malformed_configuration_names_its_variable_and_a_wrong_command_line_is_exit_2() {
    let home = Home::new();
    let env = [
        ("SOLVAPAY_SECRET_KEY", "sk_test_DOCTOR pasted twice"),
        ("SOLVAPAY_API_BASE_URL", "ftp://api.example.com"),
    ];
    let report = doctor(&home, &["--json"], &env).await;
    assert_eq!(report.code, 5, "{}", report.stdout);
    let config = report.check("config");
    assert_eq!(config["ok"], false);
    assert_eq!(
        config["detail"],
        "SOLVAPAY_API_BASE_URL: expected an http:// or https:// URL"
    );
    assert!(
        config["fix"]
            .as_str()
            .unwrap()
            .contains("SOLVAPAY_API_BASE_URL"),
        "{config}"
    );
    let key = report.check("key");
    assert_eq!(key["ok"], false);
    assert!(
        key["detail"]
            .as_str()
            .unwrap()
            .contains("it cannot be sent"),
        "{key}"
    );
    assert_eq!(report.check("api")["ok"], false);
    assert!(!report.stdout.contains("pasted twice"), "{}", report.stdout);

    let wrong = doctor(&home, &["--no-such-flag"], &[]).await;
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(wrong.stdout.is_empty(), "{}", wrong.stdout);
}
