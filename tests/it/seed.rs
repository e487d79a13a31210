//! The seed conversations (`shared/seed/000_677b5ca436a61f0a.txt`), every call with its arguments as
//! written, against the local sandbox: the onboarding part on an empty sandbox, the rest on the demo
//! data that mirrors the seed's world (Jane's Pro purchase, Bob's free usage plan, txn_D7E8F9G0).

use rmcp::model::CallToolResult;
use serde_json::{Value, json};

use crate::support::{self, Client, ok, text};

/// The one-line summary a result's text opens with (the model reads it first).
fn summary(result: &CallToolResult) -> String {
    text(result).lines().next().unwrap_or_default().to_owned()
}

/// The money field `field` of a tool output, as (minor units, formatted). The one place that knows
/// where money sits in an output.
fn money(output: &Value, field: &str) -> (i64, String) {
    let m = &output[field];
    (
        m["amount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{field}: {output}")),
        m["formatted"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Calls `tool` and returns its summary and structured content (panics on an error result).
async fn run(client: &Client, tool: &str, args: Value) -> (String, Value) {
    let result = support::call(client, tool, args).await;
    assert_ne!(result.is_error, Some(true), "{tool}: {}", text(&result));
    let output = result
        .structured_content
        .clone()
        .unwrap_or_else(|| panic!("{tool}: no structuredContent"));
    (summary(&result), output)
}

#[tokio::test]
async fn onboarding_a_customer_ensuring_one_and_creating_a_product() {
    let (_sandbox, client) = support::sandbox(false).await;

    // "Create a customer for jane@acme.com with the name "Jane Smith""
    let (said, jane) = run(
        &client,
        "create_customer",
        json!({"email": "jane@acme.com", "name": "Jane Smith"}),
    )
    .await;
    let jane_ref = jane["reference"].as_str().unwrap();
    assert!(jane_ref.starts_with("cus_"), "{jane}");
    assert_eq!(
        said,
        format!("Customer {jane_ref} — Jane Smith <jane@acme.com>")
    );
    assert_eq!(jane["email"], "jane@acme.com");
    assert_eq!(jane["name"], "Jane Smith");

    // "Make sure we have a customer for bob@startup.io — create one if they don't exist"
    let (said, first) = run(
        &client,
        "ensure_customer",
        json!({"email": "bob@startup.io", "name": "Bob"}),
    )
    .await;
    let bob_ref = first["customer"]["reference"].as_str().unwrap();
    assert_eq!(first["created"], true);
    assert_eq!(
        said,
        format!("Created new: Customer {bob_ref} — Bob <bob@startup.io>")
    );
    let (said, again) = run(
        &client,
        "ensure_customer",
        json!({"email": "bob@startup.io", "name": "Bob"}),
    )
    .await;
    assert_eq!(again["created"], false);
    assert_eq!(again["customer"]["reference"], bob_ref);
    assert_eq!(
        said,
        format!("Found existing (no duplicate created): Customer {bob_ref} — Bob <bob@startup.io>")
    );

    // "Create a product called "support-bot" for handling customer support"
    let (said, product) = run(
        &client,
        "create_product",
        json!({"name": "support-bot", "description": "Customer support automation"}),
    )
    .await;
    let product_ref = product["reference"].as_str().unwrap();
    assert!(product_ref.starts_with("prd_"), "{product}");
    assert_eq!(
        said,
        format!("Product support-bot ({product_ref}), active, 0 plan(s) listed")
    );
    assert_eq!(product["name"], "support-bot");

    // "Show me my customers": the summary names them.
    let (said, _) = run(&client, "list_customers", json!({})).await;
    assert_eq!(
        said,
        format!("2 customers of 2: Bob ({bob_ref}), Jane Smith ({jane_ref}); no more pages")
    );
}

/// The seed's calls on the demo data (src/sandbox/demo.rs), with the demo's own figures: one
/// payment in the window (Jane's Pro, $49.00 on 2026-01-15; the seed's 84 transactions and
/// $3,871.00 are a busier world than the demo's), Bob's 86 free requests of 100.
#[tokio::test]
async fn the_rest_of_the_seed_on_the_demo_data() {
    let (sandbox, client) = support::sandbox(true).await;
    let base = sandbox.base_url().to_owned();

    // Bob already exists in this world: ensure_customer finds him.
    let (said, bob) = run(
        &client,
        "ensure_customer",
        json!({"email": "bob@startup.io", "name": "Bob"}),
    )
    .await;
    assert_eq!(bob["created"], false);
    assert_eq!(bob["customer"]["reference"], "cus_X7Y8Z9W0");
    assert_eq!(
        said,
        "Found existing (no duplicate created): Customer cus_X7Y8Z9W0 — Bob <bob@startup.io>"
    );

    // "Show me transaction stats for the last 30 days"
    let (said, stats) = run(
        &client,
        "get_transaction_stats",
        json!({"fromDate": "2026-01-11", "toDate": "2026-02-11"}),
    )
    .await;
    assert_eq!(
        said,
        "2026-01-11 to 2026-02-11: 1 transaction (1 payment); by status, refunds included: \
         1 completed, 0 pending, 0 failed, 0 cancelled; gross revenue $49.00 (completed payments, \
         refunds not subtracted; get_product_balance gives a product's net)"
    );
    assert_eq!(stats["fromDate"], "2026-01-11");
    assert_eq!(stats["toDate"], "2026-02-11");
    assert_eq!(money(&stats, "totalAmount"), (4900, "$49.00".into()));
    let counts = [
        "total",
        "completedTransactions",
        "failedTransactions",
        "refundedTransactions",
    ]
    .map(|field| stats[field].as_u64());
    assert_eq!(counts, [Some(1), Some(1), Some(0), Some(0)], "{stats}");

    // "How much revenue has the support-bot product generated?"
    let (said, balance) = run(
        &client,
        "get_product_balance",
        json!({"productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    assert_eq!(
        said,
        "support-bot (prd_P9Q0R1S2): net balance $49.00 (payments less refunds and fees) over 1 transaction"
    );
    assert_eq!(balance["name"], "support-bot");
    assert_eq!(money(&balance, "balance"), (4900, "$49.00".into()));

    // "What purchases does customer cus_A1B2C3D4 have?"
    let (said, purchases) = run(
        &client,
        "get_purchases_by_customer",
        json!({"customerRef": "cus_A1B2C3D4"}),
    )
    .await;
    assert_eq!(
        said,
        "Jane Smith (cus_A1B2C3D4) has 1 purchase, 1 active: pur_T3U4V5W6 active — \
         Pro ($49.00/monthly), started 2026-01-15, next billing 2026-02-15"
    );
    assert_eq!(purchases["activeCount"], 1);
    assert_eq!(purchases["purchases"][0]["reference"], "pur_T3U4V5W6");

    // "Cancel that renewal — the customer requested a downgrade"
    let (said, cancelled) = run(
        &client,
        "cancel_renewal",
        json!({"purchaseId": "pur_T3U4V5W6", "reason": "Customer requested downgrade"}),
    )
    .await;
    assert_eq!(
        said,
        "Renewal of pur_T3U4V5W6 cancelled; status active, access until 2026-02-15T00:00:00.000Z"
    );
    assert_eq!(cancelled["status"], "active");
    assert_eq!(
        cancelled["cancellationReason"],
        "Customer requested downgrade"
    );
    assert_eq!(cancelled["accessUntil"], "2026-02-15T00:00:00.000Z");

    // "Generate a checkout link for customer cus_X7Y8Z9W0 to purchase the Pro plan"
    let (said, checkout) = run(&client, "create_checkout_session",
        json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "planRef": "pln_K5L6M7N8"})).await;
    let session = checkout["sessionId"].as_str().unwrap();
    let url = format!("{base}/customer/checkout?id={session}");
    assert_eq!(checkout["checkoutUrl"], url);
    assert_eq!(
        said,
        format!("Checkout link for cus_X7Y8Z9W0 / prd_P9Q0R1S2: {url}")
    );

    // "Refund $25 from transaction txn_D7E8F9G0 — the customer was double-charged"
    let (said, refund) = run(
        &client,
        "create_refund",
        json!({"sourceTransactionId": "txn_D7E8F9G0", "amount": 2500, "reason": "Double charge"}),
    )
    .await;
    let refund_ref = refund["refundReference"].as_str().unwrap();
    assert!(refund_ref.starts_with("txn_"), "{refund}");
    assert_ne!(refund_ref, "txn_D7E8F9G0");
    assert_eq!(
        said,
        format!(
            "Partial refund of $25.00 initiated for txn_D7E8F9G0; refund reference {refund_ref}"
        )
    );
    assert_eq!(refund["partial"], true);
    assert_eq!(money(&refund, "amount"), (2500, "$25.00".into()));
    assert_eq!(money(&refund, "originalAmount"), (4900, "$49.00".into()));
    assert_eq!(
        money(&refund, "remainingRefundable"),
        (2400, "$24.00".into())
    );

    // The refund completes on the next read: the product now holds $49.00 − $25.00.
    let (said, balance) = run(
        &client,
        "get_product_balance",
        json!({"productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    assert_eq!(
        said,
        "support-bot (prd_P9Q0R1S2): net balance $24.00 (payments less refunds and fees) over 2 transactions"
    );
    assert_eq!(money(&balance, "balance"), (2400, "$24.00".into()));
    // The stats now hold the payment and its refund: both completed, told apart by type, so no
    // one reads "2 completed, 1 refunded" as two successful payments.
    let (said, _) = run(&client, "get_transaction_stats", json!({})).await;
    assert_eq!(
        said,
        "2026-01-12 to 2026-02-11: 2 transactions (1 payment, 1 refund); by status, refunds \
         included: 2 completed, 0 pending, 0 failed, 0 cancelled; gross revenue $49.00 \
         (completed payments, refunds not subtracted; get_product_balance gives a product's net)"
    );

    // "Record that customer cus_X7Y8Z9W0 made a successful API call to product prd_P9Q0R1S2"
    let (said, usage) = run(
        &client,
        "record_usage",
        json!({"customerId": "cus_X7Y8Z9W0", "productReference": "prd_P9Q0R1S2",
        "actionType": "api_call", "units": 1, "outcome": "success"}),
    )
    .await;
    assert_eq!(usage["success"], true);
    let usage_ref = usage["reference"].as_str().unwrap();
    assert_eq!(said, format!("Usage event recorded: {usage_ref}"));

    // "Check if that customer has hit their usage limits" → 87 of 100, 13 remaining.
    let limits = |used: i64, remaining: i64| {
        format!(
            "Within limits: used {used} of 100 requests this period \
             (2026-02-01T00:00:00.000Z to 2026-03-01T00:00:00.000Z); {remaining} remaining"
        )
    };
    let check = json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2"});
    let (said, checked) = run(&client, "check_limits", check.clone()).await;
    assert_eq!(said, limits(87, 13));
    assert_eq!(checked["used"], 87, "{checked}");
    assert_eq!(checked["allowance"], 100);
    assert_eq!(checked["remaining"], 13);
    assert_eq!(checked["withinLimits"], true);

    // "Record 5 usage events in bulk for today's batch"
    let event = json!({"customerId": "cus_X7Y8Z9W0", "actionType": "api_call", "units": 1,
        "productReference": "prd_P9Q0R1S2", "outcome": "success"});
    let (said, bulk) = run(
        &client,
        "record_bulk_usage",
        json!({"events": vec![event; 5]}),
    )
    .await;
    assert_eq!(said, "5 of 5 usage events recorded, 0 duplicates");
    assert_eq!(bulk["inserted"], 5, "{bulk}");
    let (said, _) = run(&client, "check_limits", check).await;
    assert_eq!(said, limits(92, 8));

    // "Generate a billing portal link for customer cus_A1B2C3D4"
    let (said, portal) = run(
        &client,
        "create_customer_session",
        json!({"customerRef": "cus_A1B2C3D4"}),
    )
    .await;
    let session = portal["sessionId"].as_str().unwrap();
    let url = format!("{base}/customer/manage?id={session}");
    assert_eq!(portal["customerUrl"], url);
    assert_eq!(portal["customerName"], "Jane Smith");
    assert_eq!(portal["expiresInMinutes"], 15);
    assert!(
        said.starts_with("Billing portal for Jane Smith (valid 15 min, until ")
            && said.ends_with(&format!("): {url}")),
        "{said}"
    );
}

#[tokio::test]
async fn concurrent_ensure_customer_calls_create_exactly_one_customer() {
    let (_sandbox, client) = support::sandbox(false).await;
    let client = std::sync::Arc::new(client);
    let calls = (0..16).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            ok(
                &client,
                "ensure_customer",
                json!({"email": "race@startup.io", "name": "Race"}),
            )
            .await
        })
    });
    let results = futures::future::join_all(calls).await;
    let outs: Vec<serde_json::Value> = results.into_iter().map(Result::unwrap).collect();
    let created = outs.iter().filter(|o| o["created"] == true).count();
    assert_eq!(created, 1, "exactly one call creates: {outs:?}");
    let reference = &outs[0]["customer"]["reference"];
    assert!(
        outs.iter()
            .all(|o| &o["customer"]["reference"] == reference)
    );
    let list = ok(
        &client,
        "list_customers",
        json!({"search": "race@startup.io"}),
    )
    .await;
    assert_eq!(list["customers"].as_array().unwrap().len(), 1, "{list}");
}
