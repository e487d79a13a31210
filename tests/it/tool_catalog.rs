//! The public contract of the server: identity, instructions, every tool's name, title and hints
//! (against a table written out in this file), and its schemas (an insta snapshot reviewed like code).

use rmcp::model::Tool;

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
    // What is implemented is advertised, and nothing else (no logging, no subscriptions).
    let caps = serde_json::to_value(&info.capabilities).unwrap();
    let advertised: Vec<&String> = caps.as_object().unwrap().keys().collect();
    assert_eq!(
        advertised,
        ["completions", "prompts", "resources", "tools"],
        "{caps}"
    );
}

/// What every tool must advertise, written out here rather than read from `catalog::TOOLS`, so a
/// change to the catalog (a hint flipped, a title reworded, a tool added or dropped) fails this test
/// until it is made here too, on purpose. Exactly the 32 tools of SolvaPay's hosted server
/// (CONTRACT.md §1.2). Columns: name, title, readOnlyHint, destructiveHint, idempotentHint,
/// openWorldHint.
#[rustfmt::skip]
const EXPECTED: [(&str, &str, bool, bool, bool, bool); 32] = [
    ("cancel_renewal",           "Cancel renewal",             false, true,  true,  true),
    ("check_limits",             "Check usage limits",         true,  false, true,  true),
    ("create_checkout_session",  "Create checkout link",       false, false, false, true),
    ("create_customer",          "Create customer",            false, false, false, true),
    ("create_customer_session",  "Create billing-portal link", false, false, false, true),
    ("create_plan",              "Create plan",                false, true,  false, true),
    ("create_product",           "Create product",             false, false, false, true),
    ("create_refund",            "Refund a transaction",       false, true,  false, true),
    ("delete_customer",          "Delete customer",            false, true,  true,  true),
    ("delete_plan",              "Delete plan",                false, true,  true,  true),
    ("delete_product",           "Delete product",             false, true,  true,  true),
    ("ensure_customer",          "Find or create customer",    false, false, true,  true),
    ("get_customer",             "Get customer",               true,  false, true,  true),
    ("get_plan",                 "Get plan",                   true,  false, true,  true),
    ("get_product",              "Get product",                true,  false, true,  true),
    ("get_product_balance",      "Product revenue",            true,  false, true,  true),
    ("get_purchase",             "Get purchase",               true,  false, true,  true),
    ("get_purchases_by_customer","Customer's purchases",       true,  false, true,  true),
    ("get_purchases_by_product", "Product's purchases",        true,  false, true,  true),
    ("get_transaction",          "Get transaction",            true,  false, true,  true),
    ("get_transaction_stats",    "Transaction statistics",     true,  false, true,  true),
    ("list_customers",           "List customers",             true,  false, true,  true),
    ("list_plans",               "List plans (all products)",  true,  false, true,  true),
    ("list_plans_for_product",   "List a product's plans",     true,  false, true,  true),
    ("list_products",            "List products",              true,  false, true,  true),
    ("list_purchases",           "List purchases",             true,  false, true,  true),
    ("list_transactions",        "List transactions",          true,  false, true,  true),
    ("record_bulk_usage",        "Record usage events in bulk",false, false, false, true),
    ("record_usage",             "Record usage event",         false, false, false, true),
    ("update_customer",          "Update customer",            false, true,  true,  true),
    ("update_plan",              "Update plan",                false, true,  true,  true),
    ("update_product",           "Update product",             false, true,  true,  true),
];

/// The tools beyond the hosted 32: the `credits` toolset (SolvaPay's 2026 endpoints) and
/// `get_revenue_metrics` (composed from the reads), same columns.
#[rustfmt::skip]
const BEYOND_HOSTED: [(&str, &str, bool, bool, bool, bool); 5] = [
    ("activate_plan",            "Activate plan",              false, true,  true,  true),
    ("get_customer_balance",     "Customer credit balance",    true,  false, true,  true),
    ("get_revenue_metrics",      "Revenue metrics",            true,  false, true,  true),
    ("grant_credits",            "Grant credits",              false, true,  false, true),
    ("reactivate_renewal",       "Reactivate renewal",         false, true,  true,  true),
];

