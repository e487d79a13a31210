//! Shared fixtures: a wiremock upstream that fails loudly on unexpected requests, and an in-process MCP
//! client connected to a `BillingServer` through its stdio transport over `tokio::io::duplex`.

pub(crate) mod apps;
pub(crate) mod bin;
pub(crate) mod eras;
pub(crate) mod http;
pub(crate) mod leaks;
pub(crate) mod person;
pub(crate) mod postgres;
pub(crate) mod raw;
pub(crate) mod standalone;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{Peer, RunningService};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use solvapay_mcp::api::RetryPolicy;
use solvapay_mcp::options::ServerOptions;
use solvapay_mcp::{BillingServer, Config, SolvaPayClient, stdio};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The key every test server is configured with.
pub(crate) const KEY: &str = "sk_test_CANARY_9f8e7d6c";

/// An MCP client session with the server under test.
pub(crate) type Client = RunningService<RoleClient, ()>;

/// A wiremock upstream whose unmatched requests answer 599, so a missing mock cannot pass as success.
pub(crate) async fn upstream() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599).set_body_string("unexpected request in test"))
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

/// A client talking to a fresh server whose SolvaPay base URL is `base_url`.
pub(crate) async fn connect(base_url: &str) -> Client {
    connect_with(config(base_url)).await
}

/// A configuration for `base_url` with [`KEY`] and a retry policy with millisecond pauses.
pub(crate) fn config(base_url: &str) -> Config {
    let mut config = Config::for_base_url(base_url, Some(KEY)).unwrap();
    config.retry = fast_retries();
    config
}

/// The default retry policy with pauses short enough for tests.
pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

/// A client talking to a fresh server built from `config`.
pub(crate) async fn connect_with(config: Config) -> Client {
    connect_server(BillingServer::new(SolvaPayClient::new(&config))).await
}

/// A client talking to `server`.
pub(crate) async fn connect_server(server: BillingServer) -> Client {
    connect_server_as(server, ()).await
}

/// [`connect_server`] with `handler` as the client (one that records notifications, say).
pub(crate) async fn connect_server_as<H: rmcp::ClientHandler>(
    server: BillingServer,
    handler: H,
) -> RunningService<RoleClient, H> {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    // The server's own stdio transport, over the in-memory pipe.
    let (input, output) = tokio::io::split(server_io);
    let transport = stdio::over(input, output, stdio::MAX_LINE_BYTES);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(transport).await {
            let _ = running.waiting().await;
        }
    });
    handler.serve(client_io).await.unwrap()
}

/// Calls `tool` with `args` (a JSON object); a successful result is checked against the tool's
/// listed output schema.
pub(crate) async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"));
    check_output(client, tool, &result).await;
    result
}

/// Each tool's listed output schema, compiled once (schemas do not depend on the configuration).
static OUTPUT_SCHEMAS: Mutex<BTreeMap<String, Option<Arc<jsonschema::Validator>>>> =
    Mutex::new(BTreeMap::new());

/// Panics unless a successful `result` of `tool` carries structured content that the tool's listed
/// `outputSchema` (draft 2020-12) accepts, so that a lean schema cannot lie.
pub(crate) async fn check_output(peer: &Peer<RoleClient>, tool: &str, result: &CallToolResult) {
    if result.is_error == Some(true) {
        return;
    }
    let cached = OUTPUT_SCHEMAS.lock().unwrap().get(tool).cloned();
    let validator = match cached {
        Some(validator) => validator,
        None => {
            let tools = peer.list_all_tools().await.unwrap();
            let mut schemas = OUTPUT_SCHEMAS.lock().unwrap();
            for listed in tools {
                schemas.entry(listed.name.to_string()).or_insert_with(|| {
                    listed.output_schema.map(|schema| {
                        let schema = Value::Object(schema.as_ref().clone());
                        Arc::new(jsonschema::draft202012::new(&schema).unwrap_or_else(|e| {
                            panic!("{}: outputSchema does not compile: {e}", listed.name)
                        }))
                    })
                });
            }
            schemas.get(tool).cloned().flatten()
        }
    };
    let Some(validator) = validator else {
        return;
    };
    let structured = result
        .structured_content
        .as_ref()
        .unwrap_or_else(|| panic!("{tool}: an outputSchema is listed but no structuredContent"));
    let errors: Vec<String> = validator
        .iter_errors(structured)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{tool}: structuredContent does not match the listed outputSchema:\n{}\n{structured}",
        errors.join("\n")
    );
}

