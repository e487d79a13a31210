//! The hints every tool advertises, held to what the tool does. The hints are read from the server's
//! own tools/list (not from the catalog table they are derived from), and each tool is called with
//! example arguments against the local sandbox with its demo data, behind a proxy that records every
//! request the server sends:
//! - `readOnlyHint: true`: no request that can write, and nothing SolvaPay holds changes — in the
//!   default mode and under `--read-only`;
//! - `idempotentHint: true`: a second identical call is not an error and changes nothing more;
//! - `destructiveHint: false` (writes): everything that existed before is still there, unchanged.
//!
//! Every listed tool must have an example below, so a new tool cannot skip these checks.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use reqwest::Method;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, Tool};
use serde_json::{Value, json};
use solvapay_mcp::options::ServerOptions;
use solvapay_mcp::policy::ToolSelection;
use solvapay_mcp::{BillingServer, Config, SolvaPayClient};

use crate::sandbox_support::{self, Sb};
use crate::support::{self, Client, text};

// The demo data (src/sandbox/demo.rs).
const JANE: &str = "cus_A1B2C3D4";
const BOB: &str = "cus_X7Y8Z9W0";
const PRODUCT: &str = "prd_P9Q0R1S2";
const PRO_PLAN: &str = "pln_K5L6M7N8";
const FREE_PLAN: &str = "pln_F7G8H9J0";
const JANE_PURCHASE: &str = "pur_T3U4V5W6";
const JANE_PAYMENT: &str = "txn_D7E8F9G0";
/// Bob's free plan allows 100 units a period; the demo has him at 86.
const BOB_HEADROOM: i64 = 14;

/// Objects every test world adds to the demo data, for examples that need them.
struct Refs {
    /// A customer with no purchase (of a product whose default plan is free).
    newcomer: String,
    /// A product with no plans and no purchases.
    bare_product: String,
}

/// What a world holds before the call, beyond the demo data and [`Refs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    Demo,
    /// Bob has used all of his free plan's allowance.
    BobOverLimit,
}

/// One way of calling a tool.
struct Example {
    setup: Setup,
    args: fn(&Refs) -> Value,
}

const fn on_demo(args: fn(&Refs) -> Value) -> Example {
    Example {
        setup: Setup::Demo,
        args,
    }
}

