//! The real binary serving Streamable HTTP (`serve --http 127.0.0.1:0`), each run in its own
//! [`Home`], driven with reqwest posting JSON-RPC: a 2025-11-25 session (`initialize`, then
//! `Mcp-Session-Id` on every request) or 2026-07-28 stateless requests (`_meta` on each).

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use super::bin::Home;

/// The newest protocol era (stateless requests).
pub(crate) const STATELESS: &str = "2026-07-28";
/// The era with `initialize` and sessions.
pub(crate) const SESSION: &str = "2025-11-25";

/// The sealing key the [`HttpServer::replicas`] share.
const REPLICAS_SEALING_KEY: &str =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// A running `solvapay-mcp serve --http`, stopped (killed) when dropped.
pub(crate) struct HttpServer {
    child: Child,
    /// `http://127.0.0.1:PORT/mcp`.
    pub(crate) url: String,
    stderr: Arc<Mutex<String>>,
    _home: Home,
}

impl HttpServer {
    /// Starts the binary with `serve --http 127.0.0.1:0` and `args`, `env` on top of a confined
    /// environment, and waits for the line naming the bound address.
    pub(crate) async fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_in(Home::new(), args, env).await
    }

    /// Two replicas of one deployment: each its own home, both calling `upstream` and sharing the
    /// state in PostgreSQL at `state_url` and one sealing key, as behind a load balancer.
    pub(crate) async fn replicas(upstream: &str, state_url: &str) -> (Self, Self) {
        let env = [
            ("SOLVAPAY_API_BASE_URL", upstream),
            ("SOLVAPAY_STATE_URL", state_url),
            ("SOLVAPAY_REQUEST_STATE_KEY", REPLICAS_SEALING_KEY),
        ];
        tokio::join!(Self::start(&[], &env), Self::start(&[], &env))
    }

    /// [`start`](Self::start) in `home`.
    pub(crate) async fn start_in(home: Home, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = home.command();
        command
            .args(["serve", "--http", "127.0.0.1:0"])
            .args(args)
            .env("SOLVAPAY_DATA_DIR", home.path().join("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                push(&stderr, &line);
                if let Some((_, url)) = line.split_once("listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!(
                "the server exited before listening:\n{}",
                stderr.lock().unwrap()
            );
        })
        .await
        .expect("the server did not start listening within 30 s");
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                push(&sink, &line);
            }
        });
        Self {
            child,
            url,
            stderr,
            _home: home,
        }
    }

    /// The URL of another path on the same server (`/healthz`, …).
    pub(crate) fn path(&self, path: &str) -> String {
        self.url.replace("/mcp", path)
    }

    /// Everything the server wrote to stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the exit; gives the status and the whole stderr.
    pub(crate) async fn terminate(self) -> (ExitStatus, String) {
        self.send_sigterm();
        self.wait().await
    }

    /// Sends SIGTERM, without waiting.
    pub(crate) fn send_sigterm(&self) {
        let pid = self.child.id().unwrap().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the exit; gives the status and the whole stderr.
    pub(crate) async fn wait(mut self) -> (ExitStatus, String) {
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the server did not exit within 30 s")
            .unwrap();
        // Let the reader task take the last lines.
        tokio::time::sleep(Duration::from_millis(100)).await;
        (status, self.stderr())
    }
}

/// Runs the binary with `args` and `env` in `home` and waits for its exit: status, stdout, stderr.
pub(crate) async fn run(
    home: &Home,
    args: &[&str],
    env: &[(&str, &str)],
) -> (ExitStatus, String, String) {
    let mut command = home.command();
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let out = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("the binary did not exit within 30 s")
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A tool call's arguments as `tools/call` params.
pub(crate) fn call(name: &str, arguments: Value) -> Value {
    json!({"name": name, "arguments": arguments})
}

/// A plain HTTP client for the tests (rustls needs its crypto provider installed first).
pub(crate) fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn push(sink: &Mutex<String>, line: &str) {
    let mut all = sink.lock().unwrap();
    all.push_str(line);
    all.push('\n');
}

/// A credential as a request carries it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth<'a> {
    /// No credential.
    None,
    /// `Authorization: Bearer …`.
    Bearer(&'a str),
    /// `X-API-Key: …`.
    ApiKey(&'a str),
}

impl Auth<'_> {
    fn apply(self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::None => request,
            Auth::Bearer(token) => request.header("authorization", format!("Bearer {token}")),
            Auth::ApiKey(key) => request.header("x-api-key", key),
        }
    }
}

