//! `solvapay-mcp usage import FILE`, run as a person runs it: the real binary, its own home, and a
//! standalone sandbox (`solvapay-mcp sandbox --db … --key …`) as SolvaPay, reached through
//! SOLVAPAY_API_BASE_URL + SOLVAPAY_SECRET_KEY. What the sandbox stored is counted in its
//! database, so "nothing is sent twice" is checked where it matters: no event is stored twice.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::support::bin::{Home, Ran};
use crate::support::standalone::Standalone;

/// The key the sandbox is started with (a test key: the live-key guards stay off).
const KEY: &str = "sk_test_importKEY42";

/// A standalone sandbox with its database in a file, as SolvaPay for the imports.
struct Upstream {
    // Killed when dropped.
    _child: Child,
    url: String,
    db: PathBuf,
    // Holds the sandbox's own home (and its database) until the test ends.
    _home: Home,
}

impl Upstream {
    async fn start() -> Self {
        let home = Home::new();
        let db = home.path().join("sandbox.sqlite");
        let db_arg = db.to_str().unwrap().to_owned();
        let sandbox = Standalone::start(&home, &["--key", KEY, "--db", &db_arg]).await;
        Self {
            _child: sandbox.child,
            url: sandbox.url,
            db,
            _home: home,
        }
    }

    /// Usage events the sandbox holds, and their units.
    fn stored(&self) -> (i64, i64) {
        let db = rusqlite::Connection::open_with_flags(
            &self.db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        db.query_row(
            "SELECT COUNT(*), COALESCE(SUM(units), 0) FROM usage_events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    }

    /// Every answer comes `ms` late (the request is handled at once).
    async fn slow_down(&self, ms: u64) {
        let res = crate::support::http()
            .post(format!("{}/v1/sandbox/latency", self.url))
            .bearer_auth(KEY)
            .json(&json!({ "ms": ms }))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.status());
    }

    /// Stores one event directly, as another client would.
    async fn record(&self, event: Value) {
        let res = crate::support::http()
            .post(format!("{}/v1/sdk/usages", self.url))
            .bearer_auth(KEY)
            .json(&event)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.status());
    }

    /// `usage import` with these arguments, pointed at this sandbox, in `home`.
    fn import(&self, home: &Home, args: &[&str]) -> Command {
        let mut command = home.command();
        command
            .args(["usage", "import"])
            .args(args)
            .env("SOLVAPAY_API_BASE_URL", &self.url)
            .env("SOLVAPAY_SECRET_KEY", KEY)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    async fn run(&self, home: &Home, args: &[&str]) -> Ran {
        let mut all = vec!["usage", "import"];
        all.extend_from_slice(args);
        home.run_with(
            &all,
            &[
                ("SOLVAPAY_API_BASE_URL", &self.url),
                ("SOLVAPAY_SECRET_KEY", KEY),
            ],
        )
        .await
    }
}

/// Reading an import's summary.
trait Summary {
    /// The count on the summary's row `label` (`recorded`, `duplicates`, …).
    fn count(&self, label: &str) -> usize;
}

impl Summary for Ran {
    fn count(&self, label: &str) -> usize {
        self.stdout
            .lines()
            .find_map(|l| {
                let rest = l.strip_prefix("  ")?.strip_prefix(label)?;
                rest.split_whitespace().next()?.parse().ok()
            })
            .unwrap_or_else(|| panic!("no {label:?} row in:\n{}", self.stdout))
    }
}

/// An hour ago, as a timestamp the tool accepts (within the last 30 days).
fn an_hour_ago(plus_seconds: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::hours(1)
        + time::Duration::seconds(plus_seconds);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Writes `name` in the home's working directory (where the runs start) and returns its name.
fn write(home: &Home, name: &str, text: &str) -> String {
    std::fs::write(home.work().join(name), text).unwrap();
    name.to_owned()
}

/// `n` events of one unit each, a second apart, one per line.
fn jsonl(n: usize) -> String {
    (0..n)
        .map(|i| {
            json!({"customerRef": "cus_A1B2C3D4", "units": 1, "timestamp": an_hour_ago(i as i64)})
                .to_string()
                + "\n"
        })
        .collect()
}

/// The resume record's count of done lines (the only file in `<data dir>/imports`), if written.
fn done_in_record(home: &Home) -> Option<u64> {
    let dir = home.default_data_dir().join("imports");
    let path = std::fs::read_dir(&dir)
        .ok()?
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))?;
    let record: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let lines = |key: &str| -> u64 {
        record[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[1].as_u64().unwrap() - r[0].as_u64().unwrap() + 1)
            .sum()
    };
    Some(lines("recorded") + lines("duplicate"))
}

fn assert_plain(stderr: &str) {
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\r'),
        "terminal escape codes or a redrawn bar on a stderr that is not a terminal:\n{stderr:?}"
    );
}