/// Valid arguments for every tool; `None` for a tool nobody gave an example.
fn examples(tool: &str) -> Option<Vec<Example>> {
    let one = |args: fn(&Refs) -> Value| Some(vec![on_demo(args)]);
    match tool {
        "create_customer" => one(|_| json!({"email": "ada@example.com", "name": "Ada Lovelace"})),
        "get_customer" => one(|_| json!({"reference": JANE})),
        "list_customers" => one(|_| json!({})),
        "update_customer" => one(|_| json!({"reference": BOB, "name": "Robert"})),
        "delete_customer" => one(|_| json!({"reference": BOB})),
        "ensure_customer" => Some(vec![
            on_demo(|_| json!({"email": "ada@example.com", "name": "Ada Lovelace"})),
            on_demo(|_| json!({"email": "jane@acme.com"})),
        ]),
        "create_product" => one(|_| json!({"name": "Analytics API"})),
        "get_product" => one(|_| json!({"reference": PRODUCT})),
        "list_products" => one(|_| json!({})),
        "update_product" => {
            one(|_| json!({"reference": PRODUCT, "description": "Now with analytics"}))
        }
        "delete_product" => Some(vec![
            // Has purchases: deactivated, not removed.
            on_demo(|_| json!({"reference": PRODUCT})),
            on_demo(|r| json!({"reference": r.bare_product})),
        ]),
        "create_plan" => Some(vec![
            on_demo(|_| {
                json!({"productRef": PRODUCT, "name": "Team", "type": "recurring", "price": 9900,
                       "currency": "USD", "billingCycle": "monthly"})
            }),
            // Becomes the default plan, so the old default stops being it.
            on_demo(|_| {
                json!({"productRef": PRODUCT, "name": "Starter", "type": "recurring", "price": 0,
                       "currency": "USD", "billingCycle": "monthly", "freeUnits": 10, "default": true})
            }),
        ]),
        "get_plan" => one(|_| json!({"productRef": PRODUCT, "planRef": PRO_PLAN})),
        "list_plans" => one(|_| json!({})),
        "list_plans_for_product" => one(|_| json!({"productRef": PRODUCT})),
        "update_plan" => {
            one(|_| json!({"productRef": PRODUCT, "planRef": PRO_PLAN, "price": 5900}))
        }
        "delete_plan" => one(|_| json!({"productRef": PRODUCT, "planRef": PRO_PLAN})),
        "list_purchases" => one(|_| json!({})),
        "get_purchase" => one(|_| json!({"reference": JANE_PURCHASE})),
        "get_purchases_by_customer" => one(|_| json!({"customerRef": JANE})),
        "get_purchases_by_product" => one(|_| json!({"productRef": PRODUCT})),
        "cancel_renewal" => one(|_| json!({"purchaseRef": JANE_PURCHASE, "reason": "Downgrade"})),
        "check_limits" => Some(vec![
            on_demo(|_| json!({"customerRef": BOB, "productRef": PRODUCT})),
            on_demo(|_| json!({"customerRef": JANE, "productRef": PRODUCT})),
            // Over the limit: SolvaPay would make a checkout session if asked for one.
            Example {
                setup: Setup::BobOverLimit,
                args: |_| json!({"customerRef": BOB, "productRef": PRODUCT}),
            },
            // No purchase, free default plan: SolvaPay's limit check would enrol the customer.
            on_demo(|r| json!({"customerRef": r.newcomer, "productRef": PRODUCT})),
            // No purchase, no plan at all: the customer must buy.
            on_demo(|r| json!({"customerRef": r.newcomer, "productRef": r.bare_product})),
        ]),
        "create_checkout_session" => {
            one(|_| json!({"customerRef": BOB, "productRef": PRODUCT, "planRef": PRO_PLAN}))
        }
        "create_customer_session" => one(|_| json!({"customerRef": JANE})),
        "get_product_balance" => one(|_| json!({"productRef": PRODUCT})),
        "get_revenue_metrics" => one(|_| json!({"period": "2026-01", "byProduct": true})),
        "record_usage" => {
            one(|_| json!({"customerRef": BOB, "productRef": PRODUCT, "outcome": "success"}))
        }
        "record_bulk_usage" => one(|_| {
            let event = json!({"customerRef": BOB, "productRef": PRODUCT, "outcome": "success"});
            json!({"events": [event.clone(), event]})
        }),
        "list_transactions" => one(|_| json!({})),
        "get_transaction" => one(|_| json!({"transactionRef": JANE_PAYMENT})),
        "get_transaction_stats" => one(|_| json!({})),
        "create_refund" => one(
            |_| json!({"sourceTransactionRef": JANE_PAYMENT, "amount": 2500, "reason": "Double charge"}),
        ),
        "get_customer_balance" => one(|_| json!({"customerRef": JANE})),
        "grant_credits" => {
            one(|_| json!({"customerRef": BOB, "credits": 500, "reason": "Goodwill"}))
        }
        "reactivate_renewal" => one(|_| json!({"purchaseRef": JANE_PURCHASE})),
        "activate_plan" => {
            one(|r| json!({"customerRef": r.newcomer, "productRef": PRODUCT, "planRef": FREE_PLAN}))
        }
        _ => None,
    }
}

/// Which operator flags the server runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Default,
    ReadOnly,
}

/// A request the server sent upstream.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    body: Value,
}

