//! The sandbox over real HTTP: billing lifecycle, periods, usage, auth, validation, persistence.
//! Every JSON body is validated against openapi.json by `Sb::call`.

use reqwest::Method;
use serde_json::{Value, json};
use solvapay_mcp::sandbox::{DbLocation, SandboxOptions};
use time::macros::datetime;

use super::sandbox_support::{Sb, csrf_of, memory, start, start_with};

const GET: Method = Method::GET;
const POST: Method = Method::POST;

async fn limits(sb: &Sb, customer: &str, product: &str) -> Value {
    sb.ok(
        POST,
        "/v1/sdk/limits",
        "/v1/sdk/limits",
        Some(
            json!({"customerRef": customer, "productRef": product, "includeCheckoutSession": true}),
        ),
        200,
    )
    .await
}

async fn usage(sb: &Sb, body: Value) -> Value {
    sb.ok(POST, "/v1/sdk/usages", "/v1/sdk/usages", Some(body), 200)
        .await
}

async fn refund(sb: &Sb, txn: &str, amount: i64) -> (u16, Value) {
    sb.post("/v1/ui/transactions/refunds", "/v1/ui/transactions/refunds",
        json!({"originalTransactionId": txn, "refundAmount": amount, "currency": "USD", "reason": "Double charge"}))
        .await
}

