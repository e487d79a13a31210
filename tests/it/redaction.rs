//! The key never leaves the server, in any form. A mock SolvaPay echoes it, raw and encoded, in
//! error bodies (4xx and 5xx), success bodies, a body that fails to decode and a response header;
//! the real binary runs at `RUST_LOG=trace`, and no result, log line or audit line shows it. Plus
//! the redactor's own properties, on any key in any form.

use std::borrow::Cow;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::json;
use solvapay_mcp::SolvaPayClient;
use solvapay_mcp::model::CustomerRef;
use solvapay_mcp::model::customer::CreateCustomer;
use solvapay_mcp::redact::{REDACTED, Redactor};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::shutdown::Session;
use crate::support::{self, KEY, leaks};

/// A raw JSON body (kept as written, escapes included).
fn body(status: u16, json: String) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(json, "application/json")
}

/// Mounts, for form `i`, a refused read, a failed write, and a read and a write that succeed, each
/// body carrying `form`.
async fn mount_form(upstream: &MockServer, i: usize, form: &str) {
    let refused = [400, 401, 404, 422][i % 4];
    Mock::given(method("GET"))
        .and(path(format!("/v1/sdk/customers/cus_ERR{i:03}")))
        .respond_with(body(
            refused,
            format!(r#"{{"statusCode": {refused}, "message": "Invalid API key {form}"}}"#),
        ))
        .mount(upstream)
        .await;
    let failed = [500, 502, 503][i % 3];
    Mock::given(method("POST"))
        .and(path("/v1/sdk/customers"))
        .and(body_string_contains(format!("fail{i:03}@")))
        .respond_with(body(
            failed,
            format!(r#"{{"message": "backend rejected token {form}", "error": "{form}"}}"#),
        ))
        .mount(upstream)
        .await;
    let customer = |reference: String, email: String| {
        format!(
            r#"{{"reference": "{reference}", "email": "{email}", "name": "Jane {form}", "metadata": {{"note": "{form}"}}}}"#
        )
    };
    Mock::given(method("GET"))
        .and(path(format!("/v1/sdk/customers/cus_OK{i:03}")))
        .respond_with(body(
            200,
            customer(format!("cus_OK{i:03}"), format!("ok{i:03}@example.com")),
        ))
        .mount(upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/sdk/customers"))
        .and(body_string_contains(format!("new{i:03}@")))
        .respond_with(body(
            201,
            customer(format!("cus_NEW{i:03}"), format!("new{i:03}@example.com")),
        ))
        .mount(upstream)
        .await;
}

/// A success body that does not decode (the decoder's message quotes the offending value), and a
/// request id header echoing the `Authorization` header.
async fn mount_oddities(upstream: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_DECODE1"))
        .respond_with(body(
            200,
            r#"{"reference": "cus_DECODE1", "purchases": "sk\u005ftest_CANARY_9f8e7d6c"}"#
                .to_owned(),
        ))
        .mount(upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/sdk/customers/cus_HEADER1"))
        .respond_with(
            body(404, r#"{"message": "Customer not found"}"#.to_owned())
                .insert_header("x-request-id", format!("BEARER {KEY}").as_str()),
        )
        .mount(upstream)
        .await;
}

#[tokio::test]
async fn the_key_in_any_form_reaches_no_result_log_line_or_audit_line() {
    let upstream = support::upstream().await;
    let forms = leaks::forms(KEY);
    for (i, (_, form)) in forms.iter().enumerate() {
        mount_form(&upstream, i, form).await;
    }
    mount_oddities(&upstream).await;

    let data = tempfile::tempdir().unwrap();
    let mut session = Session::start(
        &upstream.uri(),
        data.path(),
        &[("RUST_LOG", "trace"), ("SOLVAPAY_SECRET_KEY", KEY)],
    )
    .await;
    let mut calls = vec![
        (
            "decode error",
            "get_customer",
            json!({"reference": "cus_DECODE1"}),
        ),
        (
            "request id",
            "get_customer",
            json!({"reference": "cus_HEADER1"}),
        ),
        // A model pasting the key into a call: the request is logged at debug, the refusal quotes it.
        (
            "key in arguments",
            "get_customer",
            json!({"reference": format!("Bearer {KEY}")}),
        ),
    ];
    for (i, (name, _)) in forms.iter().enumerate() {
        let name = name.as_str();
        calls.extend([
            (
                name,
                "get_customer",
                json!({"reference": format!("cus_ERR{i:03}")}),
            ),
            (
                name,
                "create_customer",
                json!({"email": format!("fail{i:03}@example.com")}),
            ),
            (
                name,
                "get_customer",
                json!({"reference": format!("cus_OK{i:03}")}),
            ),
            (
                name,
                "create_customer",
                json!({"email": format!("new{i:03}@example.com")}),
            ),
        ]);
    }
    let mut answers = String::new();
    for (id, (form, tool, args)) in (1..).zip(calls) {
        session.call(id, tool, args.clone()).await;
        let answer = session.response(id).await;
        let text = answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default();
        // The planted text arrived, and only the key was cut out of it.
        assert!(
            text.contains(REDACTED),
            "{form}: {tool} {args} answered {answer}"
        );
        if let Some(structured) = answer["result"].get("structuredContent") {
            assert!(
                structured["name"].as_str().unwrap().starts_with("Jane "),
                "{structured}"
            );
        }
        answers.push_str(&answer.to_string());
    }
    drop(session.stdin.take());
    let (status, rest, logs) = session.finish(Duration::from_secs(10)).await;
    assert!(status.success());
    assert!(logs.contains("TRACE"), "trace logging was on");
    let audit = std::fs::read_to_string(data.path().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains("create_customer") && audit.contains(REDACTED),
        "{audit}"
    );
    for (what, text) in [
        ("tool results", &answers),
        ("stdout", &rest),
        ("stderr", &logs),
        ("audit log", &audit),
    ] {
        assert_eq!(
            leaks::reveals(text, KEY),
            None,
            "the key shows in the {what}"
        );
        assert!(
            !text.to_lowercase().contains("canary"),
            "part of the key shows in the {what}"
        );
    }
}

/// The client alone: each answer is scrubbed before it is decoded, and each error after it is built.
#[tokio::test]
async fn the_client_hands_back_no_key_in_values_or_errors() {
    let upstream = support::upstream().await;
    let forms = leaks::forms(KEY);
    for (i, (_, form)) in forms.iter().enumerate() {
        mount_form(&upstream, i, form).await;
    }
    mount_oddities(&upstream).await;
    let api = SolvaPayClient::new(&support::config(&upstream.uri()));
    let customer = |reference: &str| CustomerRef::parse("reference", reference).unwrap();
    let new = |email: String| CreateCustomer {
        email,
        name: None,
        telephone: None,
        metadata: Default::default(),
        external_ref: None,
    };
    let mut shown = vec![
        format!(
            "{:?}",
            api.get_customer(&customer("cus_DECODE1"))
                .await
                .unwrap_err()
        ),
        format!(
            "{:?}",
            api.get_customer(&customer("cus_HEADER1"))
                .await
                .unwrap_err()
        ),
    ];
    for i in 0..forms.len() {
        let refused = api
            .get_customer(&customer(&format!("cus_ERR{i:03}")))
            .await
            .unwrap_err();
        let failed = api
            .create_customer(&new(format!("fail{i:03}@example.com")))
            .await
            .unwrap_err();
        let found = api
            .get_customer(&customer(&format!("cus_OK{i:03}")))
            .await
            .unwrap();
        let created = api
            .create_customer(&new(format!("new{i:03}@example.com")))
            .await
            .unwrap();
        shown.extend([
            format!("{refused} {refused:?}"),
            format!("{failed} {failed:?}"),
            format!("{found:?}"),
            format!("{created:?}"),
        ]);
    }
    for text in shown {
        assert!(text.contains(REDACTED), "{text}");
        assert_eq!(leaks::reveals(&text, KEY), None, "{text}");
    }
}

/// Keys as SolvaPay issues them, and any other of a URL-safe alphabet.
fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "sk_(test|live|sandbox)_[A-Za-z0-9]{4,32}",
        "[A-Za-z0-9_.~-]{8,48}",
    ]
}

/// Text around the key: anything printable, or the characters escapes are made of.
fn around() -> impl Strategy<Value = String> {
    prop_oneof!["\\PC{0,16}", "[a-f0-9 _%&#;\\\\/\"+=:.{}uxX-]{0,24}"]
}

/// How a key is written out.
#[derive(Debug, Clone)]
enum Form {
    /// Each letter in either case, after an optional `Bearer ` in any case.
    Cased {
        upper: Vec<bool>,
        bearer: Option<&'static str>,
    },
    /// Some characters as `\uXXXX` (`\\uXXXX` when the JSON is itself quoted in a string).
    Json {
        escaped: Vec<bool>,
        upper_hex: bool,
        doubled: bool,
    },
    /// Some bytes as `%XX`.
    Percent { escaped: Vec<bool>, upper_hex: bool },
    /// Some characters as `&#NN;` or `&#xHH;`.
    Html { escaped: Vec<bool>, hex: bool },
    /// Hex of the bytes.
    Hex { upper: bool },
    /// Base64 of the key with bytes before and after it (so at any alignment), in either alphabet,
    /// padded or not, then possibly escaped for JSON (`\/`) or a URL (`%2B`, `%2F`, `%3D`).
    Base64 {
        url_safe: bool,
        padded: bool,
        before: Vec<u8>,
        after: Vec<u8>,
        escape: u8,
    },
}

fn flags() -> impl Strategy<Value = Vec<bool>> {
    proptest::collection::vec(any::<bool>(), 48)
}

fn any_form() -> impl Strategy<Value = Form> {
    prop_oneof![
        (
            flags(),
            proptest::option::of(prop_oneof![
                Just("Bearer "),
                Just("bearer "),
                Just("BEARER ")
            ])
        )
            .prop_map(|(upper, bearer)| Form::Cased { upper, bearer }),
        (flags(), any::<bool>(), any::<bool>()).prop_map(|(escaped, upper_hex, doubled)| {
            Form::Json {
                escaped,
                upper_hex,
                doubled,
            }
        }),
        (flags(), any::<bool>())
            .prop_map(|(escaped, upper_hex)| Form::Percent { escaped, upper_hex }),
        (flags(), any::<bool>()).prop_map(|(escaped, hex)| Form::Html { escaped, hex }),
        any::<bool>().prop_map(|upper| Form::Hex { upper }),
        (
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(any::<u8>(), 0..5),
            proptest::collection::vec(any::<u8>(), 0..5),
            0u8..3
        )
            .prop_map(|(url_safe, padded, before, after, escape)| Form::Base64 {
                url_safe,
                padded,
                before,
                after,
                escape
            }),
    ]
}

impl Form {
    fn write(&self, key: &str) -> String {
        let each = |flags: &[bool], f: &dyn Fn(char) -> String| -> String {
            key.chars()
                .zip(flags.iter().cycle())
                .map(|(c, &on)| if on { f(c) } else { c.to_string() })
                .collect()
        };
        let hex = |n: u32, width: usize, upper: bool| {
            let h = format!("{n:0width$x}");
            if upper { h.to_uppercase() } else { h }
        };
        match self {
            Form::Cased { upper, bearer } => {
                let cased = each(upper, &|c| c.to_ascii_uppercase().to_string());
                format!("{}{}", bearer.unwrap_or(""), cased)
            }
            Form::Json {
                escaped,
                upper_hex,
                doubled,
            } => {
                let slash = if *doubled { "\\\\" } else { "\\" };
                each(escaped, &|c| {
                    format!("{slash}u{}", hex(u32::from(c), 4, *upper_hex))
                })
            }
            Form::Percent { escaped, upper_hex } => each(escaped, &|c| {
                format!("%{}", hex(u32::from(c), 2, *upper_hex))
            }),
            Form::Html { escaped, hex: true } => {
                each(escaped, &|c| format!("&#x{:x};", u32::from(c)))
            }
            Form::Html {
                escaped,
                hex: false,
            } => each(escaped, &|c| format!("&#{};", u32::from(c))),
            Form::Hex { upper } => key.bytes().map(|b| hex(u32::from(b), 2, *upper)).collect(),
            Form::Base64 {
                url_safe,
                padded,
                before,
                after,
                escape,
            } => {
                use base64::Engine as _;
                use base64::engine::general_purpose::{
                    STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
                };
                let bytes = [before.as_slice(), key.as_bytes(), after.as_slice()].concat();
                let engine = match (url_safe, padded) {
                    (false, true) => &STANDARD,
                    (false, false) => &STANDARD_NO_PAD,
                    (true, true) => &URL_SAFE,
                    (true, false) => &URL_SAFE_NO_PAD,
                };
                let encoded = engine.encode(bytes);
                match escape {
                    1 => encoded.replace('/', "\\/"),
                    2 => encoded
                        .replace('+', "%2B")
                        .replace('/', "%2F")
                        .replace('=', "%3D"),
                    _ => encoded,
                }
            }
        }
    }
}

proptest! {
    #[test]
    fn any_key_in_any_form_anywhere_is_cut_out(
        key in any_key(),
        form in any_form(),
        before in around(),
        after in around(),
    ) {
        let redactor = Redactor::new([&key]);
        let text = format!("{before}{}{after}", form.write(&key));
        let out = redactor.scrub_str(&text);
        prop_assert_eq!(leaks::reveals(&out, &key), None, "{} became {}", text, out);
        prop_assert!(out.contains(REDACTED), "{}", out);
        prop_assert_eq!(redactor.scrub_str(&out), out.clone(), "scrubbing twice changes nothing");
    }

    #[test]
    fn text_without_the_key_is_returned_as_it_is(
        key in any_key(),
        before in around(),
        after in around(),
        cut in 1usize..8,
    ) {
        // Even the key shortened is not the key.
        let almost = &key[..key.len() - cut.min(key.len() - 1)];
        let text = format!("{before}{almost}{after}");
        prop_assume!(leaks::reveals(&text, &key).is_none());
        let redactor = Redactor::new([&key]);
        prop_assert!(matches!(redactor.scrub_str(&text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn a_json_string_stays_json_and_its_value_is_clean(
        key in any_key(),
        escaped in flags(),
        before in around(),
        after in around(),
    ) {
        let redactor = Redactor::new([&key]);
        let open = serde_json::to_string(&before).unwrap();
        let close = serde_json::to_string(&after).unwrap();
        let json = format!(
            "{}{}{}",
            &open[..open.len() - 1],
            Form::Json { escaped, upper_hex: false, doubled: false }.write(&key),
            &close[1..],
        );
        let out = redactor.scrub_str(&json);
        let value: String = serde_json::from_str(&out)
            .map_err(|e| TestCaseError::fail(format!("{json} became {out}: {e}")))?;
        prop_assert_eq!(leaks::reveals(&value, &key), None, "{}", value);
        prop_assert!(value.contains(REDACTED));
    }
}
