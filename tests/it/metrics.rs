//! The metrics a tool call leaves, through the real in-process server over its stdio transport,
//! read from a recorder installed on this test's thread (the server's tasks run on it too).

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use rmcp::model::CallToolRequestParams;
use serde_json::json;
use solvapay_mcp::metrics::{
    TOOL_CALL_DURATION_SECONDS, TOOL_CALLS_IN_FLIGHT, TOOL_CALLS_TOTAL, UPSTREAM_RETRIES_TOTAL,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{self, KEY, call, ok};

#[tokio::test]
async fn each_call_is_counted_by_tool_and_outcome_timed_and_its_retries_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let upstream = support::upstream().await;
    // One 503 first: the read is retried once.
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_A1B2C3D4"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"reference": "cus_A1B2C3D4", "email": "jane@acme.com"})),
        )
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_MISSING"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"statusCode": 404, "message": "Not found"})),
        )
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;

    ok(
        &client,
        "get_customer",
        json!({"reference": "cus_A1B2C3D4"}),
    )
    .await;
    let missing = call(&client, "get_customer", json!({"reference": "cus_MISSING"})).await;
    assert_eq!(missing.is_error, Some(true));
    let unknown = client
        .call_tool(CallToolRequestParams::new("drop_all_customers"))
        .await;
    assert!(unknown.is_err(), "an unknown tool is a protocol error");

    let seen: Vec<_> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            (key.name().to_owned(), labels.join(","), value)
        })
        .collect();
    let mut counters: Vec<(&str, &str, u64)> = seen
        .iter()
        .filter_map(|(name, labels, value)| match value {
            DebugValue::Counter(n) => Some((name.as_str(), labels.as_str(), *n)),
            _ => None,
        })
        .collect();
    counters.sort_unstable();
    assert_eq!(
        counters,
        [
            (TOOL_CALLS_TOTAL, "tool=get_customer,outcome=not_found", 1),
            (TOOL_CALLS_TOTAL, "tool=get_customer,outcome=ok", 1),
            (TOOL_CALLS_TOTAL, "tool=unknown,outcome=protocol_error", 1),
            (UPSTREAM_RETRIES_TOTAL, "reason=server_error", 1),
        ]
    );
    let latencies: Vec<_> = seen
        .iter()
        .filter_map(|(name, labels, value)| match value {
            DebugValue::Histogram(samples) if name == TOOL_CALL_DURATION_SECONDS => {
                Some((labels.as_str(), samples.len()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(latencies, [("tool=get_customer", 2)]);
    let in_flight = seen.iter().find_map(|(name, _, value)| match value {
        DebugValue::Gauge(g) if name == TOOL_CALLS_IN_FLIGHT => Some(g.into_inner()),
        _ => None,
    });
    assert_eq!(in_flight, Some(0.0), "every call left flight");
    for (_, labels, _) in &seen {
        assert!(
            !labels.contains("cus_") && !labels.contains(KEY) && !labels.contains("drop_all"),
            "a label carries caller data: {labels}"
        );
    }
}
