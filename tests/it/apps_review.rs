//! The MCP Apps review form for money moves, through the real binary on the demo sandbox in both
//! protocol eras: a host that declares the Apps extension sees the `ui://` forms on the three
//! tools and reads them; a first call answers with the review (nothing moved), and the form's
//! submit, carrying the token, moves the money exactly once. A replayed, altered, expired or
//! borrowed token moves nothing; a client without the extension keeps today's confirmation.

use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResult, ReadResourceRequestParams,
    ReadResourceResponse, RequestMetaObject, ResourceContents,
};
use serde_json::{Map, Value, json};

use crate::support::apps::{Connected, Host, MIME, start};
use crate::support::bin::Home;
use crate::support::eras::{ERAS, Era};

const FORMS: [(&str, &str); 3] = [
    ("cancel_renewal", "ui://solvapay/review/renewal"),
    ("create_refund", "ui://solvapay/review/refund"),
    ("grant_credits", "ui://solvapay/review/credits"),
];
/// The other view a host that renders Apps sees in the list (tests/it/apps_chart.rs).
const CHART: (&str, &str) = ("get_revenue_metrics", "ui://solvapay/metrics/revenue");

fn call(tool: &str, arguments: &Value) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_owned())
        .with_arguments(arguments.as_object().unwrap().clone())
}

/// `call` submitted from a review form: with `token` in the request's `_meta`.
fn submit(tool: &str, arguments: &Value, token: &str) -> CallToolRequestParams {
    let mut request = call(tool, arguments);
    let mut meta = RequestMetaObject::new();
    meta.0
        .0
        .insert("solvapay/reviewToken".to_owned(), Value::from(token));
    request.meta = Some(meta);
    request
}

async fn run(client: &Connected, request: CallToolRequestParams) -> CallToolResult {
    client.call_tool(request).await.unwrap()
}

/// A review result: its form (`_meta["solvapay/review"]`) and token. Fails the test otherwise.
fn review(result: &CallToolResult) -> (Value, String) {
    assert_ne!(result.is_error, Some(true), "{result:?}");
    let meta = &result.meta.as_ref().expect("a review has _meta").0;
    let token = meta["solvapay/reviewToken"].as_str().unwrap().to_owned();
    (meta["solvapay/review"].clone(), token)
}

