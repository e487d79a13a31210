//! Reading SolvaPay's answers: what bends (nulls, floats, numeric strings, wrappers), what is an
//! error naming the field, and what is retried (garbled JSON on a read) or not (a wrong shape).

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, err, request_count};

const CUSTOMER: &str = "/v1/sdk/customers/cus_A1B2C3D4";

async fn answer(upstream: &MockServer, verb: &str, route: &str, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(response)
        .mount(upstream)
        .await;
}

fn get_jane() -> Value {
    json!({"reference": "cus_A1B2C3D4"})
}

#[tokio::test]
async fn a_wrong_shaped_200_is_asked_once_and_named_by_its_field() {
    let upstream = support::upstream().await;
    let body = json!({"reference": "cus_A1B2C3D4", "purchases": [
        {"reference": "pur_1", "amount": 4900},
        {"reference": "pur_2", "amount": "forty-nine"}
    ]});
    answer(
        &upstream,
        "GET",
        CUSTOMER,
        ResponseTemplate::new(200).set_body_json(body),
    )
    .await;
    let client = support::connect(&upstream.uri()).await;
    let envelope = err(&client, "get_customer", get_jane()).await;
    assert_eq!(
        request_count(&upstream).await,
        1,
        "the same answer would come back"
    );
    let error = &envelope["error"];
    assert_eq!(error["code"], "INTERNAL_ERROR");
    assert_eq!(error["field"], "purchases[1].amount", "{envelope}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("cannot be read") && message.contains("purchases[1].amount"),
        "{message}"
    );
    assert!(
        error.get("outcome").is_none(),
        "a read's outcome is never unknown: {envelope}"
    );
}

#[tokio::test]
async fn a_wrong_shaped_200_to_a_write_is_sent_once_and_not_called_unknown() {
    let upstream = support::upstream().await;
    answer(
        &upstream,
        "POST",
        "/v1/sdk/customers",
        ResponseTemplate::new(201).set_body_json(json!({"reference": ["cus_A1B2C3D4"]})),
    )
    .await;
    let client = support::connect(&upstream.uri()).await;
    let envelope = err(
        &client,
        "create_customer",
        json!({"email": "jane@acme.com"}),
    )
    .await;
    assert_eq!(request_count(&upstream).await, 1);
    assert_eq!(envelope["error"]["field"], "reference", "{envelope}");
    assert!(envelope["error"].get("outcome").is_none(), "{envelope}");
}

#[tokio::test]
async fn truncated_json_on_a_read_is_retried_and_never_outcome_unknown() {
    let upstream = support::upstream().await;
    answer(
        &upstream,
        "GET",
        CUSTOMER,
        ResponseTemplate::new(200).set_body_string(r#"{"reference":"cus_A1B2C3D4","na"#),
    )
    .await;
    let client = support::connect(&upstream.uri()).await;
    let envelope = err(&client, "get_customer", get_jane()).await;
    assert_eq!(
        request_count(&upstream).await,
        3,
        "a read asks again (two retries)"
    );
    assert!(envelope["error"].get("outcome").is_none(), "{envelope}");
    let message = envelope["error"]["message"].as_str().unwrap();
    assert!(message.contains("nothing was changed"), "{message}");
    assert!(!message.contains("may or may not"), "{message}");
}

#[tokio::test]
async fn a_read_that_keeps_failing_upstream_says_nothing_changed() {
    let upstream = support::upstream().await;
    answer(&upstream, "GET", CUSTOMER, ResponseTemplate::new(503)).await;
    let client = support::connect(&upstream.uri()).await;
    let envelope = err(&client, "get_customer", get_jane()).await;
    assert_eq!(request_count(&upstream).await, 3);
    assert_eq!(envelope["error"]["status"], 503, "{envelope}");
    assert!(envelope["error"].get("outcome").is_none(), "{envelope}");
}

#[tokio::test]
async fn a_list_with_one_bad_row_answers_the_rows_it_read_and_names_the_one_it_skipped() {
    let upstream = support::upstream().await;
    let body = json!({"data": [
        {"reference": "cus_A1B2C3D4", "name": "Jane Smith", "email": "jane@acme.com",
         "purchases": [null, {"reference": "pur_1", "amount": "4900.0", "productName": null}]},
        {"reference": "cus_X7Y8Z9W0", "name": "Bob", "purchases": [{"reference": "pur_2", "amount": {"cents": 1}}]},
        null,
        {"reference": "cus_Q1W2E3R4", "email": null, "extra": {"nested": true}}
    ], "total": "3"});
    answer(
        &upstream,
        "GET",
        "/v1/ui/customers",
        ResponseTemplate::new(200).set_body_json(body),
    )
    .await;
    let client = support::connect(&upstream.uri()).await;
    let result = support::call(&client, "list_customers", json!({})).await;
    assert_ne!(result.is_error, Some(true), "{}", support::text(&result));
    let out = result.structured_content.clone().unwrap();
    let refs: Vec<&str> = out["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["cus_A1B2C3D4", "cus_Q1W2E3R4"]);
    assert_eq!(
        out["customers"][0]["purchases"][0]["amount"]["formatted"],
        "$49.00"
    );
    let warnings = out["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{out}");
    let warning = warnings[0].as_str().unwrap();
    assert!(
        warning.contains("cus_X7Y8Z9W0") && warning.contains("`purchases[0].amount`"),
        "{warning}"
    );
    assert!(
        support::text(&result).contains("could not be read"),
        "the text says so too"
    );
}

#[tokio::test]
async fn an_answer_that_holds_no_list_is_an_error_not_no_customers() {
    let upstream = support::upstream().await;
    answer(
        &upstream,
        "GET",
        "/v1/ui/customers",
        ResponseTemplate::new(200).set_body_json(json!({"message": "ok"})),
    )
    .await;
    let client = support::connect(&upstream.uri()).await;
    let envelope = err(&client, "list_customers", json!({})).await;
    assert_eq!(request_count(&upstream).await, 1);
    assert!(
        envelope["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expected a list"),
        "{envelope}"
    );
}

/// A product's plans are picked from (the default, a price): one plan that cannot be read makes the
/// answer an error naming it, in one request (a wrong shape is not retried), never a shorter list.
#[tokio::test]
async fn a_plan_list_with_one_bad_row_is_an_error_naming_the_row() {
    let upstream = support::upstream().await;
    let body = json!({"plans": [
        {"reference": "pln_GOOD0001", "price": 4900, "currency": "usd"},
        {"reference": "pln_BAD00002", "price": {"cents": 1}}
    ], "total": 2});
    answer(
        &upstream,
        "GET",
        "/v1/sdk/products/prd_P9Q0R1S2/plans",
        ResponseTemplate::new(200).set_body_json(body),
    )
    .await;
    let client = support::connect(&upstream.uri()).await;
    let result = support::call(
        &client,
        "list_plans_for_product",
        json!({"productRef": "prd_P9Q0R1S2"}),
    )
    .await;
    assert_eq!(result.is_error, Some(true), "{}", support::text(&result));
    let text = support::text(&result);
    assert!(
        text.contains("pln_BAD00002") && text.contains("price"),
        "{text}"
    );
    let requests = upstream.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "{requests:?}");
}
