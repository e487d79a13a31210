//! The sandbox dashboard (`GET /dashboard`) against a real sandbox over HTTP: every panel's figures
//! are what the REST API lists with the key, the revenue SVG parses and its figures are the
//! transaction stats', hostile names come out inert, the page is key-free but refuses a foreign
//! Host, a foreign Origin and a form without its token (changing nothing), the clock form moves the
//! clock the API and `sandbox status` then give, and the URL is named on stderr and in `status`.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use solvapay_mcp::model::money::Currency;
use solvapay_mcp::sandbox::{DbLocation, SandboxOptions};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::sandbox_support::{
    PAGE_CSP as CSP, Sb, assert_page_headers, csrf_of, memory, start_with,
};
use super::support::bin::Home;

const FORM: &str = "application/x-www-form-urlencoded";

fn demo() -> SandboxOptions {
    SandboxOptions {
        demo: true,
        ..memory()
    }
}

/// The dashboard page: status, headers checked, body.
async fn dashboard(sb: &Sb) -> (u16, String) {
    let res = sb.http.get(sb.url("/dashboard")).send().await.unwrap();
    assert_page_headers(&res, CSP);
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The `<main>` of a dashboard page, which is well-formed XML.
fn main_of(html: &str) -> String {
    let start = html
        .find("<main>")
        .unwrap_or_else(|| panic!("no <main>: {html}"));
    let end = html.find("</main>").unwrap() + "</main>".len();
    html[start..end].to_owned()
}

/// Reads the page's `<main>` as XML and hands its root to `f`.
fn with_main<T>(html: &str, f: impl FnOnce(roxmltree::Node<'_, '_>) -> T) -> T {
    let main = main_of(html);
    let doc = roxmltree::Document::parse(&main)
        .unwrap_or_else(|e| panic!("the dashboard's <main> is not well-formed: {e}\n{main}"));
    f(doc.root_element())
}

fn panel<'a, 'i>(root: roxmltree::Node<'a, 'i>, id: &str) -> roxmltree::Node<'a, 'i> {
    root.descendants()
        .find(|n| n.attribute("data-panel") == Some(id))
        .unwrap_or_else(|| panic!("no panel {id}"))
}

/// The `tr[data-ref]` rows of a panel's tables, by reference.
fn rows<'a, 'i>(panel: roxmltree::Node<'a, 'i>) -> BTreeMap<String, roxmltree::Node<'a, 'i>> {
    panel
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .filter_map(|n| Some((n.attribute("data-ref")?.to_owned(), n)))
        .collect()
}

fn text_of(n: roxmltree::Node<'_, '_>) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect()
}

/// The money cells (`data-minor`, `data-currency`, text) of a row, in order.
fn money_cells(row: roxmltree::Node<'_, '_>) -> Vec<(i64, String, String)> {
    row.children()
        .filter_map(|c| {
            Some((
                c.attribute("data-minor")?.parse().unwrap(),
                c.attribute("data-currency")?.to_owned(),
                text_of(c),
            ))
        })
        .collect()
}

fn formatted(amount: i64, currency: &str) -> String {
    Currency::from_api(currency).format(amount)
}

fn total(panel: roxmltree::Node<'_, '_>) -> u64 {
    panel.attribute("data-total").unwrap().parse().unwrap()
}

async fn api(sb: &Sb, template: &str, path: &str) -> Value {
    sb.ok(Method::GET, template, path, None, 200).await
}

/// A demo sandbox on a database file in a fresh directory (kept alive by the `TempDir`).
async fn on_file(demo: bool) -> (Sb, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.sqlite");
    let sb = start_with(SandboxOptions {
        demo,
        db: DbLocation::Path(db.clone()),
        ..SandboxOptions::default()
    })
    .await;
    (sb, dir, db)
}

/// The ledger file itself, beside the running sandbox (WAL: both may use it).
fn ledger(db: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn
}