/// The structured content of a successful call (panics with the text on failure).
pub(crate) async fn ok(client: &Client, tool: &str, args: Value) -> Value {
    let result = call(client, tool, args).await;
    assert_ne!(
        result.is_error,
        Some(true),
        "{tool} failed: {}",
        text(&result)
    );
    result
        .structured_content
        .unwrap_or_else(|| panic!("{tool}: no structuredContent"))
}

/// The error envelope of a failed call, parsed from its text (panics if the call succeeded).
pub(crate) async fn err(client: &Client, tool: &str, args: Value) -> Value {
    let result = call(client, tool, args).await;
    assert_eq!(
        result.is_error,
        Some(true),
        "{tool} unexpectedly succeeded: {}",
        text(&result)
    );
    let envelope: Value =
        serde_json::from_str(&text(&result)).expect("error text is the JSON envelope");
    assert_eq!(envelope["success"], false);
    envelope
}

/// The error envelope `{"success": false, "error": {...}}` carried as an error result's text.
pub(crate) fn envelope(result: &CallToolResult) -> Value {
    assert_eq!(
        result.is_error,
        Some(true),
        "not an error: {}",
        text(result)
    );
    assert!(
        result.structured_content.is_none(),
        "errors carry no structuredContent"
    );
    serde_json::from_str(&text(result)).expect("error text is the JSON envelope")
}

/// All text content of a result, joined by newlines.
pub(crate) fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How many requests the upstream received (excluding none).
pub(crate) async fn request_count(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

/// A fresh in-memory local sandbox (with the demo data when `demo`) and a client of a server using it.
pub(crate) async fn sandbox(demo: bool) -> (solvapay_mcp::sandbox::Sandbox, Client) {
    use solvapay_mcp::sandbox::{Sandbox, SandboxOptions};
    let sandbox = Sandbox::start(SandboxOptions {
        demo,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let mut config = Config::for_base_url(sandbox.base_url(), Some(sandbox.key())).unwrap();
    config.retry = fast_retries();
    // As `serve` wires it: the sandbox's clock is the tools' clock.
    let options = ServerOptions {
        clock: sandbox.clock(),
        ..ServerOptions::default()
    };
    let client = connect_server(BillingServer::with_options(
        SolvaPayClient::new(&config),
        options,
    ))
    .await;
    (sandbox, client)
}

/// A plain HTTP client for tests that talk to a sandbox directly (installs rustls's crypto provider,
/// which reqwest needs before building a client).
pub(crate) fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `(progress, total)` of one notification.
pub(crate) type Step = (f64, Option<f64>);

/// A client that records every progress notification it receives.
#[derive(Clone, Default)]
pub(crate) struct ProgressLog(Arc<Mutex<Vec<Step>>>);

impl ProgressLog {
    /// The notifications received, once there are `n` of them (or after a second: the call's
    /// answer can arrive before its last notification is read).
    pub(crate) async fn seen(&self, n: usize) -> Vec<Step> {
        for _ in 0..50 {
            if self.0.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.0.lock().unwrap().clone()
    }
}

impl rmcp::ClientHandler for ProgressLog {
    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _: rmcp::service::NotificationContext<RoleClient>,
    ) {
        self.0.lock().unwrap().push((params.progress, params.total));
    }
}
