//! `solvapay-mcp serve --http`: the same server over Streamable HTTP, in both protocol eras, and
//! its stop on SIGTERM.

use serde_json::json;

use crate::support::http::{Auth, HttpServer, Session, client, stateless, tool_names};

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
        .request(
            "tools/call",
            json!({"name": "list_customers", "arguments": {}}),
        )
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
        json!({"name": "list_customers", "arguments": {}}),
    )
    .await
    .result();
    assert_eq!(again["structuredContent"]["total"], total);

    let (status, stderr) = server.terminate().await;
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
}
