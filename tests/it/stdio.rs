//! The real binary as a child process: stdout carries JSON-RPC only, stdin EOF exits cleanly, and the
//! key never appears in any output, even at `RUST_LOG=trace`.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support;
use crate::support::bin::Home;
use crate::support::standalone::Standalone;

const CANARY: &str = "sk_live_CANARY_never_print_me_4242";

fn line(value: Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(&value).unwrap();
    bytes.push(b'\n');
    bytes
}

#[tokio::test]
async fn stdout_is_json_rpc_only_and_the_key_never_leaks() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"statusCode": 404, "message": "Customer with reference cus_A1B2C3D4 not found"}),
        ))
        .mount(&upstream)
        .await;
    let home = Home::new();
    let mut child = home
        .command()
        .env("SOLVAPAY_SECRET_KEY", CANARY)
        .env("SOLVAPAY_API_BASE_URL", upstream.uri())
        .env("RUST_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = child.stderr.take().unwrap();
    // Drain stderr concurrently: trace logs would fill the pipe and stall the server.
    let logs = tokio::spawn(async move {
        let mut logs = String::new();
        stderr.read_to_string(&mut logs).await.unwrap();
        logs
    });

    stdin.write_all(&line(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}))).await.unwrap();
    stdin
        .write_all(&line(
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        ))
        .await
        .unwrap();
    stdin
        .write_all(&line(
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        ))
        .await
        .unwrap();
    stdin
        .write_all(&line(
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "get_customer", "arguments": {"reference": "cus_A1B2C3D4"}}}),
        ))
        .await
        .unwrap();
    stdin.flush().await.unwrap();

    let mut seen = Vec::new();
    let mut raw = String::new();
    while seen.len() < 3 {
        let next = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
            .await
            .unwrap()
            .unwrap();
        let Some(text) = next else { break };
        raw.push_str(&text);
        let msg: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("non-JSON on stdout ({e}): {text}"));
        assert_eq!(msg["jsonrpc"], "2.0", "{text}");
        if let Some(id) = msg.get("id") {
            seen.push((id.as_i64().unwrap(), msg));
        }
    }
    // Calls run concurrently: answers may come in any order.
    seen.sort_by_key(|(id, _)| *id);
    assert_eq!(seen[0].1["result"]["serverInfo"]["name"], "solvapay-mcp");
    let tools = seen[1].1["result"]["tools"].as_array().unwrap();
    assert!(tools.iter().any(|t| t["name"] == "get_customer"));
    assert!(
        !tools.iter().any(|t| t["name"] == "delete_customer"),
        "a live key without --allow-destructive lists no destructive tool"
    );
    assert_eq!(seen[2].1["result"]["isError"], true);

    // Closing stdin ends the server promptly and cleanly.
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(2), child.wait())
        .await
        .expect("exits within 2 s")
        .unwrap();
    assert!(status.success(), "{status:?}");
    while let Ok(Some(text)) = stdout.next_line().await {
        raw.push_str(&text);
    }
    let logs = logs.await.unwrap();
    assert!(
        logs.contains("live key"),
        "startup line names the mode: {logs}"
    );
    assert!(
        logs.contains(&upstream.uri()),
        "startup line names the base URL: {logs}"
    );
    assert!(!raw.contains("CANARY"), "key on stdout");
    assert!(!logs.contains("CANARY"), "key on stderr");
}

#[tokio::test]
async fn closing_stdin_before_initialize_exits_zero() {
    let home = Home::new();
    let child = home
        .command()
        .env("SOLVAPAY_SECRET_KEY", CANARY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn help_and_version_work() {
    let home = Home::new();
    let out = home.command().arg("--version").output().await.unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        concat!("solvapay-mcp ", env!("CARGO_PKG_VERSION"))
    );
    let out = home.command().arg("--help").output().await.unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("SOLVAPAY_SECRET_KEY"), "{help}");
}

#[tokio::test]
async fn a_bad_configuration_stops_startup_with_the_variable_named() {
    let home = Home::new();
    let out = home
        .command()
        .env("SOLVAPAY_API_BASE_URL", "ftp://nowhere")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SOLVAPAY_API_BASE_URL"));
    assert!(out.stdout.is_empty());
}