/// One HTTP answer: status, headers, and the JSON-RPC messages of its body (JSON or SSE).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: reqwest::StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    /// The body as JSON (a plain JSON body, or the last JSON-RPC message of an SSE stream).
    pub(crate) fn json(&self) -> Value {
        if let Ok(value) = serde_json::from_str(&self.body) {
            return value;
        }
        self.body
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .next_back()
            .unwrap_or_else(|| panic!("no JSON in the answer ({}): {}", self.status, self.body))
    }

    /// The JSON-RPC `result`, failing the test on an error.
    pub(crate) fn result(&self) -> Value {
        let json = self.json();
        assert!(
            json.get("error").is_none() && self.status.is_success(),
            "expected a result, got {}: {json}",
            self.status
        );
        json["result"].clone()
    }
}

/// Posts `body` to `url` as an MCP client does, with `headers` added.
pub(crate) async fn post(
    http: &reqwest::Client,
    url: &str,
    auth: Auth<'_>,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> Answer {
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    request = auth.apply(request);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

/// A 2026-07-28 stateless request: `_meta` with the protocol version and client capabilities,
/// and the `MCP-Protocol-Version`, `Mcp-Method` (and for a tool call or a prompt its `name`, for a
/// resource read its `uri`, in `Mcp-Name`) headers.
pub(crate) async fn stateless(
    http: &reqwest::Client,
    url: &str,
    auth: Auth<'_>,
    method: &str,
    mut params: Value,
) -> Answer {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": STATELESS,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let name = params["name"]
        .as_str()
        .or(params["uri"].as_str())
        .map(str::to_owned);
    let mut headers = vec![("mcp-protocol-version", STATELESS), ("mcp-method", method)];
    if let Some(name) = name.as_deref() {
        headers.push(("mcp-name", name));
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    post(http, url, auth, &headers, body.to_string()).await
}

/// A 2025-11-25 session: `initialize` answered, `notifications/initialized` sent.
pub(crate) struct Session<'a> {
    http: &'a reqwest::Client,
    url: String,
    auth: Auth<'a>,
    /// The `Mcp-Session-Id` the server gave.
    pub(crate) id: String,
    next_id: u64,
}

impl<'a> Session<'a> {
    /// Opens a session on `url` presenting `auth`; fails the test unless the server accepts it.
    pub(crate) async fn open(http: &'a reqwest::Client, url: &str, auth: Auth<'a>) -> Self {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": SESSION, "capabilities": {},
            "clientInfo": {"name": "it", "version": "1"}}});
        let answer = post(http, url, auth, &[], init.to_string()).await;
        assert_eq!(answer.result()["protocolVersion"], SESSION);
        let id = answer.headers["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let session = Self {
            http,
            url: url.to_owned(),
            auth,
            id,
            next_id: 1,
        };
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let answer = session.send(initialized).await;
        assert_eq!(
            answer.status,
            reqwest::StatusCode::ACCEPTED,
            "{}",
            answer.body
        );
        session
    }

    /// Sends one message in this session.
    pub(crate) async fn send(&self, message: Value) -> Answer {
        let headers = [
            ("mcp-session-id", self.id.as_str()),
            ("mcp-protocol-version", SESSION),
        ];
        post(
            self.http,
            &self.url,
            self.auth,
            &headers,
            message.to_string(),
        )
        .await
    }

    /// A request in this session.
    pub(crate) async fn request(&mut self, method: &str, params: Value) -> Answer {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await
    }
}

/// The names of the tools a `tools/list` result lists.
pub(crate) fn tool_names(result: &Value) -> Vec<String> {
    result["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// `token new` in `home`: the printed token.
pub(crate) async fn new_token(home: &Home, file: &str, extra: &[&str]) -> String {
    let mut args = vec!["token", "new", "--file", file];
    args.extend_from_slice(extra);
    let (status, stdout, stderr) = run(home, &args, &[]).await;
    assert!(status.success(), "{stderr}");
    let token = stdout.trim().to_owned();
    assert!(token.starts_with("smt_"), "{stdout}");
    assert!(!stderr.contains(&token), "{stderr}");
    token
}
