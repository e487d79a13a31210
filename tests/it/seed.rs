//! The seed conversations (`shared/seed/000_677b5ca436a61f0a.txt`), every call with its arguments as
//! written, against the local sandbox: the onboarding part on an empty sandbox, the rest on the demo
//! data that mirrors the seed's world (Jane's Pro purchase, Bob's free usage plan, txn_D7E8F9G0).

use serde_json::json;

use crate::support::{self, ok, text};

#[tokio::test]
async fn onboarding_a_customer_ensuring_one_and_creating_a_product() {
    let (_sandbox, client) = support::sandbox(false).await;

    // "Create a customer for jane@acme.com with the name "Jane Smith""
    let jane = ok(
        &client,
        "create_customer",
        json!({"email": "jane@acme.com", "name": "Jane Smith"}),
    )
    .await;
    assert!(jane["reference"].as_str().unwrap().starts_with("cus_"));
    assert_eq!(jane["email"], "jane@acme.com");
    assert_eq!(jane["name"], "Jane Smith");

    // "Make sure we have a customer for bob@startup.io — create one if they don't exist"
    let first = ok(
        &client,
        "ensure_customer",
        json!({"email": "bob@startup.io", "name": "Bob"}),
    )
    .await;
    assert_eq!(first["created"], true);
    let again = support::call(
        &client,
        "ensure_customer",
        json!({"email": "bob@startup.io", "name": "Bob"}),
    )
    .await;
    let again_json = again.structured_content.clone().unwrap();
    assert_eq!(again_json["created"], false);
    assert_eq!(
        again_json["customer"]["reference"],
        first["customer"]["reference"]
    );
    assert!(text(&again).contains("no duplicate created"));

    // "Create a product called "support-bot" for handling customer support"
    let product = ok(
        &client,
        "create_product",
        json!({"name": "support-bot", "description": "Customer support automation"}),
    )
    .await;
    assert!(product["reference"].as_str().unwrap().starts_with("prd_"));
    assert_eq!(product["name"], "support-bot");
}

#[tokio::test]
async fn the_rest_of_the_seed_on_the_demo_data() {
    let (_sandbox, client) = support::sandbox(true).await;

    // Bob already exists in this world: ensure_customer finds him.
    let bob = ok(
        &client,
        "ensure_customer",
        json!({"email": "bob@startup.io", "name": "Bob"}),
    )
    .await;
    assert_eq!(bob["created"], false);
    assert_eq!(bob["customer"]["reference"], "cus_X7Y8Z9W0");

    // "Show me transaction stats for the last 30 days"
    let stats = ok(
        &client,
        "get_transaction_stats",
        json!({"fromDate": "2026-01-11", "toDate": "2026-02-11"}),
    )
    .await;
    assert_eq!(stats["fromDate"], "2026-01-11");
    assert_eq!(stats["toDate"], "2026-02-11");
    assert!(stats["total"].as_u64().unwrap() >= 1, "{stats}");
    assert!(
        stats["totalAmount"]["formatted"]
            .as_str()
            .unwrap()
            .starts_with('$'),
        "{stats}"
    );
    for field in [
        "completedTransactions",
        "failedTransactions",
        "refundedTransactions",
    ] {
        assert!(stats[field].is_u64(), "{field}: {stats}");
    }

    // "How much revenue has the support-bot product generated?"
    let balance = ok(
        &client,
        "get_product_balance",
        json!({"productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    assert_eq!(balance["name"], "support-bot");
    assert!(
        balance["balance"]["formatted"]
            .as_str()
            .unwrap()
            .starts_with('$')
    );

    // "What purchases does customer cus_A1B2C3D4 have?"
    let purchases = support::call(
        &client,
        "get_purchases_by_customer",
        json!({"customerRef": "cus_A1B2C3D4"}),
    )
    .await;
    let summary = text(&purchases);
    assert!(
        summary.contains("Jane Smith") && summary.contains("Pro ($49.00/monthly)"),
        "{summary}"
    );
    assert!(
        summary.contains("started 2026-01-15") && summary.contains("next billing 2026-02-15"),
        "{summary}"
    );
    let purchases = purchases.structured_content.unwrap();
    assert_eq!(purchases["activeCount"], 1);
    assert_eq!(purchases["purchases"][0]["reference"], "pur_T3U4V5W6");

    // "Cancel that renewal — the customer requested a downgrade"
    let cancelled = ok(
        &client,
        "cancel_renewal",
        json!({"purchaseId": "pur_T3U4V5W6", "reason": "Customer requested downgrade"}),
    )
    .await;
    assert_eq!(cancelled["status"], "active");
    assert_eq!(
        cancelled["cancellationReason"],
        "Customer requested downgrade"
    );
    assert!(
        cancelled["accessUntil"]
            .as_str()
            .unwrap()
            .starts_with("2026-02-15"),
        "{cancelled}"
    );

    // "Generate a checkout link for customer cus_X7Y8Z9W0 to purchase the Pro plan"
    let checkout = ok(&client, "create_checkout_session",
        json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "planRef": "pln_K5L6M7N8"})).await;
    assert!(
        checkout["checkoutUrl"]
            .as_str()
            .unwrap()
            .contains("/customer/checkout?id="),
        "{checkout}"
    );

    // "Refund $25 from transaction txn_D7E8F9G0 — the customer was double-charged"
    let refund = ok(
        &client,
        "create_refund",
        json!({"sourceTransactionId": "txn_D7E8F9G0", "amount": 2500, "reason": "Double charge"}),
    )
    .await;
    assert_eq!(refund["amount"]["formatted"], "$25.00");
    assert_eq!(refund["partial"], true);
    assert!(
        refund["refundReference"]
            .as_str()
            .unwrap()
            .starts_with("txn_")
    );
    assert_ne!(refund["refundReference"], "txn_D7E8F9G0");

    // "Record that customer cus_X7Y8Z9W0 made a successful API call to product prd_P9Q0R1S2"
    let usage = ok(
        &client,
        "record_usage",
        json!({"customerId": "cus_X7Y8Z9W0", "productReference": "prd_P9Q0R1S2",
        "actionType": "api_call", "units": 1, "outcome": "success"}),
    )
    .await;
    assert_eq!(usage["success"], true);

    // "Check if that customer has hit their usage limits" → 87 of 100, 13 remaining.
    let limits = ok(
        &client,
        "check_limits",
        json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    assert_eq!(limits["used"], 87, "{limits}");
    assert_eq!(limits["allowance"], 100);
    assert_eq!(limits["remaining"], 13);
    assert_eq!(limits["withinLimits"], true);

    // "Record 5 usage events in bulk for today's batch"
    let event = json!({"customerId": "cus_X7Y8Z9W0", "actionType": "api_call", "units": 1,
        "productReference": "prd_P9Q0R1S2", "outcome": "success"});
    let bulk = ok(
        &client,
        "record_bulk_usage",
        json!({"events": vec![event; 5]}),
    )
    .await;
    assert_eq!(bulk["inserted"], 5, "{bulk}");

    // "Generate a billing portal link for customer cus_A1B2C3D4"
    let portal = ok(
        &client,
        "create_customer_session",
        json!({"customerRef": "cus_A1B2C3D4"}),
    )
    .await;
    assert!(
        portal["customerUrl"]
            .as_str()
            .unwrap()
            .contains("/customer/manage?id="),
        "{portal}"
    );
    assert_eq!(portal["customerName"], "Jane Smith");
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
