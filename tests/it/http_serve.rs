//! `solvapay-mcp serve --http`: the same server over Streamable HTTP, in both protocol eras, and
//! its stop on SIGTERM.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// The key the caller of the drain test sends.
const KEY: &str = "sk_test_DRAINCANARY_5e6f7a8b";

use crate::support::http::{Auth, HttpServer, Session, call, client, stateless, tool_names};

#[tokio::test]
async fn the_sandbox_serves_both_eras_over_http_and_stops_on_sigterm() {
    let server = HttpServer::start(&["--sandbox", "--demo"], &[]).await;
    let http = client();

    let health = http.get(server.path("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // 2025-11-25: initialize, then requests carrying the session id.
    let mut session = Session::open(&http, &server.url, Auth::None).await;
    let listed = session.request("tools/list", json!({})).await.result();
    assert!(tool_names(&listed).contains(&"create_refund".to_owned()));
    let customers = session
        .request("tools/call", call("list_customers", json!({})))
        .await
        .result();
    assert_eq!(customers["isError"], false, "{customers}");
    let total = customers["structuredContent"]["total"].as_i64().unwrap();
    assert!(total > 0, "the demo sandbox has customers: {customers}");

    // 2026-07-28: stateless, `_meta` on each request; the same data.
    let discovered = stateless(&http, &server.url, Auth::None, "server/discover", json!({}))
        .await
        .result();
    assert!(
        discovered["supportedVersions"]
            .to_string()
            .contains("2026-07-28"),
        "{discovered}"
    );
    let again = stateless(
        &http,
        &server.url,
        Auth::None,
        "tools/call",
        call("list_customers", json!({})),
    )
    .await
    .result();
    assert_eq!(again["structuredContent"]["total"], total);

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
}

#[tokio::test]
async fn on_sigterm_the_call_in_flight_finishes_while_readyz_and_new_calls_say_draining() {
    let upstream = crate::support::upstream().await;
    // The call in flight waits on SolvaPay long enough to look at the server while it drains.
    Mock::given(method("GET"))
        .and(path("/v1/ui/customers"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"customers": [{"reference": "cus_SLOW", "email": "s@x.io"}], "total": 1}))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&upstream)
        .await;
    let server = HttpServer::start(&[], &[("SOLVAPAY_API_BASE_URL", &upstream.uri())]).await;
    let http = client();
    let ready = http.get(server.path("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    let url = server.url.clone();
    let in_flight = {
        let http = http.clone();
        tokio::spawn(async move {
            stateless(
                &http,
                &url,
                Auth::Bearer(KEY),
                "tools/call",
                call("list_customers", json!({})),
            )
            .await
            .result()
        })
    };
    while upstream.received_requests().await.unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.send_sigterm();
    // Draining: /readyz fails and a new call is refused, while the first one is still waiting.
    let mut readyz = http
        .get(server.path("/readyz"))
        .send()
        .await
        .unwrap()
        .status();
    while readyz == 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        readyz = http
            .get(server.path("/readyz"))
            .send()
            .await
            .unwrap()
            .status();
    }
    assert_eq!(readyz, 503);
    let refused = stateless(
        &http,
        &server.url,
        Auth::Bearer(KEY),
        "tools/call",
        call("list_customers", json!({})),
    )
    .await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(!in_flight.is_finished());

    let finished = in_flight.await.unwrap();
    assert_eq!(
        finished["structuredContent"]["customers"][0]["reference"],
        "cus_SLOW"
    );
    let (status, stderr) = server.wait().await;
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(upstream.received_requests().await.unwrap().len(), 1);
}