#[tokio::test]
async fn sandbox_full_lifecycle() {
    let sb = start().await;
    sb.sandbox.clock().set(datetime!(2026-03-10 10:00 UTC));
    let cus = sb.customer("ada@example.com", "Ada Lovelace").await;
    assert!(cus.starts_with("cus_") && cus.len() == 12);
    let prd = sb.product("Analytics API").await;
    let pln = sb
        .plan(
            &prd,
            json!({"name": "Pro", "type": "recurring", "price": 4900, "currency": "USD",
                           "billingCycle": "monthly", "limit": 5}),
        )
        .await;

    // Checkout: a real page showing product, plan and amount; its form activates the purchase.
    let s = sb
        .ok(
            POST,
            "/v1/sdk/checkout-sessions",
            "/v1/sdk/checkout-sessions",
            Some(json!({"customerRef": cus, "productRef": prd, "planRef": pln})),
            201,
        )
        .await;
    let id = s["sessionId"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    let url = s["checkoutUrl"].as_str().unwrap();
    assert_eq!(
        url,
        format!("{}/customer/checkout?id={id}", sb.sandbox.base_url())
    );
    let (status, html) = sb.page(url).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Analytics API") && html.contains("Pro") && html.contains("$49.00"),
        "{html}"
    );
    assert!(html.contains("<form method=\"post\" action=\"/customer/checkout\">"));
    let csrf = csrf_of(&html);
    let res = sb
        .form(
            "/customer/checkout",
            &[("id", id), ("planRef", &pln), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    // The session is used up: a second Pay does nothing.
    assert_eq!(
        sb.form("/customer/checkout", &[("id", id), ("csrf", &csrf)])
            .await
            .status()
            .as_u16(),
        400
    );

    let list = sb
        .ok(
            GET,
            "/v1/sdk/purchases/customer/{customerRef}",
            &format!("/v1/sdk/purchases/customer/{cus}"),
            None,
            200,
        )
        .await;
    let purchases = list["purchases"].as_array().unwrap();
    assert_eq!(purchases.len(), 1);
    let p = &purchases[0];
    assert_eq!(p["status"], "active");
    assert_eq!(p["amount"], 4900);
    assert_eq!(p["startDate"], "2026-03-10T10:00:00.000Z");
    assert_eq!(p["nextBillingDate"], "2026-04-10T10:00:00.000Z");
    assert_eq!(p["planSnapshot"]["name"], "Pro");
    let pur = p["reference"].as_str().unwrap().to_owned();

    // Limits: 5 per period, then over the limit with a checkout URL.
    let l = limits(&sb, &cus, &prd).await;
    assert_eq!(
        (l["withinLimits"].clone(), l["remaining"].clone()),
        (json!(true), json!(5))
    );
    assert!(l.get("checkoutUrl").is_none());
    for _ in 0..5 {
        usage(&sb, json!({"customerRef": cus, "productRef": prd})).await;
    }
    usage(
        &sb,
        json!({"customerRef": cus, "productRef": prd, "outcome": "paywall"}),
    )
    .await;
    let l = limits(&sb, &cus, &prd).await;
    assert_eq!(
        (l["withinLimits"].clone(), l["remaining"].clone()),
        (json!(false), json!(0))
    );
    assert!(
        l["checkoutUrl"]
            .as_str()
            .unwrap()
            .contains("/customer/checkout?id=")
    );
    assert_eq!(l["checkoutSessionId"].as_str().unwrap().len(), 32);
    let got = sb
        .ok(
            GET,
            "/v1/sdk/purchases/{purchaseRef}",
            &format!("/v1/sdk/purchases/{pur}"),
            None,
            200,
        )
        .await;
    assert_eq!(got["usage"]["used"], 5);

    // Refunds: partial, the rest, then nothing left.
    let txns = sb
        .ok(GET, "/v1/ui/transactions", "/v1/ui/transactions", None, 200)
        .await;
    assert_eq!(txns["total"], 1);
    let payment = txns["transactions"][0].clone();
    assert_eq!(
        (
            payment["type"].clone(),
            payment["status"].clone(),
            payment["amount"].clone()
        ),
        (json!("payment"), json!("completed"), json!(4900))
    );
    let txn = payment["reference"].as_str().unwrap().to_owned();
    let (status, r1) = refund(&sb, &txn, 2500).await;
    assert_eq!(status, 200, "{r1}");
    assert_eq!(
        (
            r1["type"].clone(),
            r1["amount"].clone(),
            r1["status"].clone()
        ),
        (json!("refund"), json!(2500), json!("initiated"))
    );
    assert_ne!(r1["reference"], json!(txn));
    let (status, over) = refund(&sb, &txn, 2401).await;
    assert_eq!(status, 400);
    assert_eq!(
        over["message"],
        "Refund amount 2401 exceeds refundable amount 2400"
    );
    let orig = sb
        .ok(
            GET,
            "/v1/ui/transactions/{id}",
            &format!("/v1/ui/transactions/{txn}"),
            None,
            200,
        )
        .await;
    assert_eq!(orig["status"], "completed");
    let (status, r2) = refund(&sb, payment["id"].as_str().unwrap(), 2400).await;
    assert_eq!((status, r2["amount"].clone()), (200, json!(2400)));
    let (status, r3) = refund(&sb, &txn, 1).await;
    assert_eq!(status, 400);
    assert!(
        r3["message"]
            .as_str()
            .unwrap()
            .contains("is not refundable (status: refunded)"),
        "{r3}"
    );
    let first = sb
        .ok(
            GET,
            "/v1/ui/transactions/{id}",
            &format!("/v1/ui/transactions/{}", r1["reference"].as_str().unwrap()),
            None,
            200,
        )
        .await;
    assert_eq!(first["status"], "completed");
    let got = sb
        .ok(
            GET,
            "/v1/sdk/purchases/{purchaseRef}",
            &format!("/v1/sdk/purchases/{pur}"),
            None,
            200,
        )
        .await;
    assert_eq!(got["status"], "refunded");

    // Stats and balance add up.
    let stats = sb
        .ok(
            GET,
            "/v1/ui/transactions/stats",
            "/v1/ui/transactions/stats?fromDate=2026-03-01&toDate=2026-03-10T23:59:59.999Z",
            None,
            200,
        )
        .await;
    assert_eq!(stats["total"], 3);
    assert_eq!(stats["totalAmount"], 4900);
    assert_eq!(stats["completedTransactions"], 2);
    assert_eq!(stats["byType"], json!({"payment": 1, "refund": 2}));
    assert_eq!(stats["byCurrency"], json!({"USD": 3}));
    let none = sb
        .ok(
            GET,
            "/v1/ui/transactions/stats",
            "/v1/ui/transactions/stats?toDate=2026-03-09",
            None,
            200,
        )
        .await;
    assert_eq!(none["total"], 0);
    let product = sb
        .ok(
            GET,
            "/v1/sdk/products/{productRef}",
            &format!("/v1/sdk/products/{prd}"),
            None,
            200,
        )
        .await;
    assert_eq!(product["balance"], 0);
    assert_eq!(product["totalTransactions"], 3);
    assert_eq!(product["plans"][0]["reference"], json!(pln));
    sb.sandbox.shutdown().await;
}

#[tokio::test]
async fn sandbox_periods_roll_over_on_the_clock() {
    let sb = start().await;
    let clock = sb.sandbox.clock();
    clock.set(datetime!(2026-01-31 09:00 UTC));
    let cus = sb.customer("pat@example.com", "Pat").await;
    let prd = sb.product("Search API").await;
    let pln = sb
        .plan(
            &prd,
            json!({"name": "Team", "price": 1000, "billingCycle": "monthly", "limit": 2}),
        )
        .await;
    let pur = sb.buy(&cus, &prd, &pln).await;
    for _ in 0..2 {
        usage(&sb, json!({"customerRef": cus, "productRef": prd})).await;
    }
    assert_eq!(limits(&sb, &cus, &prd).await["remaining"], 0);

    // Through the control route, as a test of the real binary would.
    let now = sb
        .ok(
            POST,
            "/v1/sandbox/clock",
            "/v1/sandbox/clock",
            Some(json!({"now": "2026-02-28T09:00:00Z"})),
            200,
        )
        .await;
    assert_eq!(now["now"], "2026-02-28T09:00:00.000Z");
    let l = limits(&sb, &cus, &prd).await;
    assert_eq!(
        (l["withinLimits"].clone(), l["remaining"].clone()),
        (json!(true), json!(2))
    );
    let p = sb
        .ok(
            GET,
            "/v1/sdk/purchases/{purchaseRef}",
            &format!("/v1/sdk/purchases/{pur}"),
            None,
            200,
        )
        .await;
    assert_eq!(p["usage"]["periodStart"], "2026-02-28T09:00:00.000Z");
    assert_eq!(p["nextBillingDate"], "2026-03-31T09:00:00.000Z");
    let stats = sb
        .ok(
            GET,
            "/v1/ui/transactions/stats",
            "/v1/ui/transactions/stats",
            None,
            200,
        )
        .await;
    assert_eq!(
        (stats["total"].clone(), stats["totalAmount"].clone()),
        (json!(2), json!(2000))
    );

    // Cancel: still active until the period ends, then expired; no further renewal.
    let c = sb
        .ok(
            POST,
            "/v1/sdk/purchases/{purchaseRef}/cancel",
            &format!("/v1/sdk/purchases/{pur}/cancel"),
            Some(json!({"reason": "Too expensive"})),
            200,
        )
        .await;
    assert_eq!(c["success"], true);
    let cp = &c["purchase"];
    assert_eq!(
        (cp["status"].clone(), cp["autoRenew"].clone()),
        (json!("active"), json!(false))
    );
    assert_eq!(cp["cancellationReason"], "Too expensive");
    assert_eq!(cp["cancelledAt"], "2026-02-28T09:00:00.000Z");
    assert_eq!(cp["endDate"], "2026-03-31T09:00:00.000Z");
    let (status, again) = sb
        .post(
            "/v1/sdk/purchases/{purchaseRef}/cancel",
            &format!("/v1/sdk/purchases/{pur}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .contains("cannot be cancelled")
    );
    sb.ok(
        POST,
        "/v1/sandbox/clock",
        "/v1/sandbox/clock",
        Some(json!({"advanceSeconds": 31 * 86_400})),
        200,
    )
    .await;
    let p = sb
        .ok(
            GET,
            "/v1/sdk/purchases/{purchaseRef}",
            &format!("/v1/sdk/purchases/{pur}"),
            None,
            200,
        )
        .await;
    assert_eq!(p["status"], "expired");
    let (status, re) = sb
        .post(
            "/v1/sdk/purchases/{purchaseRef}/reactivate",
            &format!("/v1/sdk/purchases/{pur}/reactivate"),
            json!({}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        re["message"]
            .as_str()
            .unwrap()
            .contains("cannot be reactivated")
    );
    let stats = sb
        .ok(
            GET,
            "/v1/ui/transactions/stats",
            "/v1/ui/transactions/stats",
            None,
            200,
        )
        .await;
    assert_eq!(stats["total"], 2, "a cancelled purchase must not renew");
    let l = limits(&sb, &cus, &prd).await;
    assert_eq!(l["withinLimits"], false);
    assert!(l["checkoutUrl"].is_string());
}

#[tokio::test]
async fn sandbox_usage_is_idempotent() {
    let sb = start().await;
    let cus = sb.customer("ida@example.com", "Ida").await;
    let prd = sb.product("Mail API").await;
    sb.plan(&prd, json!({"name": "Free", "price": 0, "billingCycle": "monthly", "limit": 10, "default": true})).await;
    assert_eq!(
        limits(&sb, &cus, &prd).await["remaining"],
        10,
        "free default plan auto-enrols"
    );
    let body =
        json!({"customerRef": cus, "productRef": prd, "units": 3, "idempotencyKey": "req-1"});
    let first = usage(&sb, body.clone()).await;
    assert_eq!(first["success"], true);
    assert!(first["reference"].as_str().unwrap().starts_with("usage_"));
    // A replay with another body: still the first event (it wins), and the answer says what it was.
    let mut replay = body;
    replay["units"] = json!(5);
    let second = usage(&sb, replay).await;
    assert_eq!(second["reference"], first["reference"]);
    assert_eq!(
        second["creditDebit"],
        json!({"debited": false, "reason": "duplicate"})
    );
    assert_eq!(
        (
            &second["event"]["reference"],
            &second["event"]["customerRef"],
            &second["event"]["units"]
        ),
        (&first["reference"], &json!(cus), &json!(3))
    );
    assert_eq!(limits(&sb, &cus, &prd).await["remaining"], 7);
    let unknown = usage(
        &sb,
        json!({"customerRef": "cus_NOPE0000", "productRef": prd}),
    )
    .await;
    assert_eq!(unknown["creditDebit"]["reason"], "customer_not_found");
}

#[tokio::test]
async fn sandbox_bulk_usage_validates_the_whole_batch() {
    let sb = start().await;
    let cus = sb.customer("bo@example.com", "Bo").await;
    let prd = sb.product("Bulk API").await;
    sb.plan(&prd, json!({"name": "Free", "price": 0, "billingCycle": "monthly", "limit": 100, "default": true})).await;
    let ev = json!({"customerRef": cus, "productRef": prd});
    let (status, err) = sb
        .post(
            "/v1/sdk/usages/bulk",
            "/v1/sdk/usages/bulk",
            json!({"events": [ev, {"productRef": prd}, ev]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["message"], "Validation failed");
    assert_eq!(err["errors"][0]["path"], json!(["events.1", "customerRef"]));
    for bad in [
        json!({"events": []}),
        json!({"events": vec![ev.clone(); 1001]}),
        json!({}),
        json!({"events": [{"customerRef": cus, "units": -1}]}),
        json!({"events": [{"customerRef": cus, "outcome": "maybe"}]}),
        json!({"events": [{"customerRef": cus, "timestamp": "2020-01-01T00:00:00Z"}]}),
    ] {
        let (status, _) = sb
            .post("/v1/sdk/usages/bulk", "/v1/sdk/usages/bulk", bad)
            .await;
        assert_eq!(status, 400);
    }
    assert_eq!(
        limits(&sb, &cus, &prd).await["remaining"],
        100,
        "nothing stored"
    );
    let ok = sb
        .ok(
            POST,
            "/v1/sdk/usages/bulk",
            "/v1/sdk/usages/bulk",
            Some(json!({"events": vec![ev.clone(); 5]})),
            200,
        )
        .await;
    assert_eq!(ok["inserted"], 5);
    assert_eq!(ok["results"].as_array().unwrap().len(), 5);
    assert_eq!(limits(&sb, &cus, &prd).await["remaining"], 95);
}

#[tokio::test]
async fn sandbox_requires_its_key() {
    let sb = start().await;
    assert!(sb.sandbox.key().starts_with("sk_sandbox_local_"));
    for auth in [
        None,
        Some("Bearer sk_sandbox_local_wrong"),
        Some("Basic abc"),
    ] {
        let mut req = sb
            .http
            .post(sb.url("/v1/sdk/customers"))
            .json(&json!({"email": "x@example.com"}));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 401);
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body,
            json!({"statusCode": 401, "message": "Invalid or expired secret key", "error": "Unauthorized"})
        );
    }
    assert_eq!(sb.counts().await.0, 0, "nothing written without the key");
    let health = sb.http.get(sb.url("/healthz")).send().await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
    let res = sb
        .http
        .get(sb.url("/v1/sdk/nope"))
        .bearer_auth(sb.sandbox.key())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["message"], "Cannot GET /v1/sdk/nope");
    let res = sb
        .http
        .post(sb.url("/v1/sdk/customers"))
        .bearer_auth(sb.sandbox.key())
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["statusCode"].clone(), body["error"].clone()),
        (json!(400), json!("Bad Request"))
    );
    let merchant = sb
        .ok(GET, "/v1/sdk/merchant", "/v1/sdk/merchant", None, 200)
        .await;
    assert_eq!(merchant["defaultCurrency"], "USD");
}

#[tokio::test]
async fn sandbox_customers_are_unique_by_email() {
    let sb = start().await;
    let cus = sb.customer("jo@example.com", "Jo").await;
    let (status, dup) = sb
        .post(
            "/v1/sdk/customers",
            "/v1/sdk/customers",
            json!({"email": "JO@example.com"}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        dup["message"],
        "Customer with identifier email JO@example.com already exists"
    );
    let found = sb
        .ok(
            GET,
            "/v1/sdk/customers",
            "/v1/sdk/customers?email=jo@example.com",
            None,
            200,
        )
        .await;
    assert_eq!(found["reference"], json!(cus));
    for q in ["", "?email=jo@example.com&reference=x"] {
        let (status, e) = sb
            .get("/v1/sdk/customers", &format!("/v1/sdk/customers{q}"))
            .await;
        assert_eq!(status, 400);
        assert_eq!(
            e["message"],
            "Must provide exactly one of reference, externalRef, or email"
        );
    }
    let patched = sb
        .ok(
            Method::PATCH,
            "/v1/sdk/customers/{reference}",
            &format!("/v1/sdk/customers/{cus}"),
            Some(json!({"name": "Jo March"})),
            200,
        )
        .await;
    assert_eq!(
        (patched["name"].clone(), patched["email"].clone()),
        (json!("Jo March"), json!("jo@example.com"))
    );
    let list = sb
        .ok(
            GET,
            "/v1/ui/customers",
            "/v1/ui/customers?search=march",
            None,
            200,
        )
        .await;
    assert_eq!(list["total"], 1);
    sb.ok(
        Method::DELETE,
        "/v1/ui/customers/{id}",
        &format!("/v1/ui/customers/{cus}"),
        None,
        204,
    )
    .await;
    let (status, e) = sb
        .get(
            "/v1/sdk/customers/{reference}",
            &format!("/v1/sdk/customers/{cus}"),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        e["message"],
        format!("Customer with reference {cus} not found")
    );
    let (status, _) = sb
        .call(
            Method::DELETE,
            "/v1/ui/customers/{id}",
            &format!("/v1/ui/customers/{cus}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    sb.customer("jo@example.com", "Jo again").await;
}

#[tokio::test]
async fn sandbox_portal_cancels_renewal() {
    let sb = start().await;
    let cus = sb.customer("lu@example.com", "Lu").await;
    let prd = sb.product("Docs Bot").await;
    let pln = sb
        .plan(
            &prd,
            json!({"name": "Pro", "price": 2000, "billingCycle": "yearly"}),
        )
        .await;
    let pur = sb.buy(&cus, &prd, &pln).await;
    let s = sb
        .ok(
            POST,
            "/v1/sdk/customers/customer-sessions",
            "/v1/sdk/customers/customer-sessions",
            Some(json!({"customerRef": cus})),
            201,
        )
        .await;
    let id = s["sessionId"].as_str().unwrap();
    let got = sb
        .ok(
            GET,
            "/v1/sdk/customers/customer-sessions/{sessionId}",
            &format!("/v1/sdk/customers/customer-sessions/{id}"),
            None,
            200,
        )
        .await;
    assert_eq!(got["status"], "active");
    assert_eq!(got["customer"]["purchases"][0]["reference"], json!(pur));
    let (status, html) = sb.page(s["customerUrl"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&pur) && html.contains("Cancel renewal"),
        "{html}"
    );
    let res = sb
        .form(
            "/customer/manage/cancel",
            &[("id", id), ("purchaseRef", &pur), ("csrf", &csrf_of(&html))],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let p = sb
        .ok(
            GET,
            "/v1/sdk/purchases/{purchaseRef}",
            &format!("/v1/sdk/purchases/{pur}"),
            None,
            200,
        )
        .await;
    assert_eq!(
        (p["status"].clone(), p["autoRenew"].clone()),
        (json!("active"), json!(false))
    );
    assert!(p["cancelledAt"].is_string());
    sb.sandbox.clock().advance(time::Duration::minutes(16));
    let got = sb
        .ok(
            GET,
            "/v1/sdk/customers/customer-sessions/{sessionId}",
            &format!("/v1/sdk/customers/customer-sessions/{id}"),
            None,
            200,
        )
        .await;
    assert_eq!(got["status"], "expired");
    let (status, _) = sb.page(s["customerUrl"].as_str().unwrap()).await;
    assert_eq!(status, 410);
    let (status, e) = sb
        .get(
            "/v1/sdk/customers/customer-sessions/{sessionId}",
            "/v1/sdk/customers/customer-sessions/0000",
        )
        .await;
    assert_eq!(
        (status, e["message"].clone()),
        (404, json!("Customer session not found: 0000"))
    );
}

#[tokio::test]
async fn sandbox_persists_across_restart_and_seeds_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("sandbox.sqlite");
    let opts = SandboxOptions {
        db: DbLocation::Path(path.clone()),
        demo: true,
        ..memory()
    };
    let sb = start_with(opts.clone()).await;
    assert_eq!(sb.sandbox.db_description(), path.display().to_string());
    let cus = sb.customer("kim@example.com", "Kim").await;
    sb.sandbox.shutdown().await;
    let sb = start_with(opts).await;
    let c = sb
        .ok(
            GET,
            "/v1/sdk/customers/{reference}",
            &format!("/v1/sdk/customers/{cus}"),
            None,
            200,
        )
        .await;
    assert_eq!(c["email"], "kim@example.com");
    let (customers, products, _, _) = sb.counts().await;
    assert_eq!((customers, products), (3, 1), "demo data seeded once");
}

#[tokio::test]
async fn sandbox_demo_serves_the_seed_examples() {
    let sb = start_with(SandboxOptions {
        demo: true,
        ..memory()
    })
    .await;
    let list = sb
        .ok(
            GET,
            "/v1/sdk/purchases/customer/{customerRef}",
            "/v1/sdk/purchases/customer/cus_A1B2C3D4",
            None,
            200,
        )
        .await;
    let p = &list["purchases"][0];
    assert_eq!(p["reference"], "pur_T3U4V5W6");
    assert_eq!(
        (p["status"].clone(), p["planSnapshot"]["price"].clone()),
        (json!("active"), json!(4900))
    );
    assert_eq!(p["startDate"], "2026-01-15T00:00:00.000Z");
    assert_eq!(p["nextBillingDate"], "2026-02-15T00:00:00.000Z");
    usage(&sb, json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "actionType": "api_call", "units": 1, "outcome": "success"})).await;
    let l = sb
        .ok(
            POST,
            "/v1/sdk/limits",
            "/v1/sdk/limits",
            Some(json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2"})),
            200,
        )
        .await;
    assert_eq!(
        (l["withinLimits"].clone(), l["remaining"].clone()),
        (json!(true), json!(13))
    );
    let (status, r) = refund(&sb, "txn_D7E8F9G0", 2500).await;
    assert_eq!((status, r["amount"].clone()), (200, json!(2500)));
    let c = sb
        .ok(
            POST,
            "/v1/sdk/purchases/{purchaseRef}/cancel",
            "/v1/sdk/purchases/pur_T3U4V5W6/cancel",
            Some(json!({"reason": "Customer requested downgrade"})),
            200,
        )
        .await;
    assert_eq!(c["purchase"]["endDate"], "2026-02-15T00:00:00.000Z");
    let s = sb.ok(POST, "/v1/sdk/checkout-sessions", "/v1/sdk/checkout-sessions",
        Some(json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "planRef": "pln_K5L6M7N8"})), 201).await;
    assert!(
        s["checkoutUrl"]
            .as_str()
            .unwrap()
            .starts_with(sb.sandbox.base_url())
    );
}

/// The latency control holds every API answer back (not the controls' own) until it is set back to
/// 0, and what a request did is done even when its caller gave up waiting; out-of-range values are
/// refused.
#[tokio::test]
async fn the_latency_control_slows_api_requests_until_reset() {
    let sb = start_with(memory()).await;
    let set = |ms: Value| {
        sb.http
            .post(sb.url("/v1/sandbox/latency"))
            .bearer_auth(sb.sandbox.key())
            .json(&json!({ "ms": ms }))
            .send()
    };
    let merchant = |timeout_ms: u64| {
        sb.http
            .get(sb.url("/v1/sdk/merchant"))
            .bearer_auth(sb.sandbox.key())
            .timeout(std::time::Duration::from_millis(timeout_ms))
            .send()
    };
    for bad in [json!(-1), json!(60_001), json!("5")] {
        assert_eq!(set(bad.clone()).await.unwrap().status(), 400, "{bad}");
    }
    let slow = set(json!(60_000)).await.unwrap();
    assert_eq!(slow.json::<Value>().await.unwrap(), json!({"ms": 60_000}));
    let held = merchant(300).await.unwrap_err();
    assert!(held.is_timeout(), "{held:?}");
    let given_up = sb
        .http
        .post(sb.url("/v1/sdk/customers"))
        .bearer_auth(sb.sandbox.key())
        .json(&json!({"email": "late@example.com", "name": "Late"}))
        .timeout(std::time::Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(given_up.is_timeout(), "{given_up:?}");
    assert_eq!(set(json!(0)).await.unwrap().status(), 200);
    assert_eq!(merchant(10_000).await.unwrap().status(), 200);
    let (status, found) = sb
        .get(
            "/v1/sdk/customers",
            "/v1/sdk/customers?email=late%40example.com",
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert!(found.to_string().contains("late@example.com"), "{found}");
}
