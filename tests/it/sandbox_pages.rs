//! The hosted pages against a web page open in the same browser: a foreign `Host` (DNS rebinding)
//! is refused on every route, a form post from another origin, without the page's token, or not
//! urlencoded changes nothing, and every page carries the headers that keep it out of frames and
//! caches. The ledger is checked through the REST API after each refusal.

use reqwest::Method;
use serde_json::json;
use solvapay_mcp::sandbox::SandboxOptions;

use super::sandbox_support::{
    PAGE_CSP as CSP, Sb, assert_page_headers, csrf_of, memory, start_with,
};

const FORM: &str = "application/x-www-form-urlencoded";

/// A customer, a $49 monthly plan, and an open checkout session for it.
struct Checkout {
    customer: String,
    plan: String,
    id: String,
    url: String,
}

async fn checkout(sb: &Sb, email: &str) -> Checkout {
    let customer = sb.customer(email, "Page Tester").await;
    let product = sb.product("Pages API").await;
    let plan = sb
        .plan(
            &product,
            json!({"name": "Pro", "type": "recurring", "price": 4900, "currency": "USD", "billingCycle": "monthly"}),
        )
        .await;
    let s = sb
        .ok(
            Method::POST,
            "/v1/sdk/checkout-sessions",
            "/v1/sdk/checkout-sessions",
            Some(json!({"customerRef": customer, "productRef": product, "planRef": plan})),
            201,
        )
        .await;
    Checkout {
        customer,
        plan,
        id: s["sessionId"].as_str().unwrap().to_owned(),
        url: s["checkoutUrl"].as_str().unwrap().to_owned(),
    }
}

/// The customer's purchases, read through the REST API.
async fn purchases_of(sb: &Sb, customer: &str) -> Vec<serde_json::Value> {
    let list = sb
        .ok(
            Method::GET,
            "/v1/sdk/purchases/customer/{customerRef}",
            &format!("/v1/sdk/purchases/customer/{customer}"),
            None,
            200,
        )
        .await;
    list["purchases"].as_array().unwrap().clone()
}