/// Spawns the binary against `base_url` with piped stdio, confined to `home` (so its data
/// directory is the home's default one).
fn spawn(base_url: &str, home: &Home) -> tokio::process::Child {
    home.command()
        .env("SOLVAPAY_SECRET_KEY", CANARY)
        .env("SOLVAPAY_API_BASE_URL", base_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn initialize(stdin: &mut (impl tokio::io::AsyncWrite + Unpin)) {
    stdin.write_all(&line(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}))).await.unwrap();
    stdin
        .write_all(&line(
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        ))
        .await
        .unwrap();
}

/// Reads stdout lines until the response with `id` arrives.
async fn response(
    stdout: &mut tokio::io::Lines<BufReader<impl tokio::io::AsyncRead + Unpin>>,
    id: i64,
) -> Value {
    loop {
        let text = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("stdout open");
        let msg: Value = serde_json::from_str(&text).unwrap();
        if msg["id"] == id {
            return msg;
        }
    }
}

#[tokio::test]
async fn malformed_and_oversized_lines_do_not_stop_the_server() {
    let upstream = support::upstream().await;
    let home = Home::new();
    let mut child = spawn(&upstream.uri(), &home);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    initialize(&mut stdin).await;
    response(&mut stdout, 1).await;

    stdin.write_all(b"this is not json\n").await.unwrap();
    stdin
        .write_all(b"{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": \n")
        .await
        .unwrap();
    let mut huge = vec![b' '; 5 * 1024 * 1024];
    huge.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/list\"}\n");
    stdin.write_all(&huge).await.unwrap();
    stdin
        .write_all(&line(
            json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list"}),
        ))
        .await
        .unwrap();

    // Each bad line is answered, with id null: its id cannot be read.
    let mut refusals = Vec::new();
    let listed = loop {
        let answer = next_answer(&mut stdout).await;
        if answer["id"] == 9 {
            break answer;
        }
        refusals.push(refusal(&answer));
    };
    assert_eq!(
        refusals,
        [
            (-32700, Value::Null),
            (-32700, Value::Null),
            (-32600, Value::Null)
        ]
    );
    assert!(
        listed["result"]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{listed}"
    );
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_exits_zero() {
    let upstream = support::upstream().await;
    let home = Home::new();
    let mut child = spawn(&upstream.uri(), &home);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    initialize(&mut stdin).await;
    response(&mut stdout, 1).await;
    let pid = child.id().unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn the_standalone_sandbox_prints_its_url_and_key_and_requires_the_key() {
    let home = Home::new();
    let Standalone {
        mut child,
        url,
        key,
    } = Standalone::start(&home, &["--db", ":memory:", "--demo"]).await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let http = crate::support::http();
    let customer = format!("{url}/v1/sdk/customers/cus_A1B2C3D4");
    assert_eq!(http.get(&customer).send().await.unwrap().status(), 401);
    let ok = http.get(&customer).bearer_auth(&key).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// Python and most launchers give a server pipes; Node-based clients (Claude Desktop, Cursor, the
/// Inspector) give it socket pairs. Both are served without blocking threads, and both end on EOF.
#[tokio::test]
async fn pipes_and_socket_pairs_are_both_served_non_blocking() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"reference": "cus_A1B2C3D4", "email": "jane@acme.com", "name": "Jane Smith"}),
        ))
        .mount(&upstream)
        .await;
    for sockets in [false, true] {
        let home = Home::new();
        let mut command = home.command();
        command
            .env("SOLVAPAY_SECRET_KEY", CANARY)
            .env("SOLVAPAY_API_BASE_URL", upstream.uri())
            .env("RUST_LOG", "debug")
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let (mut input, output): (
            Box<dyn tokio::io::AsyncWrite + Unpin>,
            Box<dyn tokio::io::AsyncRead + Unpin>,
        );
        let mut child = if sockets {
            let (ours_in, theirs_in) = std::os::unix::net::UnixStream::pair().unwrap();
            let (ours_out, theirs_out) = std::os::unix::net::UnixStream::pair().unwrap();
            command
                .stdin(std::os::fd::OwnedFd::from(theirs_in))
                .stdout(std::os::fd::OwnedFd::from(theirs_out));
            let child = command.spawn().unwrap();
            ours_in.set_nonblocking(true).unwrap();
            ours_out.set_nonblocking(true).unwrap();
            input = Box::new(tokio::net::UnixStream::from_std(ours_in).unwrap());
            output = Box::new(tokio::net::UnixStream::from_std(ours_out).unwrap());
            child
        } else {
            command.stdin(Stdio::piped()).stdout(Stdio::piped());
            let mut child = command.spawn().unwrap();
            input = Box::new(child.stdin.take().unwrap());
            output = Box::new(child.stdout.take().unwrap());
            child
        };
        drop(command);
        let mut stderr = child.stderr.take().unwrap();
        let logs = tokio::spawn(async move {
            let mut logs = String::new();
            stderr.read_to_string(&mut logs).await.unwrap();
            logs
        });
        let mut lines = BufReader::new(output).lines();
        initialize(&mut input).await;
        input
            .write_all(&line(
                json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "get_customer", "arguments": {"reference": "cus_A1B2C3D4"}}}),
            ))
            .await
            .unwrap();
        input.flush().await.unwrap();
        let answer = response(&mut lines, 2).await;
        assert_eq!(
            answer["result"]["structuredContent"]["email"], "jane@acme.com",
            "sockets: {sockets}: {answer}"
        );
        input.shutdown().await.unwrap();
        drop(input);
        let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "sockets: {sockets}: {status:?}");
        let logs = logs.await.unwrap();
        let expected = if sockets {
            "stdin and stdout are sockets: non-blocking"
        } else {
            "using the non-blocking Linux pipe transport"
        };
        assert!(logs.contains(expected), "sockets: {sockets}: {logs}");
    }
}

