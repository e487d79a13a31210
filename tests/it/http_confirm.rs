//! Confirmation over HTTP on 2026-07-28 (MRTR): a sealed confirmation belongs to the caller it was
//! asked of, and with replicas sharing their state it is good for one call across all of them.

use serde_json::{Value, json};
use wiremock::MockServer;

use crate::confirmation::deletable;
use crate::support::http::{Auth, HttpServer, STATELESS, call, client, post};
use crate::support::postgres;

const KEY_A: &str = "sk_test_ALICECANARY_0a1b2c3d4e";
const KEY_B: &str = "sk_test_BOBCANARY_9z8y7x6w5v";

async fn deletes(upstream: &MockServer) -> usize {
    let requests = upstream.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|r| r.method == wiremock::http::Method::DELETE)
        .count()
}

/// A 2026-07-28 `tools/call` of `delete_customer` from a client that declares form elicitation;
/// `answer` is the retried round's (`requestState` and the person's yes).
async fn delete_customer(url: &str, auth: Auth<'_>, answer: Option<&str>) -> Value {
    let mut params = call("delete_customer", json!({"reference": "cus_A1B2C3D4"}));
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": STATELESS,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
    });
    if let Some(state) = answer {
        params["requestState"] = json!(state);
        params["inputResponses"] =
            json!({"confirm": {"action": "accept", "content": {"confirm": true}}});
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
    let headers = [
        ("mcp-protocol-version", STATELESS),
        ("mcp-method", "tools/call"),
        ("mcp-name", "delete_customer"),
    ];
    post(&client(), url, auth, &headers, body.to_string())
        .await
        .result()
}

/// The first round: the server asks, and seals a state.
async fn asked(url: &str, auth: Auth<'_>) -> String {
    let first = delete_customer(url, auth, None).await;
    assert_eq!(first["resultType"], "input_required", "{first}");
    first["requestState"].as_str().unwrap().to_owned()
}

fn refused_as_stale(result: &Value) {
    assert_eq!(result["isError"], true, "{result}");
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("does not belong"), "{result}");
}

#[tokio::test]
async fn a_confirmation_asked_of_one_caller_is_no_good_for_another() {
    let upstream = deletable().await;
    let server = HttpServer::start(&[], &[("SOLVAPAY_API_BASE_URL", &upstream.uri())]).await;

    let state = asked(&server.url, Auth::Bearer(KEY_A)).await;
    // Bob replays Alice's sealed confirmation for the very same call: refused, nothing sent.
    let stolen = delete_customer(&server.url, Auth::Bearer(KEY_B), Some(&state)).await;
    refused_as_stale(&stolen);
    assert_eq!(deletes(&upstream).await, 0);

    // Alice's own answer still goes through, once.
    let done = delete_customer(&server.url, Auth::Bearer(KEY_A), Some(&state)).await;
    assert_ne!(done["isError"], true, "{done}");
    assert_eq!(deletes(&upstream).await, 1);
}

#[tokio::test]
async fn a_confirmation_accepted_at_one_replica_is_refused_at_the_other() {
    let Some(db) = postgres::database().await else {
        return;
    };
    let upstream = deletable().await;
    let (one, two) = HttpServer::replicas(&upstream.uri(), &db.url).await;

    let state = asked(&one.url, Auth::Bearer(KEY_A)).await;
    let done = delete_customer(&one.url, Auth::Bearer(KEY_A), Some(&state)).await;
    assert_ne!(done["isError"], true, "{done}");
    // The same yes replayed at the other replica, which shares the sealing key: spent already.
    let replayed = delete_customer(&two.url, Auth::Bearer(KEY_A), Some(&state)).await;
    refused_as_stale(&replayed);
    assert_eq!(
        deletes(&upstream).await,
        1,
        "one DELETE in the whole deployment"
    );

    // A fresh confirmation asked at one replica is answered at the other.
    let state = asked(&one.url, Auth::Bearer(KEY_A)).await;
    let done = delete_customer(&two.url, Auth::Bearer(KEY_A), Some(&state)).await;
    assert_ne!(done["isError"], true, "{done}");
    assert_eq!(deletes(&upstream).await, 2);
}
