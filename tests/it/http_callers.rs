//! Who may call over HTTP: callers with their own keys (isolated from each other, each under the
//! live-key guard its key calls for), operator tokens (their toolsets and read-only hold for list
//! and call; unknown tokens and SolvaPay keys are refused), and the start-up refusals.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support;
use crate::support::bin::Home;
use crate::support::http::{
    Auth, HttpServer, Session, call, client, new_token, run, stateless, tool_names,
};

const KEY_A: &str = "sk_test_ALICECANARY_0a1b2c3d4e";
const KEY_B: &str = "sk_test_BOBCANARY_9z8y7x6w5v";

/// An upstream that answers `list_customers` by key: A's customer to A, B's to B.
async fn upstream_by_key() -> MockServer {
    let upstream = support::upstream().await;
    for (key, reference) in [(KEY_A, "cus_ALICE"), (KEY_B, "cus_BOB")] {
        Mock::given(method("GET"))
            .and(path("/v1/ui/customers"))
            .and(header("authorization", format!("Bearer {key}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"customers": [{"reference": reference, "email": "x@x.io"}], "total": 1}),
            ))
            .mount(&upstream)
            .await;
    }
    upstream
}

#[tokio::test]
async fn two_callers_with_their_own_keys_never_see_each_others_data_or_keys() {
    let upstream = upstream_by_key().await;
    let server = HttpServer::start(
        &[],
        &[
            ("SOLVAPAY_API_BASE_URL", &upstream.uri()),
            ("RUST_LOG", "debug"),
        ],
    )
    .await;
    let http = client();
    let mut alice = Session::open(&http, &server.url, Auth::Bearer(KEY_A)).await;
    let mut bob = Session::open(&http, &server.url, Auth::ApiKey(KEY_B)).await;

    // Many calls at once, interleaved: sessions and stateless requests, both header forms.
    let rounds = (0..12).map(|i| {
        let http = &http;
        let url = server.url.as_str();
        async move {
            let (auth, expected) = match i % 2 {
                0 => (Auth::Bearer(KEY_A), "cus_ALICE"),
                _ => (Auth::ApiKey(KEY_B), "cus_BOB"),
            };
            let answer = stateless(
                http,
                url,
                auth,
                "tools/call",
                call("list_customers", json!({})),
            )
            .await
            .result();
            (expected, answer)
        }
    });
    let stateless_answers = futures::future::join_all(rounds).await;
    for (expected, answer) in &stateless_answers {
        let got = &answer["structuredContent"]["customers"][0]["reference"];
        assert_eq!(got, expected, "{answer}");
    }
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            alice.request("tools/call", call("list_customers", json!({}))),
            bob.request("tools/call", call("list_customers", json!({}))),
        );
        let (a, b) = (a.result(), b.result());
        assert_eq!(
            a["structuredContent"]["customers"][0]["reference"], "cus_ALICE",
            "{a}"
        );
        assert_eq!(
            b["structuredContent"]["customers"][0]["reference"], "cus_BOB",
            "{b}"
        );
        assert!(!a.to_string().contains("BOB") && !b.to_string().contains("ALICE"));
    }
    // Bob presenting Alice's session id still calls with his own key.
    let hijack = json!({"jsonrpc": "2.0", "id": 99, "method": "tools/call",
        "params": call("list_customers", json!({}))});
    let answer = crate::support::http::post(
        &http,
        &server.url,
        Auth::ApiKey(KEY_B),
        &[
            ("mcp-session-id", &alice.id),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        hijack.to_string(),
    )
    .await
    .result();
    assert_eq!(
        answer["structuredContent"]["customers"][0]["reference"],
        "cus_BOB"
    );

    let requests = upstream.received_requests().await.unwrap();
    let by = |key: &str| {
        requests
            .iter()
            .filter(|r| r.headers["authorization"] == format!("Bearer {key}").as_str())
            .count()
    };
    assert_eq!(by(KEY_A), 6 + 3);
    assert_eq!(by(KEY_B), 6 + 3 + 1);

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("DEBUG"), "debug logs were on: {stderr}");
    for secret in ["ALICECANARY", "BOBCANARY"] {
        assert!(!stderr.contains(secret), "a key in the logs:\n{stderr}");
    }
    assert!(stderr.contains("request admitted caller=key …"), "{stderr}");
}