/// The two ways a client talks to the server: the 2025-11-25 `initialize` handshake, or 2026-07-28
/// stateless requests that carry the protocol version in `_meta`.
#[derive(Debug, Clone, Copy)]
enum Era {
    Initialize,
    Stateless,
}

impl Era {
    /// Opens the session (a stateless session needs nothing).
    async fn open(
        self,
        stdin: &mut (impl tokio::io::AsyncWrite + Unpin),
        stdout: &mut tokio::io::Lines<BufReader<impl tokio::io::AsyncRead + Unpin>>,
    ) {
        if let Era::Initialize = self {
            initialize(stdin).await;
            response(stdout, 1).await;
        }
    }

    /// A request line; a stateless one names the protocol version in `_meta`.
    fn request(self, id: i64, method: &str, mut params: Value) -> Vec<u8> {
        if let Era::Stateless = self {
            params["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}
            });
        }
        line(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
    }

    fn get_customer(self, id: i64, reference: &str) -> Vec<u8> {
        self.request(
            id,
            "tools/call",
            json!({"name": "get_customer", "arguments": {"reference": reference}}),
        )
    }
}

/// The next answer on stdout (a message without a method), whatever its id, or none.
async fn next_answer(
    stdout: &mut tokio::io::Lines<BufReader<impl tokio::io::AsyncRead + Unpin>>,
) -> Value {
    loop {
        let text = tokio::time::timeout(Duration::from_secs(10), stdout.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("stdout open");
        let msg: Value = serde_json::from_str(&text).unwrap();
        if msg.get("method").is_none() {
            return msg;
        }
    }
}

/// The code and id of an error answer.
fn refusal(answer: &Value) -> (i64, Value) {
    let code = answer["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("{answer}"));
    (code, answer["id"].clone())
}

#[tokio::test]
async fn lines_the_server_cannot_process_get_the_answers_json_rpc_prescribes() {
    let upstream = support::upstream().await;
    for era in [Era::Initialize, Era::Stateless] {
        let home = Home::new();
        let mut child = spawn(&upstream.uri(), &home);
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        era.open(&mut stdin, &mut stdout).await;
        let deep = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{{\"name\":\"get_customer\",\"arguments\":{{\"reference\":{}{}}}}}}}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let lines: [&[u8]; 8] = [
            b"this is not json\n",
            b"[{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}]\n",
            b"42\n",
            b"\"tools/list\"\n",
            b"{\"jsonrpc\":\"2.0\",\"id\":5}\n",
            deep.as_bytes(),
            b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}\n",
            b"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"tools/list\"}\n",
        ];
        for bytes in lines {
            stdin.write_all(bytes).await.unwrap();
        }
        stdin
            .write_all(&era.request(9, "tools/list", json!({})))
            .await
            .unwrap();
        stdin.flush().await.unwrap();

        let mut answers = Vec::new();
        loop {
            let answer = next_answer(&mut stdout).await;
            if answer["id"] == 9 {
                assert!(answer["result"]["tools"].is_array(), "{era:?}: {answer}");
                break;
            }
            answers.push(refusal(&answer));
        }
        let expected = [
            (-32700, Value::Null),
            (-32600, Value::Null),
            (-32600, Value::Null),
            (-32600, Value::Null),
            (-32600, json!(5)),
            (-32700, Value::Null),
            (-32602, json!(7)),
            (-32600, Value::Null),
        ];
        assert_eq!(answers, expected, "{era:?}");
        drop(stdin);
        let status = tokio::time::timeout(Duration::from_secs(5), child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(status.success(), "{era:?}: {status:?}");
    }
}

#[tokio::test]
async fn notifications_never_get_an_answer_even_when_they_cannot_be_read() {
    let upstream = support::upstream().await;
    for era in [Era::Initialize, Era::Stateless] {
        let home = Home::new();
        let mut child = spawn(&upstream.uri(), &home);
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        era.open(&mut stdin, &mut stdout).await;
        stdin
            .write_all(&era.request(2, "tools/list", json!({})))
            .await
            .unwrap();
        assert_eq!(response(&mut stdout, 2).await["id"], 2);
        for notification in [
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": [1]}),
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": {}}}),
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 77}}),
            json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": "lots"}}),
            json!({"jsonrpc": "2.0", "method": "notifications/vendor/whatever"}),
        ] {
            stdin.write_all(&line(notification)).await.unwrap();
        }
        stdin
            .write_all(&era.request(3, "tools/list", json!({})))
            .await
            .unwrap();
        stdin.flush().await.unwrap();
        let next = next_answer(&mut stdout).await;
        assert_eq!(
            next["id"], 3,
            "{era:?}: the first answer after the notifications: {next}"
        );
    }
}