/// A POST with exactly these headers (no Origin unless given) and this body.
async fn raw_post(sb: &Sb, path: &str, headers: &[(&str, &str)], body: String) -> (u16, String) {
    let mut req = sb.http.post(sb.url(path)).body(body);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn encode(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

fn port(sb: &Sb) -> u16 {
    url::Url::parse(sb.sandbox.base_url())
        .unwrap()
        .port()
        .unwrap()
}

#[tokio::test]
async fn a_request_under_a_foreign_host_is_refused_on_pages_and_api_alike() {
    let sb = start_with(memory()).await;
    let c = checkout(&sb, "rebind@example.com").await;
    let port = port(&sb);

    let res = sb
        .http
        .get(&c.url)
        .header("host", format!("rebind.attacker.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 421);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(text.contains("Misdirected request"), "{text}");
    assert!(
        !text.contains("rebind@example.com") && !text.contains("Pages API"),
        "{text}"
    );

    // The REST API too, even with the right key.
    let res = sb
        .http
        .get(sb.url("/v1/sdk/purchases"))
        .bearer_auth(sb.sandbox.key())
        .header("host", format!("rebind.attacker.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 421);
    assert!(!res.text().await.unwrap().contains("purchases"));

    // The wrong port of a right name is another origin as well.
    let res = sb
        .http
        .get(&c.url)
        .header("host", format!("127.0.0.1:{}", port.wrapping_add(1)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 421);

    // localhost is the sandbox's own name on loopback.
    let res = sb
        .http
        .get(&c.url)
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn listening_on_every_interface_answers_to_ip_addresses_and_localhost_only() {
    let sb = start_with(SandboxOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..memory()
    })
    .await;
    let port = port(&sb);
    for (host, expected) in [
        (format!("127.0.0.1:{port}"), 200),
        (format!("192.0.2.7:{port}"), 200),
        (format!("localhost:{port}"), 200),
        (format!("devbox.lan:{port}"), 421),
    ] {
        let res = sb
            .http
            .get(sb.url("/v1/sdk/products"))
            .bearer_auth(sb.sandbox.key())
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), expected, "Host {host}");
    }
}

#[tokio::test]
async fn a_pay_post_from_another_origin_pays_nothing() {
    let sb = start_with(memory()).await;
    let c = checkout(&sb, "origin@example.com").await;
    let (_, page) = sb.page(&c.url).await;
    let body = encode(&[
        ("id", &c.id),
        ("planRef", &c.plan),
        ("csrf", &csrf_of(&page)),
    ]);
    let own = sb.sandbox.base_url();
    let https = own.replace("http://", "https://");

    let attempts: [(&str, &[(&str, &str)]); 5] = [
        ("a foreign Origin", &[("origin", "http://attacker.example")]),
        ("Origin: null", &[("origin", "null")]),
        ("no Origin", &[]),
        (
            "Sec-Fetch-Site: cross-site",
            &[("origin", own), ("sec-fetch-site", "cross-site")],
        ),
        ("the same host on https", &[("origin", &https)]),
    ];
    for (what, headers) in attempts {
        let headers = [&[("content-type", FORM)][..], headers].concat();
        let (status, html) = raw_post(&sb, "/customer/checkout", &headers, body.clone()).await;
        assert_eq!(status, 403, "{what}: {html}");
        assert!(html.contains("Nothing was changed"), "{what}: {html}");
    }
    assert_eq!(
        purchases_of(&sb, &c.customer).await,
        Vec::<serde_json::Value>::new()
    );
    assert_eq!(sb.counts().await.2, 0, "no transaction");
    // The session is still open: its page still offers Pay.
    let (status, page) = sb.page(&c.url).await;
    assert_eq!(status, 200);
    assert!(page.contains("Pay $49.00"), "{page}");
}

#[tokio::test]
async fn a_pay_post_without_its_pages_token_pays_nothing() {
    let sb = start_with(memory()).await;
    let c = checkout(&sb, "token@example.com").await;
    let other = checkout(&sb, "other@example.com").await;
    let (_, other_page) = sb.page(&other.url).await;
    let others_token = csrf_of(&other_page);

    for (what, token) in [
        ("no token", None),
        ("an empty token", Some("")),
        ("a made-up token", Some("0123456789abcdef")),
        ("another session's token", Some(others_token.as_str())),
    ] {
        let mut fields = vec![("id", c.id.as_str()), ("planRef", c.plan.as_str())];
        fields.extend(token.map(|t| ("csrf", t)));
        let res = sb.form("/customer/checkout", &fields).await;
        let status = res.status().as_u16();
        let html = res.text().await.unwrap();
        assert_eq!(status, 403, "{what}: {html}");
        assert!(html.contains("security token"), "{what}: {html}");
    }
    assert_eq!(
        purchases_of(&sb, &c.customer).await,
        Vec::<serde_json::Value>::new()
    );
    assert_eq!(sb.counts().await.2, 0, "no transaction");
}

#[tokio::test]
async fn a_pay_post_that_is_not_a_urlencoded_form_pays_nothing() {
    let sb = start_with(memory()).await;
    let c = checkout(&sb, "plain@example.com").await;
    let (_, page) = sb.page(&c.url).await;
    let body = encode(&[
        ("id", &c.id),
        ("planRef", &c.plan),
        ("csrf", &csrf_of(&page)),
    ]);
    let own = sb.sandbox.base_url().to_owned();
    for content_type in ["text/plain", "multipart/form-data; boundary=x"] {
        let (status, html) = raw_post(
            &sb,
            "/customer/checkout",
            &[("content-type", content_type), ("origin", &own)],
            body.clone(),
        )
        .await;
        assert_eq!(status, 415, "{content_type}: {html}");
    }
    assert_eq!(
        purchases_of(&sb, &c.customer).await,
        Vec::<serde_json::Value>::new()
    );
}

#[tokio::test]
async fn the_pages_own_post_with_its_token_pays() {
    let sb = start_with(memory()).await;
    let c = checkout(&sb, "pays@example.com").await;
    let (_, page) = sb.page(&c.url).await;
    let own = sb.sandbox.base_url().to_owned();
    let (status, html) = raw_post(
        &sb,
        "/customer/checkout",
        &[
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=UTF-8",
            ),
            ("origin", &own),
            ("sec-fetch-site", "same-origin"),
        ],
        encode(&[
            ("id", &c.id),
            ("planRef", &c.plan),
            ("csrf", &csrf_of(&page)),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Payment successful"), "{html}");
    let bought = purchases_of(&sb, &c.customer).await;
    assert_eq!(bought.len(), 1);
    assert_eq!(bought[0]["status"], "active");
}

#[tokio::test]
async fn the_portals_cancel_refuses_a_foreign_origin_and_a_wrong_token() {
    let sb = start_with(memory()).await;
    let c = checkout(&sb, "portal@example.com").await;
    let (_, pay_page) = sb.page(&c.url).await;
    let checkout_token = csrf_of(&pay_page);
    let res = sb
        .form(
            "/customer/checkout",
            &[
                ("id", &c.id),
                ("planRef", &c.plan),
                ("csrf", &checkout_token),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let purchase = purchases_of(&sb, &c.customer).await[0]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let s = sb
        .ok(
            Method::POST,
            "/v1/sdk/customers/customer-sessions",
            "/v1/sdk/customers/customer-sessions",
            Some(json!({"customerRef": c.customer})),
            201,
        )
        .await;
    let portal = s["sessionId"].as_str().unwrap().to_owned();
    let (status, page) = sb.page(s["customerUrl"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let token = csrf_of(&page);
    let body =
        |token: &str| encode(&[("id", &portal), ("purchaseRef", &purchase), ("csrf", token)]);

    let (status, html) = raw_post(
        &sb,
        "/customer/manage/cancel",
        &[
            ("content-type", FORM),
            ("origin", "http://attacker.example"),
        ],
        body(&token),
    )
    .await;
    assert_eq!(status, 403, "{html}");
    // A token is for one form: the checkout's does not cancel, nor does a made-up one.
    for wrong in [checkout_token.as_str(), "feed"] {
        let res = sb
            .form(
                "/customer/manage/cancel",
                &[("id", &portal), ("purchaseRef", &purchase), ("csrf", wrong)],
            )
            .await;
        assert_eq!(res.status().as_u16(), 403);
    }
    let renewing = |p: &serde_json::Value| (p["autoRenew"].clone(), p["cancelledAt"].clone());
    assert_eq!(
        renewing(&purchases_of(&sb, &c.customer).await[0]),
        (json!(true), serde_json::Value::Null)
    );

    let res = sb
        .form(
            "/customer/manage/cancel",
            &[
                ("id", &portal),
                ("purchaseRef", &purchase),
                ("csrf", &token),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        purchases_of(&sb, &c.customer).await[0]["autoRenew"],
        json!(false)
    );
}

#[tokio::test]
async fn every_page_response_carries_the_security_headers() {
    let sb = start_with(memory()).await;
    let c = checkout(&sb, "headers@example.com").await;

    let page = sb.http.get(&c.url).send().await.unwrap();
    assert_page_headers(&page, CSP);
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<style") && !html.contains("style="),
        "{html}"
    );
    assert!(html.contains("href=\"/customer/sandbox.css\""), "{html}");

    let css = sb
        .http
        .get(sb.url("/customer/sandbox.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status().as_u16(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_page_headers(&css, CSP);

    let missing = sb
        .http
        .get(sb.url("/customer/checkout?id=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert_page_headers(&missing, CSP);

    let refused = sb.form("/customer/checkout", &[("id", &c.id)]).await;
    assert_eq!(refused.status().as_u16(), 403);
    assert_page_headers(&refused, CSP);

    let paid = sb
        .form(
            "/customer/checkout",
            &[
                ("id", &c.id),
                ("planRef", &c.plan),
                ("csrf", &csrf_of(&html)),
            ],
        )
        .await;
    assert_eq!(paid.status().as_u16(), 200);
    assert_page_headers(&paid, CSP);

    let s = sb
        .ok(
            Method::POST,
            "/v1/sdk/customers/customer-sessions",
            "/v1/sdk/customers/customer-sessions",
            Some(json!({"customerRef": c.customer})),
            201,
        )
        .await;
    let portal = sb
        .http
        .get(s["customerUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(portal.status().as_u16(), 200);
    assert_page_headers(&portal, CSP);
}

#[tokio::test]
async fn a_checkout_with_a_return_url_lets_its_form_redirect_to_that_origin() {
    let sb = start_with(memory()).await;
    let customer = sb.customer("return@example.com", "Return Tester").await;
    let product = sb.product("Return API").await;
    let plan = sb
        .plan(
            &product,
            json!({"name": "Once", "type": "one-time", "price": 900, "currency": "USD"}),
        )
        .await;
    let s = sb
        .ok(
            Method::POST,
            "/v1/sdk/checkout-sessions",
            "/v1/sdk/checkout-sessions",
            Some(
                json!({"customerRef": customer, "productRef": product, "planRef": plan,
                        "returnUrl": "https://app.example.com:8443/done?order=1"}),
            ),
            201,
        )
        .await;
    let page = sb
        .http
        .get(s["checkoutUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_page_headers(
        &page,
        "default-src 'self'; form-action 'self' https://app.example.com:8443; frame-ancestors 'none'",
    );
    let html = page.text().await.unwrap();
    let id = s["sessionId"].as_str().unwrap();
    let paid = sb
        .form(
            "/customer/checkout",
            &[("id", id), ("planRef", &plan), ("csrf", &csrf_of(&html))],
        )
        .await;
    assert_eq!(paid.status().as_u16(), 303);
    assert_eq!(
        paid.headers()["location"],
        "https://app.example.com:8443/done?order=1"
    );
    assert_page_headers(&paid, CSP);
}