#[tokio::test]
async fn a_caller_with_a_live_key_gets_the_live_key_guard_and_one_with_a_test_key_does_not() {
    let upstream = support::upstream().await;
    let server = HttpServer::start(&[], &[("SOLVAPAY_API_BASE_URL", &upstream.uri())]).await;
    let http = client();
    let list = |key| {
        stateless(
            &http,
            &server.url,
            Auth::Bearer(key),
            "tools/list",
            json!({}),
        )
    };
    let live = tool_names(&list("sk_live_LIVECANARY_12345678").await.result());
    let test = tool_names(&list(KEY_A).await.result());
    assert!(test.contains(&"create_refund".to_owned()), "{test:?}");
    assert!(!live.contains(&"create_refund".to_owned()), "{live:?}");
    assert!(live.contains(&"list_customers".to_owned()), "{live:?}");
    let refused = stateless(
        &http,
        &server.url,
        Auth::Bearer("sk_live_LIVECANARY_12345678"),
        "tools/call",
        call(
            "create_refund",
            json!({"transactionReference": "txn_1", "amount": 100}),
        ),
    )
    .await
    .json();
    assert_eq!(refused["error"]["message"], "tool not found", "{refused}");
    assert_eq!(upstream.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn operator_tokens_hold_their_toolsets_and_read_only_and_nothing_else_gets_in() {
    let home = Home::new();
    let file = home.path().join("tokens.jsonl");
    let file = file.to_str().unwrap();
    let support_token = new_token(
        &home,
        file,
        &[
            "--name",
            "support",
            "--toolsets",
            "customers",
            "--read-only",
        ],
    )
    .await;
    let billing_token = new_token(
        &home,
        file,
        &["--name", "billing", "--toolsets", "customers,payments"],
    )
    .await;
    // The file holds each token's hash, never the token.
    let stored = std::fs::read_to_string(file).unwrap();
    for token in [&support_token, &billing_token] {
        assert!(!stored.contains(token.as_str()), "{stored}");
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert!(stored.contains(&hex), "{stored}");
    }
    // A second token of the same name is refused.
    let (status, _, stderr) = run(
        &home,
        &["token", "new", "--name", "support", "--file", file],
        &[],
    )
    .await;
    assert_eq!(status.code(), Some(2), "{stderr}");

    let server = HttpServer::start_in(
        home,
        &["--sandbox", "--demo", "--tokens", file],
        &[("SOLVAPAY_SECRET_KEY", "sk_test_OPERATORCANARY_77")],
    )
    .await;
    let http = client();

    // support (2025-11-25 session): customers, reads only.
    let mut session = Session::open(&http, &server.url, Auth::Bearer(&support_token)).await;
    let tools = tool_names(&session.request("tools/list", json!({})).await.result());
    assert!(tools.contains(&"list_customers".to_owned()), "{tools:?}");
    assert!(tools.contains(&"get_customer".to_owned()), "{tools:?}");
    for absent in ["create_customer", "create_refund", "list_products"] {
        assert!(!tools.contains(&absent.to_owned()), "{absent} in {tools:?}");
    }
    let listed = session
        .request("tools/call", call("list_customers", json!({})))
        .await
        .result();
    assert_eq!(listed["isError"], false, "{listed}");
    let write = session
        .request(
            "tools/call",
            call("create_customer", json!({"email": "new@x.io"})),
        )
        .await
        .json();
    assert_eq!(write["error"]["message"], "tool not found", "{write}");

    // billing (2026-07-28): customers and payments, writes too.
    let auth = Auth::Bearer(&billing_token);
    let tools = tool_names(
        &stateless(&http, &server.url, auth, "tools/list", json!({}))
            .await
            .result(),
    );
    assert!(tools.contains(&"create_refund".to_owned()), "{tools:?}");
    assert!(tools.contains(&"create_customer".to_owned()), "{tools:?}");
    assert!(!tools.contains(&"list_products".to_owned()), "{tools:?}");
    let other = stateless(
        &http,
        &server.url,
        auth,
        "tools/call",
        call("list_products", json!({})),
    )
    .await
    .json();
    assert_eq!(other["error"]["message"], "tool not found", "{other}");

    // An unknown token, a SolvaPay key, nothing: 401, each told how to authenticate.
    for (auth, says) in [
        (
            Auth::Bearer("smt_0000000000000000"),
            "Unknown operator token",
        ),
        (
            Auth::Bearer("sk_test_OPERATORCANARY_77"),
            "does not take SolvaPay keys",
        ),
        (Auth::ApiKey(KEY_A), "does not take SolvaPay keys"),
        (Auth::None, "Authorization: Bearer smt_"),
    ] {
        let answer = stateless(&http, &server.url, auth, "tools/list", json!({})).await;
        assert_eq!(answer.status, 401, "{}", answer.body);
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(says), "{message}");
    }

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}: {stderr}");
    assert!(!stderr.contains("OPERATORCANARY") && !stderr.contains(&billing_token));
}

/// A command line, its environment, and what the refusal must name.
type Refused<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[tokio::test]
async fn http_refuses_to_start_with_a_shared_key_or_unprotected_on_a_network() {
    let home = Home::new();
    let cases: [Refused; 4] = [
        (
            &["serve", "--http", "127.0.0.1:0"],
            &[("SOLVAPAY_SECRET_KEY", "sk_test_SHAREDCANARY_55")],
            "--tokens",
        ),
        (&["serve", "--http", "0.0.0.0:0"], &[], "--allowed-host"),
        (
            &["serve", "--http", "0.0.0.0:0", "--sandbox"],
            &[],
            "loopback",
        ),
        (
            &[
                "serve",
                "--http",
                "127.0.0.1:0",
                "--tokens",
                "/nonexistent/tokens",
            ],
            &[],
            "--sandbox",
        ),
    ];
    for (args, env, says) in cases {
        let (status, _, stderr) = run(&home, args, env).await;
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("invalid configuration") && stderr.contains(says),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("SHAREDCANARY"), "{stderr}");
    }
}

#[tokio::test]
async fn a_callers_key_echoed_by_solvapay_is_scrubbed_from_that_callers_result() {
    let upstream = support::upstream().await;
    Mock::given(method("GET"))
        .and(path("/v1/ui/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "customers": [{"reference": "cus_ECHO", "email": "e@x.io", "name": format!("Bearer {KEY_A}")}],
            "total": 1
        })))
        .mount(&upstream)
        .await;
    let server = HttpServer::start(&[], &[("SOLVAPAY_API_BASE_URL", &upstream.uri())]).await;
    let http = client();
    let answer = stateless(
        &http,
        &server.url,
        Auth::Bearer(KEY_A),
        "tools/call",
        call("list_customers", json!({})),
    )
    .await;
    let result = answer.result();
    assert_eq!(
        result["structuredContent"]["customers"][0]["reference"],
        "cus_ECHO"
    );
    assert!(!answer.body.contains("ALICECANARY"), "{}", answer.body);
    assert!(answer.body.contains("[redacted]"), "{}", answer.body);
}
