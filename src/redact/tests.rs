//! The redactor on hand-written cases; tests/it/redaction.rs drives it with generated keys and forms.

use super::*;

const KEY: &str = "sk_test_CANARY_9f8e7d6c";

fn redactor() -> Redactor {
    Redactor::new([KEY])
}

fn scrub(text: &str) -> String {
    redactor().scrub_str(text).into_owned()
}

#[test]
fn each_form_of_the_key_is_replaced_and_its_surroundings_kept() {
    let cases = [
        (
            format!("Invalid API key {KEY}."),
            "Invalid API key [redacted].",
        ),
        ("Bearer SK_TEST_canary_9F8E7D6C".into(), "Bearer [redacted]"),
        (
            r#"{"message":"Invalid API key sk\u005ftest\u005FCANARY\u005f9f8e7d6c"}"#.into(),
            r#"{"message":"Invalid API key [redacted]"}"#,
        ),
        (
            "key=sk%5Ftest%5fCANARY%5F9f8e7d6c&x=1".into(),
            "key=[redacted]&x=1",
        ),
        ("sk&#95;test&#x5F;CANARY_9f8e7d6c".into(), "[redacted]"),
        (
            // A key hidden behind a surrogate pair's neighbour: the pair is kept intact.
            r#""\ud83d\ude00 \u0073\u006b_test_CANARY_9f8e7d6c \u00e9""#.into(),
            r#""\ud83d\ude00 [redacted] \u00e9""#,
        ),
        (
            "736b5f746573745f43414e4152595f39663865376436630a".into(),
            "[redacted]0a",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(scrub(&text), expected, "{text}");
    }
}

#[test]
fn base64_of_the_key_is_cut_out_at_every_offset() {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    for before in ["", "x", "xy", "Basic "] {
        for engine in [&STANDARD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(format!("{before}{KEY}:tail"));
            let out = scrub(&format!("token {encoded} end"));
            assert!(out.contains(REDACTED), "{before:?}: {out}");
            // Of the key's own characters, at most the two partial ones at its edges are left.
            let kept = out.len() - REDACTED.len() - "token  end".len();
            let removed = encoded.len() - kept;
            assert!(
                removed + 2 >= (KEY.len() * 4).div_ceil(3),
                "{before:?}: {out}"
            );
        }
    }
}

#[test]
fn text_without_the_key_is_borrowed_unchanged() {
    let r = redactor();
    for text in [
        "",
        "plain text",
        r#"{"message":"caf\u00e9 100% & more \/ \\ &#1234; %zz \ud800"}"#,
        "sk_test_CANARY_9f8e7d6",
    ] {
        assert!(
            matches!(r.scrub_str(text), Cow::Borrowed(t) if t == text),
            "{text}"
        );
    }
    let none = Redactor::default();
    assert!(matches!(none.scrub_str(KEY), Cow::Borrowed(_)));
}

#[test]
fn short_secrets_are_not_searched_for() {
    let r = Redactor::new(["abc", ""]);
    assert!(matches!(r.scrub_str("abc abc"), Cow::Borrowed(_)));
    assert_eq!(format!("{r:?}"), "Redactor { forms: 0 }");
}

#[test]
fn overlapping_secrets_are_removed_whole() {
    let r = Redactor::new(["sk_live_AAAABBBB", "BBBBCCCC_sk_live"]);
    assert_eq!(
        r.scrub_str("x sk_live_AAAABBBBCCCC_sk_live y"),
        "x [redacted] y"
    );
}

#[test]
fn json_strings_and_keys_are_scrubbed_in_place() {
    let mut value = serde_json::json!({
        "name": format!("Jane {KEY}"),
        "list": [1, "ok", {KEY: "sk\\u005ftest"}],
    });
    redactor().scrub_json(&mut value);
    assert_eq!(
        value,
        serde_json::json!({"name": "Jane [redacted]", "list": [1, "ok", {"[redacted]": "sk\\u005ftest"}]})
    );
}

#[test]
fn debug_shows_no_secret() {
    let shown = format!("{:?}", redactor());
    assert!(!shown.contains("CANARY"), "{shown}");
}

#[test]
fn every_reading_of_the_escapes_is_tried() {
    // A `%` or `\` just before the key would swallow its first characters if only one reading
    // were tried; a backslash-escaped backslash (a JSON string inside a log line) is seen through.
    let r = Redactor::new(["ab12cd34_key", "u0041ffff_key"]);
    let cases = [
        ("50%ab12cd34_key", "50%[redacted]"),
        ("50%ab12cd34%5Fkey", "50%[redacted]"),
        (r"x\u0041ffff_key", r"x\[redacted]"),
        (r"x\\u0061b12cd34\\u005fkey", "x[redacted]"),
        ("x%2561b12cd34%255Fkey", "x[redacted]"),
        (r"x\u002561b12cd34\u00255Fkey", "x[redacted]"),
        (r"&#x61;b12cd34_key&amp;", "[redacted]&amp;"),
    ];
    for (text, expected) in cases {
        assert_eq!(r.scrub_str(text), expected, "{text}");
    }
}

#[test]
fn a_key_is_found_wherever_it_falls_in_a_long_text() {
    let r = redactor();
    for at in [0, 200, 250, 4000, 4050, 4073, 4090, 4096, 8150, 9000] {
        for key in [KEY.to_owned(), KEY.replace('_', "%5F")] {
            let (before, after) = ("x".repeat(at), "y".repeat(10));
            let text = format!("{before}{key}{after}");
            assert_eq!(
                r.scrub_str(&text),
                format!("{before}[redacted]{after}"),
                "{at}"
            );
        }
    }
}
