//! Bad input on every route gets the right 4xx, a NestJS body that matches the schema, and writes
//! nothing.

use reqwest::Method;
use serde_json::{Value, json};

use super::sandbox_support::start;

#[tokio::test]
async fn sandbox_bad_input_is_rejected_and_writes_nothing() {
    let sb = start().await;
    let cus = sb.customer("al@example.com", "Al").await;
    let prd = sb.product("Base").await;
    let pln = sb
        .plan(
            &prd,
            json!({"name": "Pro", "price": 500, "billingCycle": "monthly"}),
        )
        .await;
    let pur = sb.buy(&cus, &prd, &pln).await;
    let txn = sb.get("/v1/ui/transactions", "/v1/ui/transactions").await.1["transactions"][0]["reference"]
        .as_str().unwrap().to_owned();
    let before = sb.counts().await;
    let plans_path = format!("/v1/sdk/products/{prd}/plans");
    let plan_path = format!("{plans_path}/{pln}");
    let prd_path = format!("/v1/sdk/products/{prd}");
    let long = "x".repeat(300);
    let cases: Vec<(Method, &str, String, Option<Value>, u16)> = vec![
        (
            Method::POST,
            "/v1/sdk/customers",
            "/v1/sdk/customers".into(),
            Some(json!({"name": "No Email"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/customers",
            "/v1/sdk/customers".into(),
            Some(json!({"email": "not-an-email"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/customers",
            "/v1/sdk/customers".into(),
            Some(json!({"email": "a@b.co", "telephone": "12"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/customers",
            "/v1/sdk/customers".into(),
            Some(json!({"email": "a@b.co", "name": "<script>"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/customers",
            "/v1/sdk/customers".into(),
            Some(json!({"email": "a@b.co", "metadata": 3})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/customers",
            "/v1/sdk/customers".into(),
            Some(json!([1])),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/customers",
            "/v1/sdk/customers".into(),
            Some(json!({"email": "AL@example.com"})),
            409,
        ),
        (
            Method::PATCH,
            "/v1/sdk/customers/{reference}",
            format!("/v1/sdk/customers/{cus}"),
            Some(json!({"email": "bad"})),
            400,
        ),
        (
            Method::PATCH,
            "/v1/sdk/customers/{reference}",
            "/v1/sdk/customers/cus_NOPE0000".into(),
            Some(json!({"name": "X Y"})),
            404,
        ),
        (
            Method::GET,
            "/v1/sdk/customers/{reference}",
            "/v1/sdk/customers/cus_NOPE0000".into(),
            None,
            404,
        ),
        (
            Method::GET,
            "/v1/sdk/customers",
            "/v1/sdk/customers?email=nobody@example.com".into(),
            None,
            404,
        ),
        (
            Method::POST,
            "/v1/sdk/customers/customer-sessions",
            "/v1/sdk/customers/customer-sessions".into(),
            Some(json!({})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/customers/customer-sessions",
            "/v1/sdk/customers/customer-sessions".into(),
            Some(json!({"customerRef": "cus_NOPE0000"})),
            404,
        ),
        (
            Method::POST,
            "/v1/sdk/products",
            "/v1/sdk/products".into(),
            Some(json!({"name": "A"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/products",
            "/v1/sdk/products".into(),
            Some(json!({"description": "no name"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/products",
            "/v1/sdk/products".into(),
            Some(json!({"name": "Ok name", "taxBehavior": "sometimes"})),
            400,
        ),
        (
            Method::GET,
            "/v1/sdk/products",
            "/v1/sdk/products?status=deleted".into(),
            None,
            400,
        ),
        (
            Method::GET,
            "/v1/sdk/products/{productRef}",
            "/v1/sdk/products/prd_NOPE0000".into(),
            None,
            404,
        ),
        (
            Method::PUT,
            "/v1/sdk/products/{productRef}",
            prd_path.clone(),
            Some(json!({"name": long})),
            400,
        ),
        (
            Method::PUT,
            "/v1/sdk/products/{productRef}",
            "/v1/sdk/products/prd_NOPE0000".into(),
            Some(json!({"name": "Fine"})),
            404,
        ),
        (
            Method::DELETE,
            "/v1/sdk/products/{productRef}",
            "/v1/sdk/products/prd_NOPE0000".into(),
            None,
            404,
        ),
        (
            Method::POST,
            "/v1/sdk/products/{productRef}/plans",
            plans_path.clone(),
            Some(json!({"price": 100, "billingCycle": "monthly"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/products/{productRef}/plans",
            plans_path.clone(),
            Some(json!({"name": "Neg", "price": -1, "billingCycle": "monthly"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/products/{productRef}/plans",
            plans_path.clone(),
            Some(json!({"name": "Frac", "price": 10.5, "billingCycle": "monthly"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/products/{productRef}/plans",
            plans_path.clone(),
            Some(json!({"name": "No cycle", "type": "recurring", "price": 100})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/products/{productRef}/plans",
            plans_path.clone(),
            Some(json!({"name": "Bad type", "type": "lifetime"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/products/{productRef}/plans",
            plans_path.clone(),
            Some(
                json!({"name": "Euro", "price": 100, "currency": "EUR", "billingCycle": "monthly"}),
            ),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/products/{productRef}/plans",
            plans_path.clone(),
            Some(
                json!({"name": "Paid default", "price": 100, "billingCycle": "monthly", "default": true}),
            ),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/products/{productRef}/plans",
            plans_path.clone(),
            Some(json!({"name": "Zero cpu", "type": "usage-based", "creditsPerUnit": 0})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/products/{productRef}/plans",
            "/v1/sdk/products/prd_NOPE0000/plans".into(),
            Some(json!({"name": "Ok", "billingCycle": "monthly"})),
            404,
        ),
        (
            Method::GET,
            "/v1/sdk/products/{productRef}/plans",
            "/v1/sdk/products/prd_NOPE0000/plans".into(),
            None,
            404,
        ),
        (
            Method::GET,
            "/v1/sdk/products/{productRef}/plans/{planRef}",
            format!("{plans_path}/pln_NOPE0000"),
            None,
            404,
        ),
        (
            Method::PUT,
            "/v1/sdk/products/{productRef}/plans/{planRef}",
            plan_path.clone(),
            Some(json!({"limit": -5})),
            400,
        ),
        (
            Method::PUT,
            "/v1/sdk/products/{productRef}/plans/{planRef}",
            plan_path.clone(),
            Some(json!({"status": "gone"})),
            400,
        ),
        (
            Method::DELETE,
            "/v1/sdk/products/{productRef}/plans/{planRef}",
            format!("{plans_path}/pln_NOPE0000"),
            None,
            404,
        ),
        (
            Method::GET,
            "/v1/sdk/purchases",
            "/v1/sdk/purchases?status=bogus".into(),
            None,
            400,
        ),
        (
            Method::GET,
            "/v1/sdk/purchases",
            "/v1/sdk/purchases?includeFree=maybe".into(),
            None,
            400,
        ),
        (
            Method::GET,
            "/v1/sdk/purchases/{purchaseRef}",
            "/v1/sdk/purchases/pur_NOPE0000".into(),
            None,
            404,
        ),
        (
            Method::GET,
            "/v1/sdk/purchases/customer/{customerRef}",
            "/v1/sdk/purchases/customer/cus_NOPE0000".into(),
            None,
            404,
        ),
        (
            Method::GET,
            "/v1/sdk/purchases/product/{productRef}",
            "/v1/sdk/purchases/product/prd_NOPE0000".into(),
            None,
            404,
        ),
        (
            Method::POST,
            "/v1/sdk/purchases/{purchaseRef}/cancel",
            "/v1/sdk/purchases/pur_NOPE0000/cancel".into(),
            Some(json!({})),
            404,
        ),
        (
            Method::POST,
            "/v1/sdk/purchases/{purchaseRef}/cancel",
            format!("/v1/sdk/purchases/{pur}/cancel"),
            Some(json!({"reason": 5})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/purchases/{purchaseRef}/reactivate",
            format!("/v1/sdk/purchases/{pur}/reactivate"),
            None,
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/limits",
            "/v1/sdk/limits".into(),
            Some(json!({"customerRef": cus})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/limits",
            "/v1/sdk/limits".into(),
            Some(json!({"customerRef": "cus_NOPE0000", "productRef": prd})),
            404,
        ),
        (
            Method::POST,
            "/v1/sdk/limits",
            "/v1/sdk/limits".into(),
            Some(json!({"customerRef": cus, "productRef": "prd_NOPE0000"})),
            404,
        ),
        (
            Method::POST,
            "/v1/sdk/checkout-sessions",
            "/v1/sdk/checkout-sessions".into(),
            Some(json!({"productRef": prd})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/checkout-sessions",
            "/v1/sdk/checkout-sessions".into(),
            Some(json!({"customerRef": cus})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/checkout-sessions",
            "/v1/sdk/checkout-sessions".into(),
            Some(json!({"customerRef": cus, "productRef": prd, "planRef": "pln_NOPE0000"})),
            404,
        ),
        (
            Method::POST,
            "/v1/sdk/checkout-sessions",
            "/v1/sdk/checkout-sessions".into(),
            Some(
                json!({"customerRef": cus, "productRef": prd, "returnUrl": "javascript:alert(1)"}),
            ),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/usages",
            "/v1/sdk/usages".into(),
            Some(json!({"productRef": prd})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/usages",
            "/v1/sdk/usages".into(),
            Some(json!({"customerRef": cus, "units": 100001})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/usages",
            "/v1/sdk/usages".into(),
            Some(json!({"customerRef": cus, "actionType": "nap"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/usages",
            "/v1/sdk/usages".into(),
            Some(json!({"customerRef": cus, "timestamp": "2999-01-01T00:00:00Z"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sdk/usages/bulk",
            "/v1/sdk/usages/bulk".into(),
            Some(json!({"events": "nope"})),
            400,
        ),
        (
            Method::GET,
            "/v1/ui/customers",
            "/v1/ui/customers?status=vip".into(),
            None,
            400,
        ),
        (
            Method::DELETE,
            "/v1/ui/customers/{id}",
            "/v1/ui/customers/cus_NOPE0000".into(),
            None,
            404,
        ),
        (
            Method::GET,
            "/v1/ui/transactions",
            "/v1/ui/transactions?fromDate=yesterday".into(),
            None,
            400,
        ),
        (
            Method::GET,
            "/v1/ui/transactions",
            "/v1/ui/transactions?status=weird".into(),
            None,
            400,
        ),
        (
            Method::GET,
            "/v1/ui/transactions/stats",
            "/v1/ui/transactions/stats?toDate=31/12/2026".into(),
            None,
            400,
        ),
        (
            Method::GET,
            "/v1/ui/transactions/{id}",
            "/v1/ui/transactions/txn_NOPE0000".into(),
            None,
            404,
        ),
        (
            Method::POST,
            "/v1/ui/transactions/refunds",
            "/v1/ui/transactions/refunds".into(),
            Some(json!({"refundAmount": 100, "currency": "USD", "reason": "r"})),
            400,
        ),
        (
            Method::POST,
            "/v1/ui/transactions/refunds",
            "/v1/ui/transactions/refunds".into(),
            Some(
                json!({"originalTransactionId": txn, "refundAmount": 0, "currency": "USD", "reason": "r"}),
            ),
            400,
        ),
        (
            Method::POST,
            "/v1/ui/transactions/refunds",
            "/v1/ui/transactions/refunds".into(),
            Some(
                json!({"originalTransactionId": txn, "refundAmount": 501, "currency": "USD", "reason": "r"}),
            ),
            400,
        ),
        (
            Method::POST,
            "/v1/ui/transactions/refunds",
            "/v1/ui/transactions/refunds".into(),
            Some(
                json!({"originalTransactionId": txn, "refundAmount": 100, "currency": "EUR", "reason": "r"}),
            ),
            400,
        ),
        (
            Method::POST,
            "/v1/ui/transactions/refunds",
            "/v1/ui/transactions/refunds".into(),
            Some(
                json!({"originalTransactionId": "txn_NOPE0000", "refundAmount": 100, "currency": "USD", "reason": "r"}),
            ),
            404,
        ),
        (
            Method::POST,
            "/v1/sandbox/clock",
            "/v1/sandbox/clock".into(),
            Some(json!({"now": "tomorrow"})),
            400,
        ),
        (
            Method::POST,
            "/v1/sandbox/clock",
            "/v1/sandbox/clock".into(),
            Some(json!({})),
            400,
        ),
    ];
    for (method, template, path, body, expected) in cases {
        let (status, err) = sb.call(method.clone(), template, &path, body.clone()).await;
        assert_eq!(status, expected, "{method} {path} {body:?} → {err:#}");
        assert_eq!(err["statusCode"], json!(expected));
    }
    assert_eq!(sb.counts().await, before, "rejected requests wrote nothing");
    let p = sb
        .get(
            "/v1/sdk/purchases/{purchaseRef}",
            &format!("/v1/sdk/purchases/{pur}"),
        )
        .await
        .1;
    assert!(p.get("cancelledAt").is_none());
    let plan = sb
        .get("/v1/sdk/products/{productRef}/plans/{planRef}", &plan_path)
        .await
        .1;
    assert_eq!(
        (plan["limit"].clone(), plan["status"].clone()),
        (json!(0), json!("active"))
    );
    let t = sb
        .get(
            "/v1/ui/transactions/{id}",
            &format!("/v1/ui/transactions/{txn}"),
        )
        .await
        .1;
    assert_eq!(t["status"], "completed");
    assert_eq!(
        sb.get("/v1/sdk/products/{productRef}/plans", &plans_path)
            .await
            .1["total"],
        1
    );
}
