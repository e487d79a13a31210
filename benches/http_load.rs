//! The HTTP benchmark's two helpers, driven by `benches/http.py` (a cargo example, built on demand):
//!
//! * `http_load upstream` — a zero-latency SolvaPay-shaped upstream: `GET /v1/sdk/customers/{ref}`
//!   answers a fixed customer at once (keep-alive, HTTP/1.1), `GET /__stats` counts what was asked.
//!   Prints `PORT=<port>` on stdout once listening.
//! * `http_load run --url …/mcp --clients 1,16,64` — N concurrent MCP clients, each with its own
//!   connection, looping `tools/call get_customer` for a fixed time after a warm-up: 2026-07-28
//!   stateless requests (per-request `_meta`, `MCP-Protocol-Version`) or 2025-11-25 sessions
//!   (`initialize`, then `Mcp-Session-Id`). Prints one JSON line per client count: calls/s, p50,
//!   p99, errors, and, given `--pid`, the server's CPU time per call and its RSS (the highest
//!   `VmRSS` sampled during the measured window and `VmHWM` after it, from `/proc`).
//!
//! Every call's answer is checked (a JSON-RPC result, not `isError`): a benchmark whose calls fail
//! measures nothing, so failures are counted and the first one is shown on stderr.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body `fake_upstream.py` and `in_process.rs` answer: a small, realistic customer.
const CUSTOMER: &str = r#"{"reference":"cus_A1B2C3D4","email":"jane@example.com","name":"Jane Doe","metadata":{},"createdAt":"2026-02-01T10:00:00.000Z","purchases":[]}"#;

const MODERN: &str = "2026-07-28";
const LEGACY: &str = "2025-11-25";

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the zero-latency upstream on 127.0.0.1 (`PORT=<port>` on stdout).
    Upstream,
    /// Load an MCP Streamable HTTP endpoint and print one JSON line per client count.
    Run(RunArgs),
}

#[derive(Parser, Clone)]
struct RunArgs {
    /// The MCP endpoint, e.g. http://127.0.0.1:8080/mcp.
    #[arg(long)]
    url: String,
    /// The bearer credential every request carries (a test key: the upstream is the fake).
    #[arg(long, default_value = "sk_test_bench")]
    key: String,
    /// Client counts, run one after the other.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// Seconds measured per client count.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds of calls before measuring (connections open, caches warm).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    #[arg(long, value_enum, default_value_t = Era::Stateless)]
    era: Era,
    /// The server's process id: its CPU time and RSS are read from /proc.
    #[arg(long)]
    pid: Option<u32>,
    /// The customer reference asked for.
    #[arg(long, default_value = "cus_A1B2C3D4")]
    reference: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum Era {
    /// 2026-07-28: each request stateless, with its protocol version in `_meta` and the header.
    Stateless,
    /// 2025-11-25: one session per client (`initialize`, `Mcp-Session-Id`).
    Session,
}

fn main() -> Result<(), BoxError> {
    let cli = Cli::parse();
    // reqwest is built without a default TLS provider (plain HTTP here, but the builder asks).
    let _ = rustls::crypto::ring::default_provider().install_default();
    // One thread each, so the load generator and the upstream take at most a core apiece and
    // weigh the same on both servers.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Upstream => runtime.block_on(upstream()),
        Command::Run(args) => runtime.block_on(run(args)),
    }
}

async fn upstream() -> Result<(), BoxError> {
    let counted = Arc::new(AtomicU64::new(0));
    let count = counted.clone();
    let app = Router::new()
        .route(
            "/v1/sdk/customers/{reference}",
            get(move || {
                count.fetch_add(1, Ordering::Relaxed);
                async { ([("content-type", "application/json")], CUSTOMER) }
            }),
        )
        .route(
            "/__stats",
            get(move || {
                let customers = counted.load(Ordering::Relaxed);
                async move { axum::Json(json!({ "GET /v1/sdk/customers/{ref}": customers })) }
            }),
        );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let port = listener.local_addr()?.port();
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "PORT={port}")?;
    out.flush()?;
    drop(out);
    axum::serve(listener, app).await?;
    Ok(())
}