impl Seen {
    /// True when the request can change SolvaPay's state. The limit check is a POST that creates
    /// nothing unless asked for a checkout session (CONTRACT.md, `check_limits`); that it enrols no
    /// customer is checked on the state, like everything else.
    fn can_write(&self) -> bool {
        match self.method {
            Method::GET | Method::HEAD => false,
            Method::POST if self.path == "/v1/sdk/limits" => {
                self.body["includeCheckoutSession"] == json!(true)
            }
            _ => true,
        }
    }
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// Forwards one request to the sandbox, recording it.
async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 64 << 20).await.unwrap();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    proxy.seen.lock().unwrap().push(Seen {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let mut upstream = proxy
        .http
        .request(parts.method, format!("{}{path_and_query}", proxy.upstream));
    for name in ["authorization", "content-type", "idempotency-key"] {
        if let Some(value) = parts.headers.get(name) {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.body(body).send().await.unwrap();
    let mut response = Response::builder().status(answer.status());
    if let Some(kind) = answer.headers().get("content-type") {
        response = response.header("content-type", kind);
    }
    response
        .body(Body::from(answer.bytes().await.unwrap()))
        .unwrap()
}

/// A recording proxy in front of `upstream`; returns its base URL and the log.
async fn recording_proxy(upstream: &str) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let proxy = Proxy {
        upstream: upstream.to_owned(),
        http: support::http(),
        seen: seen.clone(),
    };
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

/// A demo sandbox with a frozen clock, `setup` applied, and a server in `mode` reaching it through
/// a recording proxy.
struct World {
    sb: Sb,
    refs: Refs,
    seen: Arc<Mutex<Vec<Seen>>>,
    client: Client,
}

impl World {
    async fn new(mode: Mode, setup: Setup) -> Self {
        let sb = sandbox_support::start_with(solvapay_mcp::sandbox::SandboxOptions {
            demo: true,
            ..sandbox_support::memory()
        })
        .await;
        // Time stands still, so a repeated call stamps what the first one stamped.
        let clock = sb.sandbox.clock();
        clock.set(clock.now());
        let customer = json!({"email": "newcomer@example.com", "name": "Newcomer"});
        let product = json!({"name": "Bare product"});
        let refs = Refs {
            newcomer: create(&sb, "/v1/sdk/customers", customer).await["reference"]
                .as_str()
                .unwrap()
                .to_owned(),
            bare_product: create(&sb, "/v1/sdk/products", product).await["reference"]
                .as_str()
                .unwrap()
                .to_owned(),
        };
        if setup == Setup::BobOverLimit {
            let usage = json!({"customerRef": BOB, "productRef": PRODUCT, "actionType": "api_call",
                               "units": BOB_HEADROOM, "outcome": "success"});
            create(&sb, "/v1/sdk/usages", usage).await;
        }
        let (base, seen) = recording_proxy(sb.sandbox.base_url()).await;
        let mut config = Config::for_base_url(&base, Some(sb.sandbox.key())).unwrap();
        config.retry = support::fast_retries();
        let selection = ToolSelection {
            read_only: mode == Mode::ReadOnly,
            ..ToolSelection::default()
        };
        let options = ServerOptions {
            policy: selection.resolve(None).unwrap(),
            ..ServerOptions::default()
        };
        let server = BillingServer::with_options(SolvaPayClient::new(&config), options);
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let client = ().serve(client_io).await.unwrap();
        Self {
            sb,
            refs,
            seen,
            client,
        }
    }

    /// Calls `tool`; a failure fails the test (the examples are valid arguments).
    async fn call(&self, tool: &str, args: &Value, attempt: &str) -> Value {
        let Value::Object(map) = args.clone() else {
            panic!("{tool}: example arguments must be an object")
        };
        let result = self
            .client
            .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(map))
            .await
            .unwrap_or_else(|e| panic!("{tool} {args}: protocol error {e}"));
        assert_ne!(
            result.is_error,
            Some(true),
            "{tool} {args}: the {attempt} call failed: {}",
            text(&result)
        );
        result.structured_content.unwrap_or(Value::Null)
    }

    /// The requests sent upstream so far that can write.
    fn writes(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.can_write())
            .map(|s| format!("{} {} {}", s.method, s.path, s.body))
            .collect()
    }

    /// `GET path` on the sandbox itself (its answers' shapes are checked by the sandbox tests).
    async fn read(&self, path: &str) -> Value {
        let response = self
            .sb
            .http
            .get(self.sb.url(path))
            .bearer_auth(self.sb.sandbox.key())
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Everything SolvaPay holds, as records keyed `kind/reference`, read straight from the sandbox
    /// (not through the proxy). Fields that copy or total other records are left out, since those
    /// records are compared in their own right: a customer's purchases and derived status, a
    /// product's plans, default plan and revenue, a purchase's usage totals (kept as `usage/…`).
    async fn state(&self) -> BTreeMap<String, Value> {
        let mut state = BTreeMap::new();
        let mut put = |kind: &str, mut record: Value, drop: &[&str]| {
            let reference = record["reference"].as_str().unwrap().to_owned();
            let fields = record.as_object_mut().unwrap();
            for name in drop {
                fields.remove(*name);
            }
            state.insert(format!("{kind}/{reference}"), record);
        };
        let list = |body: Value, key: &str| body[key].as_array().cloned().unwrap();
        let customers = self.read("/v1/ui/customers?limit=100").await;
        for c in list(customers, "customers") {
            put("customer", c, &["purchases", "status"]);
        }
        let products = self.read("/v1/sdk/products?limit=100").await;
        for p in list(products, "products") {
            let reference = p["reference"].as_str().unwrap().to_owned();
            let plans = self
                .read(&format!("/v1/sdk/products/{reference}/plans?limit=100"))
                .await;
            for plan in list(plans, "plans") {
                put("plan", plan, &[]);
            }
            let derived = ["plans", "defaultPlanRef", "balance", "totalTransactions"];
            put("product", p, &derived);
        }
        let purchases = self.read("/v1/sdk/purchases").await;
        for p in list(purchases, "purchases") {
            let usage = json!({"reference": p["reference"], "usage": p["usage"]});
            put("usage", usage, &[]);
            put("purchase", p, &["usage"]);
        }
        let transactions = self.read("/v1/ui/transactions?limit=100").await;
        for t in list(transactions, "transactions") {
            put("transaction", t, &[]);
        }
        state
    }
}

/// `POST path` on the sandbox itself, for the world's fixtures.
async fn create(sb: &Sb, path: &str, body: Value) -> Value {
    let response = sb
        .http
        .post(sb.url(path))
        .bearer_auth(sb.sandbox.key())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "POST {path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// The records that differ between two states ("+" added, "-" removed, "~" changed).
fn differences(before: &BTreeMap<String, Value>, after: &BTreeMap<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (key, old) in before {
        match after.get(key) {
            None => out.push(format!("- {key}")),
            Some(new) if new != old => out.push(format!("~ {key}: {old} → {new}")),
            Some(_) => {}
        }
    }
    out.extend(
        after
            .keys()
            .filter(|k| !before.contains_key(*k))
            .map(|k| format!("+ {k}")),
    );
    out
}

/// The tools a server in `mode` lists, with their annotations as listed.
async fn listed(mode: Mode) -> Vec<Tool> {
    World::new(mode, Setup::Demo)
        .await
        .client
        .list_all_tools()
        .await
        .unwrap()
}

fn hint(tool: &Tool, which: fn(&rmcp::model::ToolAnnotations) -> Option<bool>) -> bool {
    let annotations = tool
        .annotations
        .as_ref()
        .unwrap_or_else(|| panic!("{} has no annotations", tool.name));
    which(annotations).unwrap_or_else(|| panic!("{} leaves a hint unset", tool.name))
}

fn read_only(tool: &Tool) -> bool {
    hint(tool, |a| a.read_only_hint)
}

fn idempotent(tool: &Tool) -> bool {
    hint(tool, |a| a.idempotent_hint)
}

fn destructive(tool: &Tool) -> bool {
    hint(tool, |a| a.destructive_hint)
}

#[tokio::test]
async fn every_listed_tool_has_example_arguments() {
    let tools = listed(Mode::Default).await;
    let missing: Vec<&str> = tools
        .iter()
        .map(|t| t.name.as_ref())
        .filter(|name| examples(name).is_none_or(|e| e.is_empty()))
        .collect();
    assert!(
        missing.is_empty(),
        "no example arguments in tests/it/annotations.rs for {missing:?}"
    );
    // The hosted 32, the four of the credits toolset and get_revenue_metrics.
    assert_eq!(tools.len(), 37);
}

#[tokio::test]
async fn read_only_tools_send_no_write_and_change_nothing() {
    for mode in [Mode::Default, Mode::ReadOnly] {
        let tools = listed(mode).await;
        let reads: Vec<&Tool> = tools.iter().filter(|t| read_only(t)).collect();
        if mode == Mode::ReadOnly {
            assert_eq!(
                reads.len(),
                tools.len(),
                "--read-only lists a tool that writes"
            );
        }
        assert!(reads.iter().any(|t| t.name == "check_limits"), "{mode:?}");
        for tool in reads {
            for example in examples(&tool.name).unwrap() {
                let world = World::new(mode, example.setup).await;
                let args = (example.args)(&world.refs);
                let before = world.state().await;
                let answer = world.call(&tool.name, &args, "first").await;
                let writes = world.writes();
                assert!(
                    writes.is_empty(),
                    "{} {args} ({mode:?}) is readOnlyHint but sent {writes:#?}\nanswer: {answer}",
                    tool.name
                );
                let changed = differences(&before, &world.state().await);
                assert!(
                    changed.is_empty(),
                    "{} {args} ({mode:?}) is readOnlyHint but changed {changed:#?}",
                    tool.name
                );
            }
        }
    }
}

#[tokio::test]
async fn idempotent_tools_repeat_without_error_or_further_effect() {
    let tools = listed(Mode::Default).await;
    for tool in tools.iter().filter(|t| idempotent(t)) {
        for example in examples(&tool.name).unwrap() {
            let world = World::new(Mode::Default, example.setup).await;
            let args = (example.args)(&world.refs);
            world.call(&tool.name, &args, "first").await;
            let once = world.state().await;
            world.call(&tool.name, &args, "repeated").await;
            let changed = differences(&once, &world.state().await);
            assert!(
                changed.is_empty(),
                "{} {args} is idempotentHint but its repeat changed {changed:#?}",
                tool.name
            );
        }
    }
}

#[tokio::test]
async fn non_destructive_writes_only_add() {
    let tools = listed(Mode::Default).await;
    let additive = tools.iter().filter(|t| !read_only(t) && !destructive(t));
    for tool in additive {
        for example in examples(&tool.name).unwrap() {
            let world = World::new(Mode::Default, example.setup).await;
            let args = (example.args)(&world.refs);
            let before = world.state().await;
            world.call(&tool.name, &args, "first").await;
            let after = world.state().await;
            // Usage totals sum the usage ledger, which recording usage adds to.
            let lost_or_changed: Vec<String> = differences(&before, &after)
                .into_iter()
                .filter(|d| !d.starts_with('+') && !d.starts_with("~ usage/"))
                .collect();
            assert!(
                lost_or_changed.is_empty(),
                "{} {args} is destructiveHint false but changed {lost_or_changed:#?}",
                tool.name
            );
        }
    }
}
