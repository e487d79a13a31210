//! The edges of input: references of the wrong kind, reused usage keys, dates at the calendar's
//! ends, and characters that disguise text. Every refusal is a VALIDATION_ERROR naming the field,
//! and nothing reaches SolvaPay (a wiremock upstream whose POST mocks expect no call).

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, Client, call, envelope, ok, request_count};

/// A SolvaPay that must not be called: every POST is a test failure when the server is dropped,
/// and the catch-all answers anything else with 599.
async fn untouchable() -> MockServer {
    let server = support::upstream().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(0)
        .mount(&server)
        .await;
    server
}

/// Calls `tool` and checks the result is a VALIDATION_ERROR for `field`; returns its message.
async fn refused(client: &Client, tool: &str, args: Value, field: &str) -> String {
    let result = call(client, tool, args.clone()).await;
    let error = envelope(&result)["error"].clone();
    assert_eq!(error["code"], "VALIDATION_ERROR", "{tool} {args}: {error}");
    assert_eq!(error["field"], field, "{tool} {args}: {error}");
    error["message"].as_str().unwrap().to_owned()
}

/// A whole-second RFC 3339 time an hour ago, inside SolvaPay's 30-day window.
fn an_hour_ago() -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    t.replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

const WRONG_CUSTOMERS: [&str; 5] = ["prd_P9Q0R1S2", "txn_D7E8F9G0", "bad", "cus_", "usage_A1B2"];
const WRONG_PRODUCTS: [&str; 5] = ["cus_X7Y8Z9W0", "pln_K5L6M7N8", "bad", "prd_", " prd_ "];

