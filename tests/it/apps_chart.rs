//! The MCP Apps chart of `get_revenue_metrics`, through the real binary on the demo sandbox in
//! both protocol eras: a host that declares the Apps extension sees `ui://solvapay/metrics/revenue`
//! on the tool, finds it in `resources/list` and reads it as one self-contained HTML page; a host
//! without the extension sees no view; the tool's result is the same for both; a caller who may
//! not call the tool can neither list nor read the chart.

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ReadResourceRequestParams, ReadResourceResponse,
    ResourceContents,
};
use serde_json::{Value, json};

use crate::support::apps::{Connected, Host, MIME, start};
use crate::support::bin::Home;
use crate::support::eras::ERAS;

const CHART: &str = "ui://solvapay/metrics/revenue";
const TOOL: &str = "get_revenue_metrics";

/// `_meta.ui` of `tool` in the host's tool list.
async fn ui_of(client: &Connected, tool: &str) -> Option<Value> {
    let tools = client.list_all_tools().await.unwrap();
    let listed = tools.iter().find(|t| t.name == tool).expect(tool);
    listed.meta.as_ref().and_then(|m| m.0.get("ui")).cloned()
}

/// January on the demo data (a fixed past month: the same figures on every run).
async fn january(client: &Connected) -> CallToolResult {
    let Value::Object(args) = json!({"period": "2026-01"}) else {
        unreachable!()
    };
    client
        .call_tool(CallToolRequestParams::new(TOOL).with_arguments(args))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_apps_host_sees_the_chart_on_get_revenue_metrics_and_reads_it() {
    for era in ERAS {
        let home = Home::new();
        let client = start(&home, era, Host::new(true), &[]).await;
        assert_eq!(
            ui_of(&client, TOOL).await,
            Some(json!({"resourceUri": CHART})),
            "{era:?}"
        );

        let resources = client.list_all_resources().await.unwrap();
        let listed = resources.iter().find(|r| r.uri == CHART).expect(CHART);
        assert_eq!(listed.mime_type.as_deref(), Some(MIME), "{era:?}");
        assert_eq!(listed.name, "get_revenue_metrics-chart");

        let read = client
            .read_resource_once(ReadResourceRequestParams::new(CHART))
            .await
            .unwrap();
        let ReadResourceResponse::Complete(read) = read else {
            panic!("{era:?}: {read:?}");
        };
        let [
            ResourceContents::TextResourceContents {
                uri,
                mime_type,
                text,
                meta,
            },
        ] = read.contents.as_slice()
        else {
            panic!("{era:?}: {read:?}");
        };
        assert_eq!(uri, CHART);
        assert_eq!(mime_type.as_deref(), Some(MIME));
        assert!(text.starts_with("<!doctype html>"), "{era:?}");
        // The bridge is in the page (the resource reader put it there), and the chart draws.
        for needed in ["ui/initialize", "ui/notifications/tool-result", "<svg"] {
            assert!(text.contains(needed), "{era:?}: {needed}");
        }
        assert!(!text.contains("/*solvapay:bridge*/"), "{era:?}");
        // Read-only: it calls no tool, and loads nothing from anywhere.
        assert!(!text.contains("\"tools/call\""), "{era:?}");
        assert!(!text.contains("src=\"http"), "{era:?}");
        assert_eq!(meta.as_ref().unwrap().0["ui"]["csp"], json!({}), "{era:?}");
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn a_plain_host_sees_no_chart_and_both_get_the_same_result() {
    for era in ERAS {
        let home = Home::new();
        let apps = start(&home, era, Host::new(true), &[]).await;
        let with_chart = january(&apps).await;
        apps.cancel().await.unwrap();

        let plain = start(&home, era, Host::new(false), &[]).await;
        assert_eq!(ui_of(&plain, TOOL).await, None, "{era:?}");
        let without = january(&plain).await;
        plain.cancel().await.unwrap();

        assert_ne!(without.is_error, Some(true), "{era:?}: {without:?}");
        let usd = &without.structured_content.as_ref().unwrap()["totals"][0];
        assert_eq!(usd["mrr"]["formatted"], "$49.00", "{era:?}");
        // The same result, content and structure and `_meta`, whatever the host renders.
        assert_eq!(
            serde_json::to_value(&with_chart).unwrap(),
            serde_json::to_value(&without).unwrap(),
            "{era:?}"
        );
    }
}

#[tokio::test]
async fn without_the_tool_the_chart_is_neither_listed_nor_readable() {
    for era in ERAS {
        let home = Home::new();
        let extra = ["--exclude-tools", TOOL];
        let client = start(&home, era, Host::new(true), &extra).await;
        let resources = client.list_all_resources().await.unwrap();
        assert!(resources.iter().all(|r| r.uri != CHART), "{era:?}");
        // The review forms stay: only the excluded tool's view goes.
        assert!(
            resources
                .iter()
                .any(|r| r.uri.starts_with("ui://solvapay/review/")),
            "{era:?}"
        );
        let read = client
            .read_resource_once(ReadResourceRequestParams::new(CHART))
            .await;
        let Err(rmcp::ServiceError::McpError(error)) = read else {
            panic!("{era:?}: {read:?}");
        };
        assert_eq!(error.code.0, era.resource_not_found(), "{era:?}");
        client.cancel().await.unwrap();
    }
}