#[tokio::test]
async fn a_jsonl_file_is_recorded_once_and_a_rerun_sends_nothing() {
    let upstream = Upstream::start().await;
    let home = Home::new();
    let file = write(
        &home,
        "usage.jsonl",
        &format!(
            "{}\n\n{}\n{}\n",
            json!({"customerRef": "cus_A1B2C3D4", "productRef": "prd_P9Q0R1S2", "units": 2, "timestamp": an_hour_ago(0)}),
            json!({"customerRef": "cus_A1B2C3D4", "units": 3, "timestamp": an_hour_ago(1), "requestId": "evt-2"}),
            json!({"customerRef": "cus_X7Y8Z9W0", "units": 4, "timestamp": an_hour_ago(2)}),
        ),
    );

    let first = upstream.run(&home, &[&file, "--batch", "2"]).await;
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert_eq!(first.count("recorded"), 3);
    assert!(
        first
            .stdout
            .contains("Done: every event of usage.jsonl is recorded."),
        "{}",
        first.stdout
    );
    assert_eq!(upstream.stored(), (3, 9));
    // Not a terminal: no bar, a plain line per batch.
    assert_plain(&first.stderr);
    assert!(
        first.stderr.contains("batch 1: 2 events sent"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("batch 2: 1 events sent"),
        "{}",
        first.stderr
    );

    let again = upstream.run(&home, &[&file]).await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains(
            "Nothing to send: every event of usage.jsonl was recorded by an earlier run."
        ),
        "{}",
        again.stdout
    );
    assert_eq!(again.count("done earlier"), 3);
    assert_eq!(again.count("recorded"), 0);
    assert!(
        !again.stderr.contains("batch"),
        "nothing is sent: {}",
        again.stderr
    );
    assert_eq!(upstream.stored(), (3, 9), "a re-run stores nothing");

    // Forgetting the record sends every line again, with the same keys: all duplicates.
    let restarted = upstream.run(&home, &[&file, "--restart"]).await;
    assert_eq!(
        restarted.code, 0,
        "{}\n{}",
        restarted.stdout, restarted.stderr
    );
    assert_eq!(restarted.count("duplicates"), 3);
    assert_eq!(restarted.count("recorded"), 0);
    assert_eq!(upstream.stored(), (3, 9));

    // A changed file is a new import; its unchanged lines come back as duplicates.
    let grown = format!(
        "{}{}\n",
        std::fs::read_to_string(home.work().join(&file)).unwrap(),
        json!({"customerRef": "cus_X7Y8Z9W0", "units": 5, "timestamp": an_hour_ago(3)})
    );
    write(&home, "usage.jsonl", &grown);
    let changed = upstream.run(&home, &[&file]).await;
    assert_eq!(changed.code, 0, "{}\n{}", changed.stdout, changed.stderr);
    assert_eq!(
        (changed.count("recorded"), changed.count("duplicates")),
        (1, 3)
    );
    assert_eq!(upstream.stored(), (4, 14));
}

#[tokio::test]
async fn a_csv_file_is_recorded_with_its_cells_typed() {
    let upstream = Upstream::start().await;
    let home = Home::new();
    let file = write(
        &home,
        "usage.csv",
        &format!(
            "customerRef,productRef,units,actionType,action,timestamp\n\
             cus_A1B2C3D4,prd_P9Q0R1S2,5,api_call,007,{}\n\
             cus_X7Y8Z9W0,,7,email,,{}\n",
            an_hour_ago(0),
            an_hour_ago(1)
        ),
    );
    let run = upstream.run(&home, &[&file]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.count("recorded"), 2);
    assert_eq!(upstream.stored(), (2, 12));
    let again = upstream.run(&home, &[&file]).await;
    assert_eq!(again.code, 0);
    assert_eq!(upstream.stored(), (2, 12));
}

