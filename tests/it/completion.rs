//! `completion/complete` through the real binary on the demo sandbox, in both protocol eras:
//! customers, products and plans by reference prefix and by name, plans among the chosen
//! product's, `hasMore`/`total` as the one read found them, nothing for an unknown argument or a
//! caller without the list tool, and a protocol error when SolvaPay cannot be read.

use std::collections::HashMap;

use rmcp::model::{CompletionContext, CompletionInfo};
use serde_json::{Value, json};

use crate::support::bin::Home;
use crate::support::eras::{Connected, ERAS, demo, protocol_error, start};

const CUSTOMERS: &str = "solvapay://customers/{reference}";
const PRODUCTS: &str = "solvapay://products/{reference}";

async fn prompt(
    client: &Connected,
    name: &str,
    argument: &str,
    value: &str,
    context: &[(&str, &str)],
) -> CompletionInfo {
    let context = (!context.is_empty()).then(|| {
        CompletionContext::with_arguments(
            context
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<HashMap<_, _>>(),
        )
    });
    client
        .complete_prompt_argument(name, argument, value, context)
        .await
        .unwrap()
}

async fn template(client: &Connected, uri: &str, value: &str) -> CompletionInfo {
    client
        .complete_resource_argument(uri, "reference", value, None)
        .await
        .unwrap()
}

/// Every value, `total` and `hasMore`, as one comparable tuple.
fn seen(info: &CompletionInfo) -> (Vec<&str>, Option<u32>, Option<bool>) {
    (
        info.values.iter().map(String::as_str).collect(),
        info.total,
        info.has_more,
    )
}

async fn tool(client: &Connected, name: &str, arguments: Value) -> Value {
    let result = client
        .call_tool(
            rmcp::model::CallToolRequestParams::new(name.to_owned())
                .with_arguments(arguments.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true), "{name}: {result:?}");
    result.structured_content.unwrap()
}

#[tokio::test]
async fn customers_complete_by_reference_prefix_and_by_name_or_email() {
    for era in ERAS {
        let (_home, client) = demo(era, &[]).await;
        let jane = (vec!["cus_A1B2C3D4"], Some(1), Some(false));
        let bob = (vec!["cus_X7Y8Z9W0"], Some(1), Some(false));
        assert_eq!(
            seen(&template(&client, CUSTOMERS, "cus_A").await),
            jane,
            "{era:?}"
        );
        assert_eq!(seen(&template(&client, CUSTOMERS, "cus_X7").await), bob);
        assert_eq!(seen(&template(&client, CUSTOMERS, "jane").await), jane);
        assert_eq!(seen(&template(&client, CUSTOMERS, "startup.io").await), bob);
        let none = (vec![], Some(0), Some(false));
        assert_eq!(seen(&template(&client, CUSTOMERS, "cus_Q").await), none);
        assert_eq!(seen(&template(&client, CUSTOMERS, "nobody").await), none);
        // Nothing typed yet: every customer (the demo has two).
        let all = template(&client, CUSTOMERS, "").await;
        assert_eq!(
            (all.values.len(), all.total, all.has_more),
            (2, Some(2), Some(false))
        );
    }
}

#[tokio::test]
async fn products_and_plans_complete_and_plans_only_among_the_chosen_products() {
    for era in ERAS {
        let (_home, client) = demo(era, &[]).await;
        let support = (vec!["prd_P9Q0R1S2"], Some(1), Some(false));
        assert_eq!(
            seen(&template(&client, PRODUCTS, "prd_P").await),
            support,
            "{era:?}"
        );
        assert_eq!(seen(&template(&client, PRODUCTS, "support").await), support);
        assert_eq!(
            seen(&prompt(&client, "onboard_customer", "product", "SUPPORT-b", &[]).await),
            support
        );
        // A second product with a plan of its own.
        let other = tool(&client, "create_product", json!({"name": "Analytics"})).await;
        let other = other["reference"].as_str().unwrap().to_owned();
        let plan = tool(
            &client,
            "create_plan",
            json!({"productRef": other, "name": "Team", "price": 900, "currency": "USD",
                   "billingCycle": "monthly"}),
        )
        .await;
        let team = plan["plan"]["reference"]
            .as_str()
            .or(plan["reference"].as_str())
            .unwrap()
            .to_owned();

        let demo_product = [("product", "prd_P9Q0R1S2")];
        let mut plans = prompt(&client, "onboard_customer", "plan", "", &demo_product).await;
        plans.values.sort();
        assert_eq!(
            seen(&plans),
            (vec!["pln_F7G8H9J0", "pln_K5L6M7N8"], Some(2), Some(false))
        );
        let pro = prompt(&client, "onboard_customer", "plan", "pro", &demo_product).await;
        assert_eq!(seen(&pro), (vec!["pln_K5L6M7N8"], Some(1), Some(false)));
        let by_prefix = prompt(&client, "onboard_customer", "plan", "pln_F", &demo_product).await;
        assert_eq!(
            seen(&by_prefix),
            (vec!["pln_F7G8H9J0"], Some(1), Some(false))
        );
        let theirs = prompt(
            &client,
            "onboard_customer",
            "plan",
            "",
            &[("product", &other)],
        )
        .await;
        assert_eq!(seen(&theirs), (vec![team.as_str()], Some(1), Some(false)));
        // The other product's plan is not among the demo product's.
        let team_there = prompt(&client, "onboard_customer", "plan", "Team", &demo_product).await;
        assert!(team_there.values.is_empty(), "{team_there:?}");
    }
}