/// The form's rows as label → value.
fn rows(form: &Value) -> Map<String, Value> {
    form["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["label"].as_str().unwrap().to_owned(), r["value"].clone()))
        .collect()
}

fn error_text(result: &CallToolResult) -> String {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    let Some(rmcp::model::ContentBlock::Text(text)) = result.content.first() else {
        panic!("no text: {result:?}");
    };
    let envelope: Value = serde_json::from_str(&text.text).unwrap();
    envelope["error"]["message"].as_str().unwrap().to_owned()
}

/// The refunds the sandbox has made.
async fn refunds(client: &Connected) -> usize {
    let list = run(client, call("list_transactions", &json!({"limit": 100}))).await;
    list.structured_content.unwrap()["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "refund")
        .count()
}

async fn credits(client: &Connected, customer: &str) -> i64 {
    let balance = run(
        client,
        call("get_customer_balance", &json!({"customerRef": customer})),
    )
    .await;
    balance.structured_content.unwrap()["credits"]
        .as_i64()
        .unwrap()
}

fn refund_of(amount: i64) -> Value {
    json!({"sourceTransactionRef": "txn_D7E8F9G0", "amount": amount})
}

#[tokio::test]
async fn a_host_that_renders_apps_sees_and_reads_the_three_review_forms() {
    for era in ERAS {
        let home = Home::new();
        let client = start(&home, era, Host::new(true), &[]).await;
        let tools = client.list_all_tools().await.unwrap();
        for tool in &tools {
            let ui = tool.meta.as_ref().and_then(|m| m.0.get("ui"));
            let expected = FORMS
                .iter()
                .chain([&CHART])
                .find(|(name, _)| *name == tool.name);
            match expected {
                Some((_, uri)) => assert_eq!(ui, Some(&json!({"resourceUri": uri})), "{era:?}"),
                None => assert_eq!(ui, None, "{era:?} {}", tool.name),
            }
        }
        let resources = client.list_all_resources().await.unwrap();
        for (tool, uri) in FORMS {
            let listed = resources.iter().find(|r| r.uri == uri).expect(uri);
            assert_eq!(listed.mime_type.as_deref(), Some(MIME), "{era:?} {tool}");
            let read = client
                .read_resource_once(ReadResourceRequestParams::new(uri))
                .await
                .unwrap();
            let ReadResourceResponse::Complete(read) = read else {
                panic!("{uri}: {read:?}");
            };
            let [
                ResourceContents::TextResourceContents {
                    uri: at,
                    mime_type,
                    text,
                    meta,
                },
            ] = read.contents.as_slice()
            else {
                panic!("{uri}: {read:?}");
            };
            assert_eq!(at, uri);
            assert_eq!(mime_type.as_deref(), Some(MIME));
            assert!(text.starts_with("<!doctype html>"), "{uri}");
            // The view side of the bridge, self-contained: no script or style from anywhere.
            for needed in [
                "ui/initialize",
                "ui/notifications/tool-result",
                "tools/call",
            ] {
                assert!(text.contains(needed), "{uri}: {needed}");
            }
            assert!(!text.contains("src=\"http"), "{uri}");
            assert_eq!(meta.as_ref().unwrap().0["ui"]["csp"], json!({}), "{uri}");
        }
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn the_tool_list_with_the_forms_is_the_hosts_own_to_cache() {
    // 2026-07-28 lists carry a cache scope: a list with the forms must not reach a plain client
    // through a shared cache, nor a plain list an Apps host.
    for (apps, scope) in [(true, CacheScope::Private), (false, CacheScope::Public)] {
        let home = Home::new();
        let host = Host::new(apps);
        let client = start(&home, Era::Stateless, host, &[]).await;
        let listed = client.list_tools(None).await.unwrap();
        let forms = listed
            .tools
            .iter()
            .filter(|t| t.meta.as_ref().is_some_and(|m| m.0.contains_key("ui")))
            .count();
        assert_eq!(
            forms,
            if apps { FORMS.len() + 1 } else { 0 },
            "apps host: {apps}"
        );
        assert_eq!(listed.cache_scope, Some(scope), "apps host: {apps}");
        assert!(listed.ttl_ms.is_some(), "apps host: {apps}");
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn a_refund_is_reviewed_first_and_made_exactly_once_on_submit() {
    for era in ERAS {
        let home = Home::new();
        let host = Host::new(true);
        let client = start(&home, era, host.clone(), &[]).await;
        let first = run(&client, call("create_refund", &refund_of(1000))).await;
        let (form, token) = review(&first);
        let structured = first.structured_content.clone().unwrap();
        assert_eq!(structured["status"], "awaiting_review", "{era:?}");
        assert_eq!(structured["amount"]["amount"], 1000);
        assert_eq!(form["tool"], "create_refund");
        let rows = rows(&form);
        assert_eq!(rows["Payment"], "txn_D7E8F9G0 ($49.00)", "{rows:?}");
        assert_eq!(rows["Customer"], "Jane Smith", "{rows:?}");
        assert_eq!(rows["Refund now"], "$10.00");
        assert_eq!(rows["Refunded before"], "$0.00");
        assert_eq!(rows["Refundable after"], "$39.00");
        assert_eq!(refunds(&client).await, 0, "{era:?}: the review moved money");
        assert!(host.asked().is_empty(), "{era:?}: {:?}", host.asked());

        // A submit with other arguments than reviewed (the model raising the amount): refused.
        let tampered = run(&client, submit("create_refund", &refund_of(2000), &token)).await;
        assert!(
            error_text(&tampered).contains("review form"),
            "{tampered:?}"
        );
        // The same token on another tool: refused.
        let borrowed = run(
            &client,
            submit(
                "grant_credits",
                &json!({"customerRef": "cus_A1B2C3D4", "credits": 1000}),
                &token,
            ),
        )
        .await;
        assert!(
            error_text(&borrowed).contains("review form"),
            "{borrowed:?}"
        );
        assert_eq!(refunds(&client).await, 0, "{era:?}");

        // The person's click: the form's arguments and token. Made once.
        let done = run(&client, submit("create_refund", &form["arguments"], &token)).await;
        assert_ne!(done.is_error, Some(true), "{era:?}: {done:?}");
        assert!(done.meta.is_none(), "{done:?}");
        let made = done.structured_content.unwrap();
        assert_ne!(made["status"], "awaiting_review");
        assert!(
            made["refundReference"]
                .as_str()
                .unwrap()
                .starts_with("txn_")
        );
        assert_eq!(refunds(&client).await, 1, "{era:?}");

        // A second click: refused, nothing more moved.
        let again = run(&client, submit("create_refund", &form["arguments"], &token)).await;
        assert!(
            error_text(&again).contains("already submitted"),
            "{again:?}"
        );
        assert_eq!(refunds(&client).await, 1, "{era:?}");
        assert!(host.asked().is_empty(), "{era:?}: {:?}", host.asked());
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn a_review_holds_for_the_payment_under_any_of_its_names_and_submits_once() {
    for era in ERAS {
        let home = Home::new();
        let client = start(&home, era, Host::new(true), &[]).await;
        // The model names the payment by the older argument name; the form submits the
        // canonical one: the same refund, bound to the same token.
        let aliased = json!({"sourceTransactionId": "txn_D7E8F9G0", "amount": 1000});
        let first = run(&client, call("create_refund", &aliased)).await;
        let (form, token) = review(&first);
        assert_eq!(
            form["arguments"]["sourceTransactionRef"], "txn_D7E8F9G0",
            "{era:?}: {form}"
        );
        let done = run(&client, submit("create_refund", &form["arguments"], &token)).await;
        assert_ne!(done.is_error, Some(true), "{era:?}: {done:?}");
        assert_eq!(refunds(&client).await, 1, "{era:?}");
        // The first call's own naming, with the spent token: refused, nothing more moved.
        let again = run(&client, submit("create_refund", &aliased, &token)).await;
        assert!(error_text(&again).contains("review form"), "{again:?}");
        assert_eq!(refunds(&client).await, 1, "{era:?}");
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn an_expired_review_moves_nothing() {
    for era in ERAS {
        let home = Home::new();
        let host = Host::new(true);
        let client = start(&home, era, host, &["--confirm-timeout-secs", "1"]).await;
        let (form, token) = review(&run(&client, call("create_refund", &refund_of(1000))).await);
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let late = run(&client, submit("create_refund", &form["arguments"], &token)).await;
        assert!(error_text(&late).contains("has expired"), "{late:?}");
        assert_eq!(refunds(&client).await, 0, "{era:?}");
        client.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn a_grant_and_a_cancellation_are_reviewed_then_made_once() {
    for era in ERAS {
        let home = Home::new();
        let host = Host::new(true);
        let client = start(&home, era, host.clone(), &[]).await;
        let jane = "cus_A1B2C3D4";
        let before = credits(&client, jane).await;
        let grant = json!({"customerRef": jane, "credits": 2500, "reason": "Goodwill"});
        let first = run(&client, call("grant_credits", &grant)).await;
        let (form, token) = review(&first);
        let rows = rows(&form);
        assert_eq!(rows["Customer"], jane);
        assert_eq!(rows["Credits"], "2500");
        assert_eq!(rows["Worth"], "$0.25");
        assert_eq!(rows["Balance after"], format!("{} credits", before + 2500));
        assert!(
            first.structured_content.unwrap()["message"]
                .as_str()
                .unwrap()
                .starts_with("Not granted yet")
        );
        assert_eq!(credits(&client, jane).await, before, "{era:?}");
        let done = run(&client, submit("grant_credits", &form["arguments"], &token)).await;
        assert_eq!(
            done.structured_content.unwrap()["balance"],
            before + 2500,
            "{era:?}"
        );
        let again = run(&client, submit("grant_credits", &form["arguments"], &token)).await;
        assert!(error_text(&again).contains("already submitted"));
        assert_eq!(credits(&client, jane).await, before + 2500, "{era:?}");

        let purchase = json!({"purchaseRef": "pur_T3U4V5W6"});
        let first = run(&client, call("cancel_renewal", &purchase)).await;
        let (form, token) = review(&first);
        assert_eq!(rows_of(&form, "Purchase"), "pur_T3U4V5W6");
        assert_eq!(rows_of(&form, "Customer"), "jane@acme.com");
        let read = run(&client, call("get_purchase", &purchase)).await;
        assert!(
            read.structured_content
                .unwrap()
                .get("cancelledAt")
                .is_none(),
            "{era:?}"
        );
        let done = run(
            &client,
            submit("cancel_renewal", &form["arguments"], &token),
        )
        .await;
        let done = done.structured_content.unwrap();
        assert_eq!(done["alreadyCancelled"], false, "{done}");
        assert!(done["cancelledAt"].is_string(), "{done}");
        let again = run(
            &client,
            submit("cancel_renewal", &form["arguments"], &token),
        )
        .await;
        assert!(error_text(&again).contains("already submitted"));
        assert!(host.asked().is_empty(), "{era:?}: {:?}", host.asked());
        client.cancel().await.unwrap();
    }
}

fn rows_of(form: &Value, label: &str) -> Value {
    rows(form)[label].clone()
}

#[tokio::test]
async fn a_host_without_apps_keeps_the_confirmation_of_today() {
    for era in ERAS {
        let home = Home::new();
        let host = Host::new(false);
        let client = start(&home, era, host.clone(), &[]).await;
        let made = run(&client, call("create_refund", &refund_of(1000))).await;
        assert_ne!(made.is_error, Some(true), "{era:?}: {made:?}");
        assert!(made.meta.is_none(), "{made:?}");
        assert_ne!(
            made.structured_content.unwrap()["status"],
            "awaiting_review"
        );
        assert_eq!(host.asked().len(), 1, "{era:?}");
        assert!(host.asked()[0].starts_with("Refund $10.00 of txn_D7E8F9G0"));
        assert_eq!(refunds(&client).await, 1, "{era:?}");
        // A token is no way around the confirmation for such a client: it is asked again.
        let with_token = run(
            &client,
            submit(
                "cancel_renewal",
                &json!({"purchaseRef": "pur_T3U4V5W6"}),
                "x",
            ),
        )
        .await;
        assert_ne!(with_token.is_error, Some(true), "{with_token:?}");
        assert_eq!(host.asked().len(), 2, "{era:?}");
        assert_eq!(
            host.asked()[1],
            "Cancel the renewal of purchase pur_T3U4V5W6?"
        );
        client.cancel().await.unwrap();
    }
}

mod over_http {
    //! Over `serve --http` (2026-07-28 requests): a review token belongs to the caller it was
    //! given to, and with replicas sharing their state it submits once across all of them.

    use serde_json::{Value, json};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer};

    use crate::credits::{CREDITS_PATH, grant, grant_keys, granted, with_balance};
    use crate::support::http::{Auth, HttpServer, STATELESS, call, client, post};
    use crate::support::postgres;

    const KEY_A: &str = "sk_test_ALICECANARY_0a1b2c3d4e";
    const KEY_B: &str = "sk_test_BOBCANARY_9z8y7x6w5v";

    /// An upstream with Jane's balance that grants.
    async fn upstream() -> MockServer {
        let upstream = with_balance().await;
        Mock::given(method("POST"))
            .and(path(CREDITS_PATH))
            .respond_with(granted(2500, 6700))
            .mount(&upstream)
            .await;
        upstream
    }

    /// `grant_credits` of 2500 from a host that renders Apps; with `token`, the form's submit.
    async fn grant_call(url: &str, auth: Auth<'_>, token: Option<&str>) -> Value {
        let mut params = call("grant_credits", grant(2500));
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": STATELESS,
            "io.modelcontextprotocol/clientCapabilities": {
                "extensions": {"io.modelcontextprotocol/ui": {"mimeTypes": [super::MIME]}}
            },
        });
        if let Some(token) = token {
            params["_meta"]["solvapay/reviewToken"] = json!(token);
        }
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
        let headers = [
            ("mcp-protocol-version", STATELESS),
            ("mcp-method", "tools/call"),
            ("mcp-name", "grant_credits"),
        ];
        post(&client(), url, auth, &headers, body.to_string())
            .await
            .result()
    }

    /// The first call: the review and its token; nothing granted.
    async fn reviewed(url: &str, auth: Auth<'_>) -> String {
        let first = grant_call(url, auth, None).await;
        assert_ne!(first["isError"], true, "{first}");
        first["_meta"]["solvapay/reviewToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn refused(result: &Value) {
        assert_eq!(result["isError"], true, "{result}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        assert!(text.contains("review form"), "{result}");
    }

    #[tokio::test]
    async fn a_review_given_to_one_caller_is_no_good_for_another() {
        let upstream = upstream().await;
        let server = HttpServer::start(&[], &[("SOLVAPAY_API_BASE_URL", &upstream.uri())]).await;
        let token = reviewed(&server.url, Auth::Bearer(KEY_A)).await;
        assert!(grant_keys(&upstream).await.is_empty());
        // Bob submits Alice's form: refused, nothing granted.
        refused(&grant_call(&server.url, Auth::Bearer(KEY_B), Some(&token)).await);
        assert!(grant_keys(&upstream).await.is_empty());
        // Alice's own submit goes through, once.
        let done = grant_call(&server.url, Auth::Bearer(KEY_A), Some(&token)).await;
        assert_eq!(done["structuredContent"]["balance"], 6700, "{done}");
        refused(&grant_call(&server.url, Auth::Bearer(KEY_A), Some(&token)).await);
        assert_eq!(grant_keys(&upstream).await.len(), 1);
    }

    #[tokio::test]
    async fn a_review_submitted_at_one_replica_is_refused_at_the_other() {
        let Some(db) = postgres::database().await else {
            return;
        };
        let upstream = upstream().await;
        let (one, two) = HttpServer::replicas(&upstream.uri(), &db.url).await;
        let token = reviewed(&one.url, Auth::Bearer(KEY_A)).await;
        let done = grant_call(&two.url, Auth::Bearer(KEY_A), Some(&token)).await;
        assert_eq!(done["structuredContent"]["balance"], 6700, "{done}");
        refused(&grant_call(&one.url, Auth::Bearer(KEY_A), Some(&token)).await);
        assert_eq!(
            grant_keys(&upstream).await.len(),
            1,
            "one grant in the deployment"
        );
    }
}