#[tokio::test]
async fn record_usage_refuses_a_reference_of_the_wrong_kind_under_every_name() {
    let upstream = untouchable().await;
    let client = support::connect(&upstream.uri()).await;
    for name in ["customerRef", "customerId"] {
        for bad in WRONG_CUSTOMERS {
            let mut args = json!({"productRef": "prd_P9Q0R1S2", "outcome": "success"});
            args[name] = json!(bad);
            let message = refused(&client, "record_usage", args, "customerRef").await;
            assert!(message.contains("customer reference"), "{message}");
        }
    }
    for name in ["productRef", "productReference"] {
        for bad in WRONG_PRODUCTS {
            let mut args = json!({"customerRef": "cus_X7Y8Z9W0", "outcome": "success"});
            args[name] = json!(bad);
            let message = refused(&client, "record_usage", args, "productRef").await;
            assert!(message.contains("product reference"), "{message}");
        }
    }
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn record_bulk_usage_refuses_one_wrong_kind_event_and_sends_nothing() {
    let upstream = untouchable().await;
    let client = support::connect(&upstream.uri()).await;
    let good = json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2"});
    let cases = WRONG_CUSTOMERS
        .iter()
        .flat_map(|bad| [("customerRef", *bad), ("customerId", *bad)])
        .map(|(name, bad)| (name, bad, "customerRef"))
        .chain(
            WRONG_PRODUCTS
                .iter()
                .flat_map(|bad| [("productRef", *bad), ("productReference", *bad)])
                .map(|(name, bad)| (name, bad, "productRef")),
        );
    for (name, bad, field) in cases {
        let mut odd = good.clone();
        odd.as_object_mut().unwrap().remove(field);
        odd[name] = json!(bad);
        let events = json!([good, good, odd, good]);
        refused(
            &client,
            "record_bulk_usage",
            json!({"events": events}),
            &format!("events[2].{field}"),
        )
        .await;
    }
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn a_reused_request_id_for_another_event_is_a_conflict_naming_both() {
    let (_sandbox, client) = support::sandbox(false).await;
    let at = an_hour_ago();
    let first = json!({"customerRef": "cus_FIRST001", "productRef": "prd_P9Q0R1S2", "outcome": "success",
                       "units": 3, "requestId": "req-7", "timestamp": at});
    let recorded = ok(&client, "record_usage", first.clone()).await;
    let reference = recorded["reference"].as_str().unwrap().to_owned();
    assert_eq!(recorded["duplicate"], false);

    // The same event again is a true duplicate: a success, the first reference, not counted.
    let again = ok(&client, "record_usage", first.clone()).await;
    assert_eq!(
        (again["duplicate"].clone(), again["reference"].clone()),
        (json!(true), json!(reference))
    );
    // So is a repeat without the timestamp (stamped now): the time does not identify the event.
    let mut unstamped = first.clone();
    unstamped.as_object_mut().unwrap().remove("timestamp");
    assert_eq!(
        ok(&client, "record_usage", unstamped).await["duplicate"],
        true
    );

    for (change, value, differs) in [
        ("customerRef", json!("cus_OTHER002"), "customerRef"),
        ("units", json!(1), "units"),
        ("outcome", json!("paywall"), "outcome"),
    ] {
        let mut other = first.clone();
        other[change] = value;
        let message = refused(&client, "record_usage", other, "requestId").await;
        // The earlier event: reference, customer, product, units, time; then the new one.
        for part in [
            reference.as_str(),
            "customer cus_FIRST001",
            "product prd_P9Q0R1S2",
            "3 units",
            "was not recorded",
            &format!("for a different event ({differs})"),
        ] {
            assert!(message.contains(part), "{part:?} missing: {message}");
        }
        let (earlier, new) = message.split_once("This event").unwrap();
        assert!(earlier.contains(&reference), "{message}");
        assert!(!new.contains(&reference), "{message}");
        let when = earlier
            .rsplit_once(" at ")
            .unwrap()
            .1
            .trim_end_matches(". ");
        assert_near(when, &at);
    }
    let mut new_customer = first.clone();
    new_customer["customerRef"] = json!("cus_OTHER002");
    let message = refused(&client, "record_usage", new_customer, "requestId").await;
    assert!(
        message
            .split_once("This event")
            .unwrap()
            .1
            .contains("customer cus_OTHER002, product prd_P9Q0R1S2, 3 units"),
        "{message}"
    );

    // In bulk: the conflict is its own status, counted, listed with the key and the earlier event.
    let second = json!({"customerRef": "cus_FIRST001", "productRef": "prd_P9Q0R1S2", "outcome": "success",
                        "units": 2, "requestId": "req-6", "timestamp": at});
    let second_ref = ok(&client, "record_usage", second.clone()).await["reference"].clone();
    let mut five_units = second;
    five_units["units"] = json!(5);
    let fresh =
        json!({"customerRef": "cus_FIRST001", "productRef": "prd_P9Q0R1S2", "requestId": "req-8"});
    let out = ok(
        &client,
        "record_bulk_usage",
        json!({"events": [first, five_units.clone(), fresh]}),
    )
    .await;
    assert_eq!(out["success"], false, "{out}");
    assert_eq!(
        [
            &out["inserted"],
            &out["recorded"],
            &out["duplicates"],
            &out["conflicts"]
        ],
        [&json!(1), &json!(1), &json!(1), &json!(1)],
        "{out}"
    );
    let listed = out["events"].as_array().unwrap();
    assert_eq!(
        listed[0],
        json!({"index": 0, "status": "duplicate", "reference": reference})
    );
    assert!(
        listed[1].get("reference").is_none(),
        "a conflict stored nothing"
    );
    // (The fresh event is listed only for its skip reason: the sandbox knows no such customer.)
    assert_eq!(
        (&listed[2]["index"], &listed[2]["status"]),
        (&json!(2), &json!("recorded"))
    );
    let conflict = &listed[1];
    assert_eq!(
        (
            &conflict["index"],
            &conflict["status"],
            &conflict["idempotencyKey"]
        ),
        (&json!(1), &json!("conflict"), &json!("req-6"))
    );
    assert!(conflict["reason"].as_str().unwrap().contains("units"));
    let earlier = &conflict["earlier"];
    assert_eq!(earlier["reference"], second_ref);
    assert_eq!(
        (
            &earlier["customerRef"],
            &earlier["productRef"],
            &earlier["units"]
        ),
        (&json!("cus_FIRST001"), &json!("prd_P9Q0R1S2"), &json!(2))
    );
    assert_near(earlier["timestamp"].as_str().unwrap(), &at);
    // Alone, the conflict is still a report (not an error), and its summary says so.
    let alone = call(
        &client,
        "record_bulk_usage",
        json!({"events": [five_units]}),
    )
    .await;
    assert_eq!(alone.is_error, Some(false));
    let summary = support::text(&alone);
    assert!(
        summary.contains("0 of 1 usage events recorded, 0 duplicates, 1 conflicting"),
        "{summary}"
    );
}

/// `reported` names the instant `sent` (within a second: the sandbox keeps its clock's timeline).
fn assert_near(reported: &str, sent: &str) {
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{t:?}: {e}"))
    };
    let gap = (parse(reported) - parse(sent)).abs();
    assert!(gap < time::Duration::seconds(1), "{reported} vs {sent}");
}

/// Dates past either end of the accepted range, or of the calendar.
const EDGE_DATES: [&str; 8] = [
    "9999-12-31",
    "0000-01-01",
    "+10000-01-01",
    "-0001-01-01",
    "9999-12-31T23:59:59Z",
    "0000-01-01T00:00:00+23:59",
    "3000-01-01",
    "1969-12-31",
];

#[tokio::test]
async fn dates_at_the_calendar_edges_are_refused_by_every_tool_before_any_request() {
    let upstream = untouchable().await;
    let client = support::connect(&upstream.uri()).await;
    for raw in EDGE_DATES {
        for tool in ["list_transactions", "get_transaction_stats"] {
            for field in ["fromDate", "toDate"] {
                refused(&client, tool, json!({ field: raw }), field).await;
            }
        }
        let usage = json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2",
                           "outcome": "success", "timestamp": raw});
        refused(&client, "record_usage", usage.clone(), "timestamp").await;
        refused(
            &client,
            "record_bulk_usage",
            json!({"events": [{"customerRef": "cus_X7Y8Z9W0"}, usage]}),
            "events[1].timestamp",
        )
        .await;
    }
    // Nothing reached SolvaPay, not even the GETs of the read tools.
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn disguising_characters_in_emails_names_and_free_text_are_refused_before_any_request() {
    let upstream = untouchable().await;
    let client = support::connect(&upstream.uri()).await;
    let email = "jane\u{202E}moc.emca@evil.com";
    for (tool, args) in [
        ("create_customer", json!({"email": email})),
        ("ensure_customer", json!({"email": email})),
        (
            "update_customer",
            json!({"reference": "cus_A1B2C3D4", "email": email}),
        ),
    ] {
        let message = refused(&client, tool, args, "email").await;
        assert!(message.contains("U+202E"), "{message}");
    }
    for c in ['\u{200B}', '\u{FEFF}', '\u{2028}'] {
        let text = format!("Refund{c} approved");
        let cases = [
            (
                "create_customer",
                json!({"email": "jane@acme.com", "name": text}),
                "name",
            ),
            (
                "ensure_customer",
                json!({"email": "jane@acme.com", "name": text}),
                "name",
            ),
            ("create_product", json!({"name": text}), "name"),
            (
                "create_product",
                json!({"name": "Widget", "description": text}),
                "description",
            ),
            (
                "update_product",
                json!({"reference": "prd_P9Q0R1S2", "description": text}),
                "description",
            ),
            (
                "create_plan",
                json!({"productRef": "prd_P9Q0R1S2", "type": "one-time", "price": 100, "name": text}),
                "name",
            ),
            (
                "update_plan",
                json!({"productRef": "prd_P9Q0R1S2", "planRef": "pln_K5L6M7N8", "description": text}),
                "description",
            ),
            (
                "create_refund",
                json!({"sourceTransactionRef": "txn_D7E8F9G0", "reason": text}),
                "reason",
            ),
            (
                "cancel_renewal",
                json!({"purchaseRef": "pur_T3U4V5W6", "reason": text}),
                "reason",
            ),
            (
                "create_customer",
                json!({"email": "jane@acme.com", "metadata": {"note": text}}),
                "metadata.note",
            ),
            (
                "update_plan",
                json!({"productRef": "prd_P9Q0R1S2", "planRef": "pln_K5L6M7N8", "features": {"api": [text]}}),
                "features.api[0]",
            ),
            (
                "record_usage",
                json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "outcome": "success", "action": text}),
                "action",
            ),
            ("list_customers", json!({"search": text}), "search"),
        ];
        for (tool, args, field) in cases {
            let message = refused(&client, tool, args, field).await;
            assert!(
                message.contains(&format!("{:04X}", u32::from(c))) || field == "name",
                "{tool}: {message}"
            );
        }
    }
    assert_eq!(request_count(&upstream).await, 0);
}

#[tokio::test]
async fn plain_accented_text_and_emoji_still_reach_solvapay() {
    let upstream = support::upstream().await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/products"))
        .and(body_partial_json(
            json!({"name": "Zoë's Café", "description": "Délicieux ☕ 漢字"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"reference": "prd_P9Q0R1S2", "name": "Zoë's Café", "status": "active"}),
        ))
        .expect(1)
        .mount(&upstream)
        .await;
    let client = support::connect(&upstream.uri()).await;
    ok(
        &client,
        "create_product",
        json!({"name": "Zoë's Café", "description": "Délicieux ☕ 漢字"}),
    )
    .await;
}