#[tokio::test]
async fn what_is_not_completed_answers_an_empty_list() {
    for era in ERAS {
        let (_home, client) = demo(era, &[]).await;
        for info in [
            prompt(&client, "onboard_customer", "email", "ja", &[]).await,
            prompt(&client, "onboard_customer", "nope", "ja", &[]).await,
            prompt(&client, "no_such_prompt", "product", "prd_", &[]).await,
            // A plan before the product is chosen (or with a product that is no reference).
            prompt(&client, "onboard_customer", "plan", "", &[]).await,
            prompt(
                &client,
                "onboard_customer",
                "plan",
                "",
                &[("product", "../x")],
            )
            .await,
            template(&client, "solvapay://invoices/{reference}", "inv_").await,
            client
                .complete_resource_argument(CUSTOMERS, "id", "cus_", None)
                .await
                .unwrap(),
        ] {
            assert!(info.values.is_empty(), "{era:?}: {info:?}");
        }
        // Without list_customers, no customer reference leaks through completion.
        let (_home, client) = demo(era, &["--exclude-tools", "list_customers"]).await;
        let info = template(&client, CUSTOMERS, "cus_").await;
        assert!(info.values.is_empty(), "{era:?}: {info:?}");
        let info = template(&client, PRODUCTS, "prd_").await;
        assert_eq!(info.values, ["prd_P9Q0R1S2"], "{era:?}");
    }
}

#[tokio::test]
async fn a_completion_that_cannot_read_solvapay_is_a_protocol_error() {
    for era in ERAS {
        let home = Home::new();
        let client = start(
            &home,
            era,
            &[],
            &[
                ("SOLVAPAY_SECRET_KEY", "sk_test_COMPLETIONCANARY_1"),
                ("SOLVAPAY_API_BASE_URL", "http://127.0.0.1:9"),
            ],
        )
        .await;
        let error = protocol_error(
            client
                .complete_resource_argument(CUSTOMERS, "reference", "jane", None)
                .await,
        );
        assert_eq!(error.code.0, -32603, "{era:?}: {error:?}");
        assert!(
            error
                .message
                .contains("could not read customers from SolvaPay"),
            "{error:?}"
        );
        assert!(!error.message.contains("COMPLETIONCANARY"), "{error:?}");
    }
}

#[tokio::test]
async fn the_workflow_prompts_complete_their_customer_product_and_plan_arguments() {
    for era in ERAS {
        let (_home, client) = demo(era, &[]).await;
        let jane = (vec!["cus_A1B2C3D4"], Some(1), Some(false));
        let support = (vec!["prd_P9Q0R1S2"], Some(1), Some(false));
        assert_eq!(
            seen(&prompt(&client, "refund_request", "customer", "jane", &[]).await),
            jane,
            "{era:?}"
        );
        assert_eq!(
            seen(&prompt(&client, "blocked_customer", "customer", "cus_A1", &[]).await),
            jane
        );
        assert_eq!(
            seen(&prompt(&client, "month_end_usage", "customer", "acme", &[]).await),
            jane
        );
        assert_eq!(
            seen(&prompt(&client, "month_end_usage", "product", "Support", &[]).await),
            support
        );
        assert_eq!(
            seen(&prompt(&client, "blocked_customer", "product", "prd_", &[]).await),
            support
        );
        let pro = prompt(
            &client,
            "blocked_customer",
            "plan",
            "pln_K",
            &[("product", "prd_P9Q0R1S2")],
        )
        .await;
        assert_eq!(seen(&pro), (vec!["pln_K5L6M7N8"], Some(1), Some(false)));
        // Payments by reference prefix or payer name, among the newest completed payments.
        let payment = (vec!["txn_D7E8F9G0"], Some(1), Some(false));
        assert_eq!(
            seen(&prompt(&client, "refund_request", "payment", "txn_D", &[]).await),
            payment
        );
        assert_eq!(
            seen(&prompt(&client, "refund_request", "payment", "Jane", &[]).await),
            payment
        );
        let none = (vec![], Some(0), Some(false));
        assert_eq!(
            seen(&prompt(&client, "refund_request", "payment", "bob", &[]).await),
            none
        );
        // Free-text arguments are not completed.
        for (name, argument, value) in [
            ("refund_request", "reason", "dup"),
            ("month_end_usage", "month", "2026-"),
        ] {
            let info = prompt(&client, name, argument, value, &[]).await;
            assert!(
                info.values.is_empty(),
                "{era:?} {name}.{argument}: {info:?}"
            );
        }
        // Without list_transactions, no payment reference leaks through completion.
        let (_home, client) = demo(era, &["--exclude-tools", "list_transactions"]).await;
        let info = prompt(&client, "refund_request", "payment", "txn_", &[]).await;
        assert!(info.values.is_empty(), "{era:?}: {info:?}");
    }
}