#[tokio::test]
async fn a_bad_line_is_named_and_nothing_is_sent() {
    let upstream = Upstream::start().await;
    let home = Home::new();
    let mut text = jsonl(2);
    text.push_str(&json!({"customerRef": "cus_A1B2C3D4", "units": -3}).to_string());
    text.push('\n');
    text.push_str("{not json\n");
    let file = write(&home, "usage.jsonl", &text);
    let run = upstream.run(&home, &[&file]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("usage.jsonl:3: units: must be an integer 0-100000 (got -3)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("usage.jsonl:4: is not JSON"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("2 lines of usage.jsonl are wrong; nothing was sent"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    assert_eq!(upstream.stored(), (0, 0));
    assert_eq!(
        done_in_record(&home),
        None,
        "no record of an import that never started"
    );

    // A format it cannot tell is refused too.
    let other = write(&home, "usage.txt", &jsonl(1));
    let run = upstream.run(&home, &[&other]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("give --format jsonl or --format csv"),
        "{}",
        run.stderr
    );
    let run = upstream
        .run(&home, &[&other, "--format", "jsonl", "--dry-run"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Nothing was sent (--dry-run)"),
        "{}",
        run.stdout
    );
    assert_eq!(upstream.stored(), (0, 0));
}

#[tokio::test]
async fn a_request_id_holding_another_event_is_a_conflict_and_exit_5() {
    let upstream = Upstream::start().await;
    upstream
        .record(json!({"customerRef": "cus_A1B2C3D4", "units": 9, "idempotencyKey": "evt-7", "timestamp": an_hour_ago(0)}))
        .await;
    let home = Home::new();
    let file = write(
        &home,
        "usage.jsonl",
        &format!(
            "{}\n{}\n",
            json!({"customerRef": "cus_A1B2C3D4", "units": 1, "timestamp": an_hour_ago(1)}),
            json!({"customerRef": "cus_A1B2C3D4", "units": 2, "timestamp": an_hour_ago(2), "requestId": "evt-7"}),
        ),
    );
    let run = upstream.run(&home, &[&file]).await;
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert_eq!((run.count("recorded"), run.count("conflicts")), (1, 1));
    let listed = run
        .stdout
        .lines()
        .find(|l| l.starts_with("    line 2: "))
        .unwrap_or_else(|| panic!("line 2 is not listed:\n{}", run.stdout));
    assert!(
        listed.contains("differs in units")
            && listed.contains("\"evt-7\" holds")
            && listed.contains("9 units"),
        "{listed}"
    );
    assert!(
        run.stdout.contains(
            "then re-run the same command to send only those: solvapay-mcp usage import usage.jsonl"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(upstream.stored(), (2, 10));
    // The conflict is sent again, and stays one; the recorded line is not sent again.
    let again = upstream.run(&home, &[&file]).await;
    assert_eq!(again.code, 5);
    assert_eq!(
        (again.count("done earlier"), again.count("conflicts")),
        (1, 1)
    );
    assert_eq!(upstream.stored(), (2, 10));
}

/// Starts an import of `n` events in batches of `batch` against a sandbox that answers slowly,
/// and waits until `ready` holds (given the lines the record says done, and the events stored).
async fn slow_import(
    upstream: &Upstream,
    home: &Home,
    file: &str,
    batch: &str,
    ready: impl Fn(Option<u64>, i64) -> bool,
) -> Child {
    upstream.slow_down(700).await;
    let child = upstream
        .import(home, &[file, "--batch", batch])
        .spawn()
        .unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        while !ready(done_in_record(home), upstream.stored().0) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "the import never got there");
    child
}

#[tokio::test]
async fn an_import_killed_mid_batch_resumes_and_stores_each_event_once() {
    let upstream = Upstream::start().await;
    let home = Home::new();
    let file = write(&home, "usage.jsonl", &jsonl(12));
    // Killed while a batch is stored but its answer not yet back: the record lags the sandbox.
    let mut child = slow_import(&upstream, &home, &file, "3", |done, stored| {
        done.is_some_and(|d| d >= 3 && stored > d as i64)
    })
    .await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let done = done_in_record(&home).unwrap() as usize;
    let stored = upstream.stored().0 as usize;
    assert!(stored > done, "a batch was stored and not recorded as done");
    upstream.slow_down(0).await;

    let resumed = upstream.run(&home, &[&file, "--batch", "3"]).await;
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert_eq!(resumed.count("done earlier"), done);
    // The unanswered batch went again with the same keys: duplicates, not new events.
    assert_eq!(resumed.count("duplicates"), stored - done);
    assert_eq!(resumed.count("recorded"), 12 - stored);
    assert_eq!(
        upstream.stored(),
        (12, 12),
        "each event is stored exactly once"
    );
}

#[tokio::test]
async fn ctrl_c_stops_after_the_batch_in_flight_and_says_how_to_resume() {
    let upstream = Upstream::start().await;
    let home = Home::new();
    let file = write(&home, "usage.jsonl", &jsonl(12));
    let child = slow_import(&upstream, &home, &file, "2", |done, _| {
        done.is_some_and(|d| d >= 2)
    })
    .await;
    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stopped = Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    };
    assert_eq!(stopped.code, 130, "{}\n{}", stopped.stdout, stopped.stderr);
    assert!(
        stopped
            .stderr
            .contains("interrupted: stopping after the batch in flight"),
        "{}",
        stopped.stderr
    );
    assert!(
        stopped.stdout.contains("Interrupted: "),
        "{}",
        stopped.stdout
    );
    assert!(
        stopped.stdout.contains(
            "Re-run the same command to send only those: solvapay-mcp usage import usage.jsonl"
        ),
        "{}",
        stopped.stdout
    );
    // The batch in flight was finished and saved: the record matches what is stored.
    let done = done_in_record(&home).unwrap();
    assert_eq!(upstream.stored().0, done as i64);
    assert!(done < 12, "it stopped before the end");
    upstream.slow_down(0).await;

    let resumed = upstream.run(&home, &[&file, "--batch", "2"]).await;
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert_eq!(resumed.count("duplicates"), 0);
    assert_eq!(resumed.count("recorded"), 12 - done as usize);
    assert_eq!(upstream.stored(), (12, 12));
}

#[tokio::test]
async fn the_import_needs_its_tool() {
    let upstream = Upstream::start().await;
    let home = Home::new();
    let file = write(&home, "usage.jsonl", &jsonl(1));
    let run = upstream.run(&home, &[&file, "--read-only"]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("record_bulk_usage is not enabled"),
        "{}",
        run.stderr
    );
    assert_eq!(upstream.stored(), (0, 0));
}

#[tokio::test]
async fn on_a_terminal_the_progress_is_a_bar() {
    let upstream = Upstream::start().await;
    upstream.slow_down(200).await;
    let home = Home::new();
    let file = write(&home, "usage.jsonl", &jsonl(5));
    let line = format!(
        "'{}' usage import '{file}' --batch 1",
        crate::support::bin::BIN
    );
    let mut script = Command::new("script");
    home.confine(&mut script);
    let output = script
        .args(["-qec", &line, "/dev/null"])
        .env("SOLVAPAY_API_BASE_URL", &upstream.url)
        .env("SOLVAPAY_SECRET_KEY", KEY)
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .unwrap()
        .unwrap();
    let screen = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{screen}");
    assert!(screen.contains("/5 events"), "no bar: {screen:?}");
    assert!(screen.contains('\u{1b}'), "the bar is drawn: {screen:?}");
    assert!(
        !screen.contains("batch 1:"),
        "no plain lines on a terminal: {screen:?}"
    );
    assert!(
        screen.contains("Done: every event of usage.jsonl is recorded."),
        "{screen}"
    );
    assert_eq!(upstream.stored(), (5, 5));
}