/// An upstream that holds every request until the test lets it answer, so a call stays in flight
/// exactly as long as a test needs. Each request read is handed over with the means to answer it.
struct HeldUpstream {
    url: String,
    requests: tokio::sync::mpsc::UnboundedReceiver<HeldRequest>,
}

struct HeldRequest {
    /// The request line's target, e.g. `/v1/sdk/customers/cus_A`.
    target: String,
    answer: tokio::sync::oneshot::Sender<()>,
}

impl HeldUpstream {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, requests) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(Self::serve(stream, tx.clone()));
            }
        });
        Self { url, requests }
    }

    /// Answers each GET on the connection with a customer named after its path, once released.
    async fn serve(
        stream: tokio::net::TcpStream,
        requests: tokio::sync::mpsc::UnboundedSender<HeldRequest>,
    ) {
        let mut stream = BufReader::new(stream);
        loop {
            let mut head = String::new();
            loop {
                let mut header = String::new();
                match stream.read_line(&mut header).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) if header == "\r\n" => break,
                    Ok(_) => head.push_str(&header),
                }
            }
            let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
            let (answer, released) = tokio::sync::oneshot::channel();
            let reference = target.rsplit('/').next().unwrap_or_default().to_owned();
            if requests.send(HeldRequest { target, answer }).is_err() || released.await.is_err() {
                return;
            }
            let body = json!({"reference": reference, "email": format!("{reference}@acme.test"), "name": "Held"})
                .to_string();
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.get_mut().write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    /// The next request the server sends.
    async fn next(&mut self) -> HeldRequest {
        tokio::time::timeout(Duration::from_secs(10), self.requests.recv())
            .await
            .expect("a request reaches the upstream")
            .unwrap()
    }
}

