//! The public contract of the server: identity, instructions, and every tool's name, schema and
//! annotations (an insta snapshot reviewed like code).

use solvapay_mcp::catalog;

use crate::support;

#[tokio::test]
async fn server_identifies_itself_not_as_rmcp() {
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    let info = client.peer_info().expect("initialized");
    let server = info.server_info.as_ref().expect("serverInfo");
    assert_eq!(server.name, "solvapay-mcp");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    let instructions = info.instructions.clone().unwrap_or_default();
    for needle in [
        "minor units",
        "2500 = $25.00",
        "cus_",
        "prd_",
        "pln_",
        "pur_",
        "txn_",
        "ensure_customer",
    ] {
        assert!(
            instructions.contains(needle),
            "instructions lack {needle:?}"
        );
    }
    // Only tools are implemented, so only tools are advertised.
    let caps = serde_json::to_value(&info.capabilities).unwrap();
    let advertised: Vec<&String> = caps.as_object().unwrap().keys().collect();
    assert_eq!(advertised, ["tools"], "{caps}");
}

#[tokio::test]
async fn every_listed_tool_is_in_the_catalog_and_fully_annotated() {
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    let tools = client.list_all_tools().await.unwrap();
    // Exactly the 32 tools of SolvaPay's hosted server (CONTRACT.md §1.2), nothing more.
    let mut listed: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    let mut documented: Vec<&str> = catalog::TOOLS.iter().map(|t| t.name).collect();
    listed.sort_unstable();
    documented.sort_unstable();
    assert_eq!(documented.len(), 32);
    assert_eq!(listed, documented);
    for tool in &tools {
        let spec =
            catalog::find(&tool.name).unwrap_or_else(|| panic!("{} has no catalog row", tool.name));
        assert_eq!(tool.title.as_deref(), Some(spec.title));
        let a = tool
            .annotations
            .as_ref()
            .unwrap_or_else(|| panic!("{} not annotated", tool.name));
        assert_eq!(a.read_only_hint, Some(spec.read_only()), "{}", tool.name);
        assert_eq!(
            a.destructive_hint,
            Some(spec.destructive_hint()),
            "{}",
            tool.name
        );
        assert_eq!(a.idempotent_hint, Some(spec.idempotent()), "{}", tool.name);
        assert_eq!(a.open_world_hint, Some(true), "{}", tool.name);
        assert!(
            tool.description.as_deref().is_some_and(|d| d.len() > 20),
            "{} undescribed",
            tool.name
        );
        assert!(
            tool.output_schema.is_some(),
            "{} has no outputSchema",
            tool.name
        );
        assert_eq!(
            tool.input_schema.get("additionalProperties"),
            Some(&serde_json::json!(false)),
            "{}",
            tool.name
        );
    }
}

#[tokio::test]
async fn tools_list_snapshot() {
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    let tools = client.list_all_tools().await.unwrap();
    insta::assert_json_snapshot!("tools_list", tools);
}

/// Clients that defer tools behind a search (Claude Code) find each tool by its `_meta` hint and
/// load only the few marked `alwaysLoad` with the connection.
#[tokio::test]
async fn every_tool_carries_a_search_hint_and_five_are_loaded_up_front() {
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 32);
    let mut hints = std::collections::BTreeSet::new();
    let mut always = Vec::new();
    for tool in &tools {
        let meta = tool
            .meta
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no _meta", tool.name));
        let hint = meta
            .0
            .get("anthropic/searchHint")
            .and_then(|h| h.as_str())
            .unwrap_or_else(|| panic!("{} has no search hint", tool.name));
        assert!(
            hint.split_whitespace().count() >= 3,
            "{}: {hint:?}",
            tool.name
        );
        assert!(
            hints.insert(hint.to_owned()),
            "{}: duplicate hint {hint:?}",
            tool.name
        );
        match meta.0.get("anthropic/alwaysLoad") {
            None => {}
            Some(serde_json::Value::Bool(true)) => always.push(tool.name.to_string()),
            Some(other) => panic!("{}: alwaysLoad is {other}, not true", tool.name),
        }
    }
    always.sort_unstable();
    assert_eq!(
        always,
        [
            "check_limits",
            "create_checkout_session",
            "ensure_customer",
            "get_purchases_by_customer",
            "record_usage",
        ]
    );
}