/// One client count's figures, as printed.
#[derive(serde::Serialize)]
struct Report {
    era: &'static str,
    clients: usize,
    seconds: f64,
    calls: usize,
    errors: u64,
    calls_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Server CPU time (user + system) per measured call, µs; `None` without `--pid`.
    server_cpu_us_per_call: Option<f64>,
    /// The load generator's own CPU share over the window (1.0 = one core busy).
    loadgen_cpu_share: Option<f64>,
    /// Highest `VmRSS` sampled every 50 ms over the window, KiB.
    server_rss_max_kib: Option<u64>,
    /// `VmHWM` after the window, KiB.
    server_hwm_kib: Option<u64>,
}

async fn run(args: RunArgs) -> Result<(), BoxError> {
    for &clients in &args.clients {
        let report = run_level(&args, clients).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
        out.flush()?;
    }
    Ok(())
}

/// Shared by the clients of one level: when measuring starts and ends, and the failures.
struct Window {
    measure_from: Instant,
    measure_until: Instant,
    errors: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Window {
    fn fail(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(what);
        }
    }
}

async fn run_level(args: &RunArgs, clients: usize) -> Result<Report, BoxError> {
    let warmup = Duration::from_secs_f64(args.warmup);
    let duration = Duration::from_secs_f64(args.duration);
    // Sessions are opened before the clock starts (a session's cost is its calls, not its setup).
    let mut callers = Vec::with_capacity(clients);
    for _ in 0..clients {
        callers.push(Caller::connect(args).await?);
    }
    let start = Instant::now();
    let window = Arc::new(Window {
        measure_from: start + warmup,
        measure_until: start + warmup + duration,
        errors: AtomicU64::new(0),
        first_error: std::sync::Mutex::new(None),
    });
    let tasks: Vec<_> = callers
        .into_iter()
        .map(|caller| tokio::spawn(caller.run(window.clone())))
        .collect();

    tokio::time::sleep_until(window.measure_from.into()).await;
    let server_cpu_before = args.pid.map(cpu_ticks);
    let own_cpu_before = own_cpu_ticks();
    let mut rss_max = None;
    while Instant::now() < window.measure_until {
        if let Some(pid) = args.pid {
            rss_max = rss_max.max(proc_status_kib(pid, "VmRSS:"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let server_cpu_after = args.pid.map(cpu_ticks);
    let own_cpu_after = own_cpu_ticks();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await?);
    }
    latencies.sort_unstable();
    let errors = window.errors.load(Ordering::Relaxed);
    if let Ok(first) = window.first_error.lock()
        && let Some(first) = first.as_ref()
    {
        eprintln!("{errors} failed calls at {clients} clients; the first: {first}");
    }
    let calls = latencies.len();
    let ticks = |before: Option<Option<u64>>, after: Option<Option<u64>>| match (before, after) {
        (Some(Some(b)), Some(Some(a))) => Some(a.saturating_sub(b)),
        _ => None,
    };
    // /proc counts CPU time in USER_HZ ticks, 100 per second on Linux.
    let server_cpu_us_per_call = ticks(server_cpu_before, server_cpu_after)
        .filter(|_| calls > 0)
        .map(|t| t as f64 * 10_000.0 / calls as f64);
    let loadgen_cpu_share = ticks(Some(own_cpu_before), Some(own_cpu_after))
        .map(|t| t as f64 / 100.0 / duration.as_secs_f64());
    Ok(Report {
        era: match args.era {
            Era::Stateless => MODERN,
            Era::Session => LEGACY,
        },
        clients,
        seconds: duration.as_secs_f64(),
        calls,
        errors,
        calls_per_s: calls as f64 / duration.as_secs_f64(),
        p50_ms: percentile_ms(&latencies, 0.50),
        p99_ms: percentile_ms(&latencies, 0.99),
        server_cpu_us_per_call,
        loadgen_cpu_share,
        server_rss_max_kib: rss_max,
        server_hwm_kib: args.pid.and_then(|pid| proc_status_kib(pid, "VmHWM:")),
    })
}

/// Nearest-rank percentile of sorted latencies in µs, as milliseconds.
fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted_us.len() as f64 * q).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us
        .get(rank - 1)
        .map_or(f64::NAN, |&us| f64::from(us) / 1000.0)
}

/// One simulated assistant: its own HTTP connection and, in the session era, its own session.
struct Caller {
    http: reqwest::Client,
    url: String,
    key: String,
    reference: String,
    era: Era,
    session: Option<String>,
}