#[tokio::test]
async fn a_request_whose_id_is_in_flight_is_refused_and_the_id_is_free_once_answered() {
    for era in [Era::Initialize, Era::Stateless] {
        let mut upstream = HeldUpstream::start().await;
        let home = Home::new();
        let mut child = spawn(&upstream.url, &home);
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        era.open(&mut stdin, &mut stdout).await;
        stdin
            .write_all(&era.get_customer(2, "cus_FIRST"))
            .await
            .unwrap();
        let first = upstream.next().await;
        assert_eq!(first.target, "/v1/sdk/customers/cus_FIRST");

        // The first call is in flight: a second request under its id is refused, not run.
        stdin
            .write_all(&era.get_customer(2, "cus_DUPLICATE"))
            .await
            .unwrap();
        let refused = next_answer(&mut stdout).await;
        assert_eq!(refusal(&refused), (-32600, json!(2)), "{era:?}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("id 2 is already in use")),
            "{era:?}: {refused}"
        );

        // The first call still gets its own answer.
        first.answer.send(()).unwrap();
        let answered = next_answer(&mut stdout).await;
        assert_eq!(answered["id"], 2, "{era:?}: {answered}");
        assert_eq!(
            answered["result"]["structuredContent"]["email"], "cus_FIRST@acme.test",
            "{era:?}: {answered}"
        );

        // Answered, the id may be used again.
        stdin
            .write_all(&era.get_customer(2, "cus_AGAIN"))
            .await
            .unwrap();
        let again = upstream.next().await;
        assert_eq!(
            again.target, "/v1/sdk/customers/cus_AGAIN",
            "{era:?}: the duplicate never reached the upstream"
        );
        again.answer.send(()).unwrap();
        let answered = next_answer(&mut stdout).await;
        assert_eq!(
            answered["result"]["structuredContent"]["email"], "cus_AGAIN@acme.test",
            "{era:?}: {answered}"
        );
    }
}

#[tokio::test]
async fn cancelling_a_request_frees_its_id_and_its_late_answer_never_takes_the_ids_next_use() {
    for era in [Era::Initialize, Era::Stateless] {
        let mut upstream = HeldUpstream::start().await;
        let home = Home::new();
        let mut child = spawn(&upstream.url, &home);
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        era.open(&mut stdin, &mut stdout).await;
        stdin
            .write_all(&era.get_customer(4, "cus_CANCELLED"))
            .await
            .unwrap();
        let cancelled = upstream.next().await;

        // Cancel it and reuse its id at once, before the cancelled call has wound down.
        let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 4, "reason": "changed my mind"}});
        stdin.write_all(&line(cancel)).await.unwrap();
        stdin
            .write_all(&era.get_customer(4, "cus_NEXT"))
            .await
            .unwrap();
        let next = upstream.next().await;
        assert_eq!(next.target, "/v1/sdk/customers/cus_NEXT", "{era:?}");
        drop(cancelled);
        next.answer.send(()).unwrap();
        let answered = next_answer(&mut stdout).await;
        assert_eq!(answered["id"], 4, "{era:?}: {answered}");
        assert_eq!(
            answered["result"]["structuredContent"]["email"], "cus_NEXT@acme.test",
            "{era:?}: {answered}"
        );
    }
}

/// The tool names the binary lists over stdio with `env` set (on top of a confined home), and
/// what it logged.
async fn listed_tools(env: &[(&str, &str)]) -> (Vec<String>, String) {
    let home = Home::new();
    let mut command = home.command();
    command.envs(env.iter().copied());
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    initialize(&mut stdin).await;
    assert!(response(&mut stdout, 1).await["result"].is_object());
    stdin
        .write_all(&line(
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        ))
        .await
        .unwrap();
    let listed = response(&mut stdout, 2).await;
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success());
    let names = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    (names, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// What Claude Desktop starts the MCPB bundle with when the person fills in nothing: every
/// variable of the manifest's `env` set, to an empty string. Blank means unset: no key is the local
/// sandbox, no toolsets is all of them, no cap is no cap, and the server starts.
#[tokio::test]
async fn blank_settings_from_a_bundle_client_count_as_unset() {
    let blank = [
        ("SOLVAPAY_SECRET_KEY", ""),
        ("SOLVAPAY_TOOLSETS", ""),
        ("SOLVAPAY_READ_ONLY", ""),
        ("SOLVAPAY_ALLOW_DESTRUCTIVE", ""),
        ("SOLVAPAY_MAX_REFUND_AMOUNT", ""),
        ("SOLVAPAY_MAX_REFUND_TOTAL", " "),
        ("SOLVAPAY_MAX_CREDIT_GRANT", ""),
        ("SOLVAPAY_CONFIRM", ""),
    ];
    let (with_blanks, log) = listed_tools(&blank).await;
    let (unset, _) = listed_tools(&[]).await;
    assert_eq!(with_blanks, unset);
    assert!(with_blanks.len() > 30, "{with_blanks:?}");
    assert!(log.contains("local sandbox"), "{log}");

    // A value that is not blank is still read.
    let (customers_only, _) = listed_tools(&[("SOLVAPAY_TOOLSETS", "customers")]).await;
    assert!(!customers_only.is_empty() && customers_only.len() < unset.len());
}