/// The listed tools, sorted: the hosted 32, then the ones beyond them.
async fn listed_apart() -> (Vec<Tool>, Vec<Tool>) {
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    let mut tools = client.list_all_tools().await.unwrap();
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    tools
        .into_iter()
        .partition(|t| !BEYOND_HOSTED.iter().any(|row| row.0 == t.name))
}

#[tokio::test]
async fn every_tool_advertises_the_expected_title_and_hints() {
    let (hosted, beyond) = listed_apart().await;
    assert_hints(&hosted, &EXPECTED);
    assert_hints(&beyond, &BEYOND_HOSTED);
}

fn assert_hints(tools: &[Tool], table: &[(&str, &str, bool, bool, bool, bool)]) {
    let listed: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    let expected: Vec<&str> = table.iter().map(|row| row.0).collect();
    assert_eq!(listed, expected);
    for (tool, &(name, title, read_only, destructive, idempotent, open_world)) in
        tools.iter().zip(table)
    {
        assert_eq!(tool.title.as_deref(), Some(title), "{name}");
        let a = tool
            .annotations
            .as_ref()
            .unwrap_or_else(|| panic!("{name} not annotated"));
        // The title is said once, on the tool (annotations.title is its pre-2025-06-18 place).
        assert_eq!(a.title, None, "{name}");
        assert_eq!(
            (
                a.read_only_hint,
                a.destructive_hint,
                a.idempotent_hint,
                a.open_world_hint
            ),
            (
                Some(read_only),
                Some(destructive),
                Some(idempotent),
                Some(open_world)
            ),
            "{name}: (readOnly, destructive, idempotent, openWorld)"
        );
    }
}

#[tokio::test]
async fn every_tool_is_described_with_closed_inputs_and_an_output_schema() {
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), EXPECTED.len() + BEYOND_HOSTED.len());
    for tool in &tools {
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
    // The hosted 32, as before; the tools beyond them have a snapshot of their own.
    let (beyond, hosted): (Vec<Tool>, Vec<Tool>) = tools
        .into_iter()
        .partition(|t| BEYOND_HOSTED.iter().any(|row| row.0 == t.name));
    insta::assert_json_snapshot!("tools_list", hosted);
    insta::assert_json_snapshot!("tools_list_beyond_hosted", beyond);
}

/// Clients that defer tools behind a search (Claude Code) find each tool by its `_meta` hint and
/// load only the few marked `alwaysLoad` with the connection.
#[tokio::test]
async fn every_tool_carries_a_search_hint_and_five_are_loaded_up_front() {
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 32 + BEYOND_HOSTED.len());
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

#[tokio::test]
async fn the_claude_desktop_bundle_lists_the_tools_the_server_lists() {
    // packaging/mcpb/manifest.json (names and first sentences) is what Claude Desktop shows before
    // it starts the server; the bundle check compares it with the release binary, this test already
    // with the test build.
    // A difference: run `bash packaging/mcpb/update-tools.sh target/debug/solvapay-mcp`.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/mcpb/manifest.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut bundled: Vec<(String, String)> = manifest["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let field = |k: &str| t[k].as_str().unwrap().to_owned();
            (field("name"), field("description"))
        })
        .collect();
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    let mut listed: Vec<(String, String)> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t: Tool| {
            // The bundle keeps the first sentence (packaging/mcpb/tools.py).
            let text = t.description.as_deref().unwrap_or_default();
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let first = text.find(". ").map_or(text.as_str(), |end| &text[..=end]);
            (t.name.into_owned(), first.to_owned())
        })
        .collect();
    bundled.sort();
    listed.sort();
    assert_eq!(
        bundled, listed,
        "run: bash packaging/mcpb/update-tools.sh target/debug/solvapay-mcp"
    );
}
