//! Bad input over HTTP: each is refused the way HTTP and JSON-RPC say, and the server keeps
//! serving the next good request.

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support;
use crate::support::http::{Auth, HttpServer, STATELESS, call, client, post, stateless};

const KEY: &str = "sk_test_EDGECANARY_1a2b3c4d";

async fn upstream() -> MockServer {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/customers"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"customers": [{"reference": "cus_EDGE1", "email": "e@x.io"}], "total": 1}),
        ))
        .mount(&upstream)
        .await;
    upstream
}

/// A good call still answers, with the caller's data.
async fn still_serves(http: &reqwest::Client, server: &HttpServer) {
    let listed = stateless(
        http,
        &server.url,
        Auth::Bearer(KEY),
        "tools/call",
        call("list_customers", json!({})),
    )
    .await
    .result();
    assert_eq!(
        listed["structuredContent"]["customers"][0]["reference"], "cus_EDGE1",
        "{listed}"
    );
}

fn meta_body(method: &str, params: Value) -> String {
    let mut params = params;
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": STATELESS,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string()
}

#[tokio::test]
async fn each_bad_request_is_refused_and_the_server_keeps_serving() {
    let upstream = upstream().await;
    let server = HttpServer::start(
        &[
            "--max-body-bytes",
            "4096",
            "--allowed-origin",
            "https://app.example.com:443",
        ],
        &[("SOLVAPAY_API_BASE_URL", &upstream.uri())],
    )
    .await;
    let http = client();
    still_serves(&http, &server).await;
    let headers = [
        ("mcp-protocol-version", STATELESS),
        ("mcp-method", "tools/call"),
        ("mcp-name", "list_customers"),
    ];
    let good = meta_body("tools/call", call("list_customers", json!({})));

    // A browser page of another origin.
    let mut foreign = headers.to_vec();
    foreign.push(("origin", "https://evil.example"));
    let answer = post(
        &http,
        &server.url,
        Auth::Bearer(KEY),
        &foreign,
        good.clone(),
    )
    .await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    still_serves(&http, &server).await;
    // The allowed origin passes.
    let mut allowed = headers.to_vec();
    allowed.push(("origin", "https://app.example.com"));
    let answer = post(
        &http,
        &server.url,
        Auth::Bearer(KEY),
        &allowed,
        good.clone(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    // A body over --max-body-bytes.
    let huge = meta_body(
        "tools/call",
        call("list_customers", json!({"search": "x".repeat(8192)})),
    );
    let answer = post(&http, &server.url, Auth::Bearer(KEY), &headers, huge).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    still_serves(&http, &server).await;

    // Not JSON at all.
    let answer = post(
        &http,
        &server.url,
        Auth::Bearer(KEY),
        &headers,
        "{\"jsonrpc\": \"2.0\", ",
    )
    .await;
    assert_eq!(answer.json()["error"]["code"], -32700, "{}", answer.body);
    still_serves(&http, &server).await;

    // No credential: 401, saying how to authenticate.
    let answer = post(&http, &server.url, Auth::None, &headers, good.clone()).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.headers["www-authenticate"], "Bearer");
    let body = answer.json();
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer sk_"),
        "{body}"
    );
    still_serves(&http, &server).await;

    // A protocol version the server does not speak.
    let old = [
        ("mcp-protocol-version", "1999-01-01"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "list_customers"),
    ];
    let answer = post(&http, &server.url, Auth::Bearer(KEY), &old, good.clone()).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    still_serves(&http, &server).await;

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}: {stderr}");
}