impl Caller {
    async fn connect(args: &RunArgs) -> Result<Self, BoxError> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()?;
        let mut caller = Self {
            http,
            url: args.url.clone(),
            key: args.key.clone(),
            reference: args.reference.clone(),
            era: args.era,
            session: None,
        };
        if let Era::Session = args.era {
            caller.open_session().await?;
        }
        Ok(caller)
    }

    async fn open_session(&mut self) -> Result<(), BoxError> {
        let init = json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": LEGACY, "capabilities": {},
                "clientInfo": { "name": "http_load", "version": "1" }
            }
        });
        let response = self.post(init.to_string()).send().await?;
        let session = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or("initialize answered without an Mcp-Session-Id")?;
        let body = response.text().await?;
        answer(&body).map_err(|e| format!("initialize: {e}"))?;
        self.session = Some(session);
        let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
        let status = self.post(initialized.to_string()).send().await?.status();
        if !status.is_success() {
            return Err(format!("notifications/initialized: HTTP {status}").into());
        }
        Ok(())
    }

    fn post(&self, body: String) -> reqwest::RequestBuilder {
        let request = self
            .http
            .post(&self.url)
            .bearer_auth(&self.key)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body);
        match (&self.era, &self.session) {
            // SEP-2243: the method and tool name in headers too, for routers that skip the body.
            (Era::Stateless, _) => request
                .header("mcp-protocol-version", MODERN)
                .header("mcp-method", "tools/call")
                .header("mcp-name", "get_customer"),
            (Era::Session, Some(session)) => request
                .header("mcp-protocol-version", LEGACY)
                .header("mcp-session-id", session),
            (Era::Session, None) => request,
        }
    }

    fn call_body(&self, id: u64) -> String {
        let arguments = json!({ "reference": self.reference });
        let params = match self.era {
            Era::Stateless => json!({
                "name": "get_customer",
                "arguments": arguments,
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": MODERN,
                    "io.modelcontextprotocol/clientCapabilities": {},
                    "io.modelcontextprotocol/clientInfo": { "name": "http_load", "version": "1" },
                },
            }),
            Era::Session => json!({ "name": "get_customer", "arguments": arguments }),
        };
        json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params }).to_string()
    }

    /// Loops calls until the window closes; returns the latencies (µs) of the calls that started
    /// and finished inside it.
    async fn run(self, window: Arc<Window>) -> Vec<u32> {
        let mut latencies = Vec::new();
        let mut id = 1;
        loop {
            let started = Instant::now();
            if started >= window.measure_until {
                break;
            }
            id += 1;
            let outcome = self.call(id).await;
            let finished = Instant::now();
            match outcome {
                Err(e) => window.fail(e),
                Ok(()) if started >= window.measure_from && finished <= window.measure_until => {
                    let us = finished.duration_since(started).as_micros();
                    latencies.push(u32::try_from(us).unwrap_or(u32::MAX));
                }
                Ok(()) => {}
            }
        }
        self.close_session().await;
        latencies
    }

    /// A session ends with `DELETE` (as clients do), so the next level's server starts without it.
    async fn close_session(&self) {
        if let Some(session) = &self.session {
            let _ = self
                .http
                .delete(&self.url)
                .bearer_auth(&self.key)
                .header("mcp-protocol-version", LEGACY)
                .header("mcp-session-id", session)
                .send()
                .await;
        }
    }

    async fn call(&self, id: u64) -> Result<(), String> {
        let response = self
            .post(self.call_body(id))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("HTTP {status}: {body}"));
        }
        let result = answer(&body)?;
        if result.get("isError") == Some(&Value::Bool(true)) {
            return Err(format!("tool error: {result}"));
        }
        Ok(())
    }
}

/// The JSON-RPC result in an answer: a JSON body, or the `data:` of an SSE stream's response.
fn answer(body: &str) -> Result<Value, String> {
    let message = if body.trim_start().starts_with('{') {
        serde_json::from_str::<Value>(body).map_err(|e| format!("{e}: {body}"))?
    } else {
        body.lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
            .find(|m| m.get("id").is_some())
            .ok_or_else(|| format!("no response in the event stream: {body}"))?
    };
    match message.get("result") {
        Some(result) => Ok(result.clone()),
        None => Err(format!("not a result: {message}")),
    }
}

/// utime + stime of a process, in ticks (`/proc/<pid>/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> Option<u64> {
    stat_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn own_cpu_ticks() -> Option<u64> {
    stat_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

fn stat_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// A `kB` line of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`).
fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix(field))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
