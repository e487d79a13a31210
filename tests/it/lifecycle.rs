//! The billing lifecycle through the real binary in local-sandbox mode (no key), over stdio, then a
//! restart on the same database: everything is still there.

use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::bin::Home;

type Client = RunningService<RoleClient, ()>;

/// The binary with no key and no data directory given: the sandbox database lives in `home`'s
/// default data directory, so a second start on the same home finds it.
async fn start(home: &Home) -> Client {
    let command = home.command().configure(|c| {
        c.env("RUST_LOG", "warn");
    });
    ().serve(TokioChildProcess::new(command).unwrap())
        .await
        .unwrap()
}

async fn call(client: &Client, tool: &str, args: Value) -> (bool, Value) {
    let result = client
        .call_tool(
            CallToolRequestParams::new(tool.to_owned())
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    (
        result.is_error == Some(true),
        result.structured_content.unwrap_or(Value::Null),
    )
}

async fn ok(client: &Client, tool: &str, args: Value) -> Value {
    let (failed, out) = call(client, tool, args).await;
    assert!(!failed, "{tool}: {out}");
    out
}

/// Opens the hosted checkout page and submits its form, as a person clicking Pay would.
async fn pay(checkout_url: &str, plan: &str) {
    let http = crate::support::http();
    let page = http.get(checkout_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Lifecycle API") && html.contains("$15.00"),
        "{html}"
    );
    let csrf = crate::sandbox_support::csrf_of(&html);
    let url = url::Url::parse(checkout_url).unwrap();
    let id = url
        .query_pairs()
        .find(|(k, _)| k == "id")
        .unwrap()
        .1
        .into_owned();
    let action = url.join("/customer/checkout").unwrap();
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("id", &id)
        .append_pair("planRef", plan)
        .append_pair("csrf", &csrf)
        .finish();
    let paid = http
        .post(action)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", url.origin().ascii_serialization())
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        paid.status(),
        200,
        "{}",
        paid.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn a_customer_buys_uses_is_refunded_and_it_all_survives_a_restart() {
    let home = Home::new();
    let client = start(&home).await;

    let cus = ok(
        &client,
        "create_customer",
        json!({"email": "ada@example.com", "name": "Ada Lovelace"}),
    )
    .await;
    let cus = cus["reference"].as_str().unwrap().to_owned();
    let prd = ok(&client, "create_product", json!({"name": "Lifecycle API"})).await;
    let prd = prd["reference"].as_str().unwrap().to_owned();
    let pln = ok(
        &client,
        "create_plan",
        json!({"productRef": prd, "name": "Pro", "type": "recurring",
        "price": 1500, "currency": "USD", "billingCycle": "monthly", "limit": 3}),
    )
    .await;
    assert_eq!(pln["price"]["formatted"], "$15.00", "{pln}");
    let pln = pln["reference"].as_str().unwrap().to_owned();

    // Before paying, the customer has no purchase: the limit check names the tool for a link.
    let before = ok(
        &client,
        "check_limits",
        json!({"customerRef": cus, "productRef": prd}),
    )
    .await;
    assert_eq!(before["withinLimits"], false, "{before}");
    assert!(
        before["nextStep"]
            .as_str()
            .unwrap()
            .contains("call create_checkout_session"),
        "{before}"
    );

    let checkout = ok(
        &client,
        "create_checkout_session",
        json!({"customerRef": cus, "productRef": prd, "planRef": pln}),
    )
    .await;
    pay(checkout["checkoutUrl"].as_str().unwrap(), &pln).await;
    let purchases = ok(
        &client,
        "get_purchases_by_customer",
        json!({"customerRef": cus}),
    )
    .await;
    assert_eq!(purchases["activeCount"], 1, "{purchases}");
    assert!(purchases["purchases"][0]["nextBillingDate"].is_string());

    let within = ok(
        &client,
        "check_limits",
        json!({"customerRef": cus, "productRef": prd}),
    )
    .await;
    assert_eq!(
        (within["withinLimits"].clone(), within["remaining"].clone()),
        (json!(true), json!(3)),
        "{within}"
    );
    for i in 0..3 {
        ok(&client, "record_usage", json!({"customerRef": cus, "productRef": prd, "outcome": "success", "requestId": format!("req-{i}")})).await;
    }
    // A repeated requestId is not counted twice.
    let again = ok(
        &client,
        "record_usage",
        json!({"customerRef": cus, "productRef": prd, "outcome": "success", "requestId": "req-2"}),
    )
    .await;
    assert_eq!(again["duplicate"], true, "{again}");
    let over = ok(
        &client,
        "check_limits",
        json!({"customerRef": cus, "productRef": prd}),
    )
    .await;
    assert_eq!(over["withinLimits"], false, "{over}");
    assert_eq!(over["used"], 3);
    assert!(
        over["nextStep"]
            .as_str()
            .unwrap()
            .contains("create_checkout_session"),
        "{over}"
    );

    // Refunds: partial, then the rest, then nothing is left.
    let txns = ok(&client, "list_transactions", json!({"status": "completed"})).await;
    let payment = txns["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "payment")
        .unwrap()
        .clone();
    let txn = payment["reference"].as_str().unwrap().to_owned();
    let partial = ok(
        &client,
        "create_refund",
        json!({"sourceTransactionRef": txn, "amount": 500, "reason": "Goodwill"}),
    )
    .await;
    assert_eq!(
        (
            partial["amount"]["formatted"].clone(),
            partial["partial"].clone()
        ),
        (json!("$5.00"), json!(true))
    );
    let rest = ok(
        &client,
        "create_refund",
        json!({"sourceTransactionRef": txn}),
    )
    .await;
    assert_eq!(
        (rest["amount"]["formatted"].clone(), rest["partial"].clone()),
        (json!("$10.00"), json!(false)),
        "{rest}"
    );
    let (failed, third) = call(
        &client,
        "create_refund",
        json!({"sourceTransactionRef": txn, "amount": 100}),
    )
    .await;
    assert!(failed, "a third refund must be refused: {third}");

    // Stats and balance add up: $15.00 paid, $15.00 refunded, $0.00 net.
    let balance = ok(&client, "get_product_balance", json!({"productRef": prd})).await;
    assert_eq!(balance["balance"]["formatted"], "$0.00", "{balance}");
    let stats = ok(&client, "get_transaction_stats", json!({})).await;
    assert_eq!(stats["refundedTransactions"], 2, "{stats}");

    client.cancel().await.unwrap();

    // Restart on the same database: everything is still there.
    let client = start(&home).await;
    let customer = ok(&client, "get_customer", json!({"reference": cus})).await;
    assert_eq!(customer["email"], "ada@example.com");
    let plans = ok(
        &client,
        "list_plans_for_product",
        json!({"productRef": prd}),
    )
    .await;
    assert_eq!(plans["plans"][0]["reference"], pln);
    let refunds = ok(&client, "list_transactions", json!({})).await;
    let kinds: Vec<&str> = refunds["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["type"].as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "refund").count(),
        2,
        "{kinds:?}"
    );
    // The full refund ended the purchase; the limit check now asks for a new purchase.
    let purchases = ok(
        &client,
        "get_purchases_by_customer",
        json!({"customerRef": cus}),
    )
    .await;
    assert_eq!(
        purchases["purchases"][0]["status"], "refunded",
        "{purchases}"
    );
    let after = ok(
        &client,
        "check_limits",
        json!({"customerRef": cus, "productRef": prd}),
    )
    .await;
    assert_eq!(after["state"], "purchase_required", "{after}");
    client.cancel().await.unwrap();
}