/// More than the demo: a second paying customer, and a partial refund of Jane's payment (both
/// through the API), and a payment in a second currency. The sandbox's provider takes USD only, so
/// that one is written into the ledger file, as another SolvaPay account's ledger would hold it.
async fn richer_demo(sb: &Sb, db: &std::path::Path) {
    let cus = sb.customer("eve@example.eu", "Eve").await;
    let prd = sb.product("eu-bot").await;
    let pln = sb
        .plan(
            &prd,
            json!({"name": "Team", "type": "recurring", "price": 1999, "currency": "USD", "billingCycle": "monthly"}),
        )
        .await;
    sb.buy(&cus, &prd, &pln).await;
    let (status, body) = sb
        .post(
            "/v1/ui/transactions/refunds",
            "/v1/ui/transactions/refunds",
            json!({"originalTransactionId": "txn_D7E8F9G0", "refundAmount": 650, "currency": "USD", "reason": "Goodwill"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    ledger(db)
        .execute(
            "INSERT INTO transactions (id, reference, type, status, amount, currency, customer_id,
               product_id, description, created_at, updated_at)
             SELECT 'jpy0000000000000000000001', 'txn_JPY00001', 'payment', 'completed', 2500, 'JPY',
               c.id, p.id, 'support-bot - Tokyo', '2026-01-20T08:00:00.000Z', '2026-01-20T08:00:00.000Z'
             FROM customers c, products p WHERE c.reference = 'cus_X7Y8Z9W0' AND p.reference = 'prd_P9Q0R1S2'",
            [],
        )
        .unwrap();
}

#[tokio::test]
async fn every_panel_of_a_demo_sandbox_shows_what_the_api_lists() {
    let (sb, _dir, db) = on_file(true).await;
    richer_demo(&sb, &db).await;
    let (status, html) = dashboard(&sb).await;
    assert_eq!(status, 200, "{html}");

    let customers = api(&sb, "/v1/ui/customers", "/v1/ui/customers").await;
    let products = api(&sb, "/v1/sdk/products", "/v1/sdk/products").await;
    let purchases = api(&sb, "/v1/sdk/purchases", "/v1/sdk/purchases").await;
    let txns = api(&sb, "/v1/ui/transactions", "/v1/ui/transactions?limit=100").await;

    with_main(&html, |root| {
        // Customers.
        let p = panel(root, "customers");
        assert_eq!(total(p), customers["total"].as_u64().unwrap());
        let shown = rows(p);
        let listed: Vec<&Value> = customers["customers"].as_array().unwrap().iter().collect();
        assert_eq!(shown.len(), listed.len());
        for c in listed {
            let row = shown[c["reference"].as_str().unwrap()];
            let name = row
                .children()
                .find(|n| n.attribute("data-field") == Some("name"))
                .unwrap();
            assert_eq!(text_of(name), c["name"].as_str().unwrap());
        }

        // Products and their plans.
        let p = panel(root, "products");
        assert_eq!(total(p), products["total"].as_u64().unwrap());
        let plan_rows = rows(p);
        for product in products["products"].as_array().unwrap() {
            let reference = product["reference"].as_str().unwrap();
            let article = p
                .descendants()
                .find(|n| n.has_tag_name("article") && n.attribute("data-ref") == Some(reference))
                .unwrap_or_else(|| panic!("no product {reference}"));
            let plans = product["plans"].as_array().unwrap();
            assert_eq!(
                article.attribute("data-plans").unwrap(),
                plans.len().to_string()
            );
            for plan in plans {
                let row = plan_rows[plan["reference"].as_str().unwrap()];
                assert_eq!(row.attribute("data-status"), plan["status"].as_str());
                let cells = money_cells(row);
                let currency = plan["currency"].as_str().unwrap();
                let price = plan["price"].as_i64().unwrap();
                assert_eq!(
                    cells,
                    [(price, currency.to_owned(), formatted(price, currency))]
                );
            }
        }

        // Purchases with their state, and usage against limits.
        let p = panel(root, "purchases");
        let listed = purchases["purchases"].as_array().unwrap();
        assert_eq!(total(p) as usize, listed.len());
        let shown = rows(p);
        let u = panel(root, "usage");
        let usage_rows = rows(u);
        let mut metered = 0;
        for purchase in listed {
            let reference = purchase["reference"].as_str().unwrap();
            let row = shown[reference];
            assert_eq!(row.attribute("data-status"), purchase["status"].as_str());
            assert_eq!(
                row.attribute("data-auto-renew").unwrap(),
                purchase["autoRenew"].to_string()
            );
            let amount = purchase["amount"].as_i64().unwrap();
            let currency = purchase["currency"].as_str().unwrap();
            assert_eq!(
                money_cells(row),
                [(amount, currency.to_owned(), formatted(amount, currency))]
            );
            if let Some(usage) = purchase.get("usage") {
                metered += 1;
                let row = usage_rows[reference];
                assert_eq!(
                    row.attribute("data-used").unwrap(),
                    usage["used"].to_string()
                );
                assert_eq!(
                    row.attribute("data-limit").unwrap(),
                    purchase["planSnapshot"]["limit"].to_string()
                );
                assert_eq!(
                    row.attribute("data-period-start"),
                    usage["periodStart"].as_str()
                );
                assert_eq!(
                    row.attribute("data-period-end"),
                    usage["periodEnd"].as_str()
                );
            }
        }
        assert!(metered > 0, "the demo has a metered purchase");
        assert_eq!(usage_rows.len(), metered);
        assert_eq!(total(u) as usize, metered);

        // Transactions and refunds.
        let p = panel(root, "transactions");
        assert_eq!(total(p), txns["total"].as_u64().unwrap());
        let shown = rows(p);
        let listed = txns["transactions"].as_array().unwrap();
        assert_eq!(shown.len(), listed.len());
        assert!(listed.iter().any(|t| t["type"] == "refund"));
        let mut by_currency = BTreeMap::<String, (i64, i64)>::new();
        for t in listed {
            let row = shown[t["reference"].as_str().unwrap()];
            assert_eq!(row.attribute("data-type"), t["type"].as_str());
            assert_eq!(row.attribute("data-status"), t["status"].as_str());
            let amount = t["amount"].as_i64().unwrap();
            let currency = t["currency"].as_str().unwrap();
            let cells = money_cells(row);
            assert_eq!(
                cells[0],
                (amount, currency.to_owned(), formatted(amount, currency))
            );
            let sums = by_currency.entry(currency.to_owned()).or_default();
            match (t["type"].as_str(), t["status"].as_str()) {
                (Some("payment"), Some("completed" | "refunded")) => sums.0 += amount,
                (Some("refund"), Some("completed")) => sums.1 += amount,
                _ => {}
            }
        }
        assert_eq!(by_currency.len(), 2, "{by_currency:?}");
        for (currency, (gross, refunded)) in &by_currency {
            let row = p
                .descendants()
                .find(|n| n.has_tag_name("tr") && n.attribute("data-currency") == Some(currency))
                .unwrap();
            assert_eq!(
                money_cells(row),
                [
                    (*gross, currency.clone(), formatted(*gross, currency)),
                    (*refunded, currency.clone(), formatted(*refunded, currency)),
                    (
                        gross - refunded,
                        currency.clone(),
                        formatted(gross - refunded, currency)
                    ),
                ]
            );
        }
    });
}

/// `<svg …>…</svg>` elements of the page, as their own documents.
fn svgs(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").unwrap() + start + "</svg>".len();
        out.push(rest[start..end].to_owned());
        rest = &rest[end..];
    }
    out
}

/// The last millisecond before `to` (the stats' `toDate` is inclusive).
fn just_before(to: &str) -> String {
    let t = time::OffsetDateTime::parse(to, &time::format_description::well_known::Rfc3339)
        .unwrap()
        - time::Duration::milliseconds(1);
    solvapay_mcp::model::dates::timestamp(t)
}

#[tokio::test]
async fn the_revenue_chart_is_valid_svg_whose_figures_are_the_apis_per_month_and_currency() {
    let (sb, _dir, db) = on_file(true).await;
    richer_demo(&sb, &db).await;
    // Past Jane's renewal on 2026-02-15: a second USD payment, in February.
    let (status, body) = sb
        .post(
            "/v1/sandbox/clock",
            "/v1/sandbox/clock",
            json!({"advanceSeconds": 5 * 86_400}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, html) = dashboard(&sb).await;
    let charts = svgs(&html);
    assert_eq!(charts.len(), 2, "one chart per currency");
    let mut checked_months = 0;
    for svg in &charts {
        let doc = roxmltree::Document::parse(svg)
            .unwrap_or_else(|e| panic!("the chart is not XML: {e}\n{svg}"));
        let root = doc.root_element();
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        let currency = root.attribute("data-currency").unwrap().to_owned();
        let title = root.children().find(|n| n.has_tag_name("title")).unwrap();
        assert!(text_of(title).contains(&currency), "{}", text_of(title));
        let desc = root.children().find(|n| n.has_tag_name("desc")).unwrap();
        let texts: Vec<String> = root
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(text_of)
            .collect();
        assert!(texts.contains(&format!("Amount ({currency})")), "{texts:?}");
        assert!(
            texts.iter().any(|t| t.starts_with("Month (UTC)")),
            "{texts:?}"
        );
        let (mut gross_all, mut refunds_all) = (0, 0);
        let months: Vec<_> = root
            .descendants()
            .filter(|n| n.attribute("class") == Some("month"))
            .collect();
        assert_eq!(months.len(), 6);
        for g in months {
            let key = g.attribute("data-month").unwrap();
            let from = format!("{key}-01T00:00:00.000Z");
            let (year, month): (i32, u8) = (key[..4].parse().unwrap(), key[5..].parse().unwrap());
            let next = if month == 12 {
                format!("{}-01-01T00:00:00.000Z", year + 1)
            } else {
                format!("{year}-{:02}-01T00:00:00.000Z", month + 1)
            };
            let to = just_before(&next);
            let stats = api(
                &sb,
                "/v1/ui/transactions/stats",
                &format!(
                    "/v1/ui/transactions/stats?fromDate={from}&toDate={to}&currency={currency}"
                ),
            )
            .await;
            let refunds = api(
                &sb,
                "/v1/ui/transactions",
                &format!(
                    "/v1/ui/transactions?fromDate={from}&toDate={to}&currency={currency}&transactionType=refund&status=completed&limit=100"
                ),
            )
            .await;
            let gross = stats["totalAmount"].as_i64().unwrap();
            let refunded: i64 = refunds["transactions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["amount"].as_i64().unwrap())
                .sum();
            assert_eq!(
                g.attribute("data-gross").unwrap(),
                gross.to_string(),
                "{key}"
            );
            assert_eq!(
                g.attribute("data-refunds").unwrap(),
                refunded.to_string(),
                "{key}"
            );
            assert_eq!(
                g.attribute("data-net").unwrap(),
                (gross - refunded).to_string(),
                "{key}"
            );
            let figure = |class: &str| {
                text_of(
                    g.children()
                        .find(|n| n.attribute("class") == Some(class))
                        .unwrap(),
                )
            };
            assert_eq!(figure("v-gross"), formatted(gross, &currency), "{key}");
            assert_eq!(figure("v-refunds"), formatted(refunded, &currency), "{key}");
            assert_eq!(
                figure("v-net"),
                formatted(gross - refunded, &currency),
                "{key}"
            );
            gross_all += gross;
            refunds_all += refunded;
            checked_months += 1;
        }
        assert!(gross_all > 0, "{currency}: some revenue is charted");
        assert!(
            text_of(desc).contains(&format!(
                "gross {}, refunds {}, net {}",
                formatted(gross_all, &currency),
                formatted(refunds_all, &currency),
                formatted(gross_all - refunds_all, &currency)
            )),
            "{}",
            text_of(desc)
        );
        if currency == "USD" {
            assert!(refunds_all > 0, "the partial refund is charted");
        }
    }
    assert_eq!(checked_months, 12);
}

#[tokio::test]
async fn hostile_names_are_escaped_isolated_and_their_invisible_characters_shown() {
    let (sb, _dir, db) = on_file(false).await;
    // What the API takes: quotes and ampersands in names, anything in an external ref or a
    // description.
    let cus = sb
        .customer("mallory@example.com", "O'Brien \"Bobby\" & Co")
        .await;
    sb.customer("obrien@example.com", "O'Brien \"Bobby\" & Co")
        .await;
    let (status, body) = sb
        .call(
            Method::PATCH,
            "/v1/sdk/customers/{reference}",
            &format!("/v1/sdk/customers/{cus}"),
            Some(json!({"externalRef": "<script>alert(1)</script>\u{202E}"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let prd = sb.product("Evil Product").await;
    let pln = sb
        .plan(
            &prd,
            json!({"name": "Evil Plan", "type": "recurring", "price": 700, "currency": "USD", "billingCycle": "monthly"}),
        )
        .await;
    sb.buy(&cus, &prd, &pln).await;
    // What another SolvaPay's ledger may hold: names the API here refuses.
    let evil = "<script>alert(1)</script>\"' onmouseover=\"x\u{202E}gnp.exe\u{200B}\u{2066}";
    let conn = ledger(&db);
    conn.execute(
        "UPDATE customers SET name = ?1 WHERE reference = ?2",
        rusqlite::params![evil, cus],
    )
    .unwrap();
    conn.execute(
        "UPDATE products SET name = ?1, description = ?2 WHERE reference = ?3",
        rusqlite::params![
            format!("<img src=x onerror=alert(2)>{evil}"),
            "<iframe src=//evil.example>\u{200F}",
            prd
        ],
    )
    .unwrap();
    conn.execute(
        "UPDATE plans SET name = ?1 WHERE reference = ?2",
        rusqlite::params![format!("</td></tr><svg onload=alert(3)>{evil}"), pln],
    )
    .unwrap();
    let (status, html) = dashboard(&sb).await;
    assert_eq!(status, 200);
    for raw in [
        "<script",
        "<img",
        "<iframe",
        "<svg onload",
        "\u{202E}",
        "\u{200B}",
        "\u{200F}",
        "\u{2066}",
    ] {
        assert!(!html.contains(raw), "{raw:?} reached the page:\n{html}");
    }
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;"),
        "{html}"
    );
    assert!(
        html.contains("O&#39;Brien &quot;Bobby&quot; &amp; Co"),
        "{html}"
    );
    for shown in ["U+202E", "U+200B", "U+200F", "U+2066"] {
        assert!(
            html.contains(&format!("<span class=\"cc\">{shown}</span>")),
            "{shown}"
        );
    }
    with_main(&html, |root| {
        let row = rows(panel(root, "customers"))[&cus];
        let cell = |field: &str| {
            let c = row
                .children()
                .find(|n| n.attribute("data-field") == Some(field))
                .unwrap();
            let bdi = c.children().find(|n| n.has_tag_name("bdi")).unwrap();
            text_of(bdi)
        };
        assert_eq!(
            cell("name"),
            "<script>alert(1)</script>\"' onmouseover=\"xU+202Egnp.exeU+200BU+2066"
        );
        assert_eq!(cell("externalRef"), "<script>alert(1)</script>U+202E");
        // The hostile plan name stayed inside its cell: the row still has all its cells.
        let plan_row = rows(panel(root, "products"))[&pln];
        assert_eq!(
            plan_row.children().filter(|n| n.has_tag_name("td")).count(),
            9
        );
        // And the purchase and its payment name them, escaped too.
        assert_eq!(rows(panel(root, "purchases")).len(), 1);
        assert_eq!(rows(panel(root, "transactions")).len(), 1);
    });
    for svg in svgs(&html) {
        roxmltree::Document::parse(&svg).unwrap();
    }
}

#[tokio::test]
async fn a_long_list_shows_fifty_rows_and_says_how_many_more_there_are() {
    let sb = start_with(memory()).await;
    for i in 0..53 {
        sb.customer(&format!("many{i}@example.com"), &format!("Many {i}"))
            .await;
    }
    let listed = api(&sb, "/v1/ui/customers", "/v1/ui/customers").await;
    let all = listed["total"].as_u64().unwrap();
    assert_eq!(all, 53);
    let (_, html) = dashboard(&sb).await;
    with_main(&html, |root| {
        let p = panel(root, "customers");
        assert_eq!(total(p), all);
        let shown = rows(p);
        assert_eq!(shown.len(), 50);
        // The newest are the ones listed.
        assert!(
            shown
                .values()
                .any(|r| text_of(*r).contains("many52@example.com"))
        );
        assert!(
            !shown
                .values()
                .any(|r| text_of(*r).contains("many0@example.com"))
        );
        let more = p
            .descendants()
            .find(|n| n.attribute("class") == Some("more"))
            .unwrap();
        assert_eq!(more.attribute("data-more").unwrap(), (all - 50).to_string());
        assert!(
            text_of(more).contains("3 more not shown"),
            "{}",
            text_of(more)
        );
    });
}

fn port(sb: &Sb) -> u16 {
    url::Url::parse(sb.sandbox.base_url())
        .unwrap()
        .port()
        .unwrap()
}

/// The sandbox time the API gives now.
async fn api_now(sb: &Sb) -> String {
    let (status, body) = sb
        .post(
            "/v1/sandbox/clock",
            "/v1/sandbox/clock",
            json!({"advanceSeconds": 0}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["now"].as_str().unwrap().to_owned()
}

/// Request headers as (name, value) pairs.
type Headers<'a> = Vec<(&'a str, String)>;

async fn raw_post(sb: &Sb, headers: &[(&str, String)], body: String) -> (u16, String) {
    let mut req = sb.http.post(sb.url("/dashboard/clock")).body(body);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let res = req.send().await.unwrap();
    assert_page_headers(&res, CSP);
    (res.status().as_u16(), res.text().await.unwrap())
}

fn encode(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

#[tokio::test]
async fn the_page_is_key_free_but_refuses_foreign_hosts_origins_and_forms_without_their_token() {
    let sb = start_with(demo()).await;
    sb.sandbox
        .clock()
        .set(time::macros::datetime!(2026-02-11 12:00 UTC));
    let port = port(&sb);
    let (status, html) = dashboard(&sb).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains(sb.sandbox.key()),
        "the key is not on the page"
    );
    assert!(!html.contains("<script"), "no script");
    let token = csrf_of(&html);

    // Under localhost it is the same page; under a rebinding name, the plain refusal, no data.
    let res = sb
        .http
        .get(format!("http://localhost:{port}/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = sb
        .http
        .get(sb.url("/dashboard"))
        .header("host", format!("rebind.attacker.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 421);
    let text = res.text().await.unwrap();
    assert!(text.contains("Misdirected request"), "{text}");
    assert!(!text.contains("Jane") && !text.contains("cus_"), "{text}");

    let before = api_now(&sb).await;
    let own = sb.sandbox.base_url().to_owned();
    let advance = |csrf: &str| encode(&[("action", "advance"), ("by", "30d"), ("csrf", csrf)]);
    let form = ("content-type", FORM.to_owned());
    let other_page_token = {
        // A checkout page's token is for another form.
        let s = sb
            .ok(
                Method::POST,
                "/v1/sdk/checkout-sessions",
                "/v1/sdk/checkout-sessions",
                Some(json!({"customerRef": "cus_A1B2C3D4", "productRef": "prd_P9Q0R1S2", "planRef": "pln_K5L6M7N8"})),
                201,
            )
            .await;
        let (_, page) = sb.page(s["checkoutUrl"].as_str().unwrap()).await;
        csrf_of(&page)
    };
    let refusals: Vec<(Headers<'_>, String, u16, &str)> = vec![
        (vec![form.clone()], advance(&token), 403, "no Origin"),
        (
            vec![form.clone(), ("origin", "http://evil.example".into())],
            advance(&token),
            403,
            "another site",
        ),
        (
            vec![form.clone(), ("origin", "null".into())],
            advance(&token),
            403,
            "another site",
        ),
        (
            vec![
                form.clone(),
                ("origin", own.clone()),
                ("sec-fetch-site", "cross-site".into()),
            ],
            advance(&token),
            403,
            "another site",
        ),
        (
            vec![form.clone(), ("origin", own.clone())],
            encode(&[("action", "advance"), ("by", "30d")]),
            403,
            "security token",
        ),
        (
            vec![form.clone(), ("origin", own.clone())],
            advance(&"0".repeat(64)),
            403,
            "security token",
        ),
        (
            vec![form.clone(), ("origin", own.clone())],
            advance(&other_page_token),
            403,
            "security token",
        ),
        (
            vec![
                ("content-type", "text/plain".into()),
                ("origin", own.clone()),
            ],
            advance(&token),
            415,
            "urlencoded",
        ),
    ];
    for (headers, body, expected, says) in refusals {
        let (status, text) = raw_post(&sb, &headers, body).await;
        assert_eq!(status, expected, "{headers:?}: {text}");
        assert!(
            text.contains(says) && text.contains("Nothing was changed"),
            "{text}"
        );
    }
    assert_eq!(
        api_now(&sb).await,
        before,
        "no refused form moved the clock"
    );
    // A foreign Host on the form post: refused before anything else.
    let res = sb
        .http
        .post(sb.url("/dashboard/clock"))
        .header("host", format!("rebind.attacker.example:{port}"))
        .header("origin", format!("http://rebind.attacker.example:{port}"))
        .header("content-type", FORM)
        .body(advance(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 421);
    assert_eq!(api_now(&sb).await, before);
}

/// Posts the dashboard's clock form as the page would, with the page's token.
async fn clock_form(sb: &Sb, fields: &[(&str, &str)]) -> reqwest::Response {
    let (_, html) = dashboard(sb).await;
    let token = csrf_of(&html);
    let mut all = fields.to_vec();
    all.push(("csrf", &token));
    sb.form("/dashboard/clock", &all).await
}

fn clock_on_page(html: &str) -> (String, String) {
    with_main(html, |root| {
        let t = root
            .descendants()
            .find(|n| n.attribute("id") == Some("clock-now"))
            .unwrap();
        (
            t.attribute("datetime").unwrap().to_owned(),
            t.attribute("data-mode").unwrap().to_owned(),
        )
    })
}

#[tokio::test]
async fn the_clock_form_moves_the_clock_the_api_and_sandbox_status_give_and_refuses_bad_values() {
    let (sb, _dir, db) = on_file(true).await;
    // Frozen, so that every reading of the clock is exact.
    let res = clock_form(&sb, &[("action", "set"), ("at", "2026-02-11T12:00:00Z")]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/dashboard");
    assert_eq!(api_now(&sb).await, "2026-02-11T12:00:00.000Z");
    let (_, html) = dashboard(&sb).await;
    assert_eq!(
        clock_on_page(&html),
        ("2026-02-11T12:00:00.000Z".into(), "frozen".into())
    );

    // Advance past Jane's renewal on 2026-02-15: the API and the page both see the renewal.
    let res = clock_form(&sb, &[("action", "advance"), ("by", "5d")]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(api_now(&sb).await, "2026-02-16T12:00:00.000Z");
    let listed = api(
        &sb,
        "/v1/ui/transactions",
        "/v1/ui/transactions?transactionType=payment&customerId=cus_A1B2C3D4",
    )
    .await;
    assert_eq!(listed["total"], 2, "{listed}");
    let (_, html) = dashboard(&sb).await;
    assert_eq!(clock_on_page(&html).0, "2026-02-16T12:00:00.000Z");
    with_main(&html, |root| {
        let p = panel(root, "transactions");
        assert_eq!(total(p), 2);
        let feb = root
            .descendants()
            .find(|n| n.attribute("data-month") == Some("2026-02"))
            .unwrap();
        assert_eq!(feb.attribute("data-gross"), Some("4900"));
    });
    // The stored clock is what `sandbox status` reads.
    let status = solvapay_mcp::sandbox::admin::status(&db).unwrap();
    let clock = status.clock.unwrap();
    assert_eq!(clock.now, "2026-02-16T12:00:00.000Z");
    assert!(clock.stored);

    // A bare date sets midnight UTC.
    let res = clock_form(&sb, &[("action", "set"), ("at", "2026-06-01")]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(api_now(&sb).await, "2026-06-01T00:00:00.000Z");

    // Bad values: the page again, with the reason, and the clock where it was.
    let bad: &[(&[(&str, &str)], &str)] = &[
        (&[("action", "advance"), ("by", "1.5h")], "Write a duration"),
        (&[("action", "advance"), ("by", "")], "Write a duration"),
        (&[("action", "advance"), ("by", "30")], "Write a duration"),
        (&[("action", "advance"), ("by", "600w")], "at most 10 years"),
        (&[("action", "set"), ("at", "2026-13-01")], "Write a date"),
        (&[("action", "set"), ("at", "tomorrow")], "Write a date"),
        (
            &[("action", "set"), ("at", "3000-01-01")],
            "between the years 1970 and 2999",
        ),
        (
            &[("action", "set"), ("at", "1969-12-31T23:59:59Z")],
            "between the years 1970 and 2999",
        ),
        (&[("action", "explode")], "Choose advance"),
        (&[], "Choose advance"),
    ];
    for (fields, says) in bad {
        let res = clock_form(&sb, fields).await;
        assert_eq!(res.status().as_u16(), 400, "{fields:?}");
        assert_page_headers(&res, CSP);
        let html = res.text().await.unwrap();
        with_main(&html, |root| {
            let alert = root
                .descendants()
                .find(|n| n.attribute("role") == Some("alert"))
                .unwrap_or_else(|| panic!("{fields:?}: no error on the page"));
            let text = text_of(alert);
            assert!(
                text.contains(says) && text.contains("The clock was not moved"),
                "{text}"
            );
        });
        // The page still shows every panel.
        assert!(html.contains("data-panel=\"transactions\""));
        assert_eq!(api_now(&sb).await, "2026-06-01T00:00:00.000Z", "{fields:?}");
    }

    // Resume lets time flow from where it stands.
    let res = clock_form(&sb, &[("action", "resume")]).await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, html) = dashboard(&sb).await;
    let (now, mode) = clock_on_page(&html);
    assert_eq!(mode, "flowing");
    assert!(now.starts_with("2026-06-01T00:0"), "{now}");
    sb.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_dashboard_url_is_on_stderr_at_start_and_in_sandbox_status() {
    let home = Home::new();
    let db = home.path().join("dash.sqlite");
    let db_arg = db.to_str().unwrap();
    let mut child = home
        .command()
        .args(["sandbox", "--demo", "--db", db_arg])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), out.next_line())
        .await
        .expect("the sandbox prints its URL")
        .unwrap()
        .unwrap();
    let url = first
        .strip_prefix("SOLVAPAY_API_BASE_URL=")
        .unwrap()
        .to_owned();
    let dashboard_url = format!("{url}/dashboard");
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = err.next_line().await.unwrap() {
            if line.contains("dashboard") {
                return line;
            }
        }
        panic!("stderr ended without the dashboard line");
    })
    .await
    .expect("the dashboard line within 20 s");
    assert!(line.contains(&dashboard_url), "{line}");

    let http = crate::support::http();
    let page = http.get(&dashboard_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Sandbox dashboard"));

    let ran = home
        .run(&["sandbox", "status", "--json", "--db", db_arg])
        .await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let status = ran.json();
    assert_eq!(
        status["server"]["dashboard"],
        dashboard_url.as_str(),
        "{status}"
    );
    let ran = home.run(&["sandbox", "status", "--db", db_arg]).await;
    assert!(
        ran.stdout.contains(&format!("dashboard {dashboard_url}")),
        "{}",
        ran.stdout
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn a_sandbox_open_to_the_network_refuses_the_dashboard_to_another_machine() {
    // This machine's address on its outbound interface (no packet is sent).
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    let lan = probe
        .connect("192.0.2.1:9")
        .and_then(|()| probe.local_addr())
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified() && ip.is_ipv4());
    let Some(lan) = lan else {
        panic!("this test needs a non-loopback IPv4 address on the machine");
    };
    let sb = start_with(SandboxOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        demo: true,
        ..memory()
    })
    .await;
    let port = port(&sb);
    // From the machine itself (loopback), the page.
    let (status, _) = dashboard(&sb).await;
    assert_eq!(status, 200);
    // From the LAN address (the peer is not loopback): refused, no ledger data.
    let res = sb
        .http
        .get(format!("http://{lan}:{port}/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert_page_headers(&res, CSP);
    let text = res.text().await.unwrap();
    assert!(text.contains("only on the machine"), "{text}");
    assert!(!text.contains("Jane") && !text.contains("cus_"), "{text}");
    // The API there still works with the key (unchanged).
    let res = sb
        .http
        .get(format!("http://{lan}:{port}/v1/sdk/products"))
        .bearer_auth(sb.sandbox.key())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
