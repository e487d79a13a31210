//! Argument rules checked before any request is sent: each failure names the field at fault.
//! The character rules come from [`crate::text`]: free text holding a character that hides or
//! reorders text is refused here, as the results and upstream messages drop it.

#![deny(clippy::arithmetic_side_effects)]

use std::fmt;

use serde_json::{Map, Value};

use crate::text::{is_disguising, refused_in_input};

/// One argument that breaks a rule: which field, and what is expected instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The argument's name as the caller wrote it (`email`, `events[3].customerRef`).
    pub field: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl FieldError {
    /// A rule broken by `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, for a field nested under `prefix` (e.g. `events[2]`).
    pub fn nested(self, prefix: &str) -> Self {
        Self {
            field: format!("{prefix}.{}", self.field),
            message: self.message,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Longest free text accepted (descriptions, reasons, search strings).
pub const MAX_TEXT: usize = 1000;

/// An email address as SolvaPay accepts it: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn email(field: &str, raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let bad = || {
        FieldError::new(
            field,
            format!("{value:?} is not a valid email address (expected name@example.com)"),
        )
    };
    if let Some(c) = value.chars().find(|c| is_disguising(*c)) {
        return Err(FieldError::new(
            field,
            format!(
                "contains the invisible or bidi character U+{:04X}; an email address cannot carry it",
                u32::from(c)
            ),
        ));
    }
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    if local.is_empty() || local.len() > 64 || !domain_ok {
        return Err(bad());
    }
    Ok(value.to_owned())
}

/// A display name: 1–`max` characters of letters, digits, spaces and `. , ' " & / ( ) + : -`.
pub fn name(field: &str, raw: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    let count = value.chars().count();
    if count < min || count > max {
        return Err(FieldError::new(
            field,
            format!("must be {min}–{max} characters long (got {count})"),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_alphanumeric() || " .,'\"&/()+:-_".contains(*c)))
    {
        return Err(FieldError::new(
            field,
            format!(
                "contains {c:?}; only letters, digits, spaces and . , ' \" & / ( ) + : - _ are allowed"
            ),
        ));
    }
    Ok(value.to_owned())
}

/// An E.164 telephone number (`+` then 7–15 digits, no leading zero), or empty to clear it.
pub fn telephone(field: &str, raw: &str) -> Result<String, FieldError> {
    let value: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    if value.is_empty() {
        return Ok(value);
    }
    let digits = value.strip_prefix('+').unwrap_or("");
    let ok = (7..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(value)
    } else {
        Err(FieldError::new(
            field,
            format!("{raw:?} is not an E.164 number (expected e.g. +14155550123)"),
        ))
    }
}

/// Free text: at most `max` characters, nothing [`refused_in_input`] (newlines and tabs are fine).
pub fn text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let count = raw.chars().count();
    if count > max {
        return Err(FieldError::new(
            field,
            format!("is {count} characters long; the limit is {max}"),
        ));
    }
    refuse_forbidden(field, raw)?;
    Ok(raw.to_owned())
}

/// Free-form metadata (`metadata`, `features`, `limits`): every key and every string inside, at
/// any depth, follows the [`text`] character rules; the error names the path (`metadata.note`).
pub fn metadata(field: &str, map: &Map<String, Value>) -> Result<(), FieldError> {
    for (key, value) in map {
        let path = format!("{field}.{key}");
        refuse_forbidden(&path, key)?;
        metadata_value(&path, value)?;
    }
    Ok(())
}

fn metadata_value(path: &str, value: &Value) -> Result<(), FieldError> {
    match value {
        Value::String(s) => refuse_forbidden(path, s),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| metadata_value(&format!("{path}[{i}]"), v)),
        Value::Object(map) => metadata(path, map),
        _ => Ok(()),
    }
}

fn refuse_forbidden(field: &str, raw: &str) -> Result<(), FieldError> {
    match raw.chars().find(|c| refused_in_input(*c)) {
        Some(c) => Err(FieldError::new(
            field,
            format!(
                "contains the control, invisible or bidi character U+{:04X}; remove it",
                u32::from(c)
            ),
        )),
        None => Ok(()),
    }
}

/// Optional free text, trimmed; empty means absent.
pub fn opt_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| text(field, v, max))
        .transpose()
}

/// Page size: 1–100, default 20.
pub fn limit(value: Option<i64>) -> Result<u32, FieldError> {
    match value {
        None => Ok(20),
        Some(v @ 1..=100) => Ok(v as u32),
        Some(v) => Err(FieldError::new(
            "limit",
            format!("must be between 1 and 100 (got {v})"),
        )),
    }
}

/// Page offset: ≥ 0, default 0.
pub fn offset(value: Option<i64>) -> Result<u32, FieldError> {
    match value {
        None => Ok(0),
        Some(v @ 0..=1_000_000) => Ok(v as u32),
        Some(v) => Err(FieldError::new(
            "offset",
            format!("must be 0 or more (got {v})"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email("email", " jane@acme.com ").unwrap(), "jane@acme.com");
        for bad in [
            "",
            "jane",
            "jane@",
            "@acme.com",
            "jane@acme",
            "ja ne@acme.com",
            "a@b@c.com",
            "a@.com",
            "a@b..com",
        ] {
            let e = email("email", bad).unwrap_err();
            assert_eq!(e.field, "email", "{bad}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            name("name", "Jane O'Neil-Smith (CEO)", 1, 100).unwrap(),
            "Jane O'Neil-Smith (CEO)"
        );
        assert_eq!(name("name", "Zoë Ærø", 1, 100).unwrap(), "Zoë Ærø");
        assert!(name("name", "<script>", 1, 100).is_err());
        assert!(name("name", "", 1, 100).is_err());
        assert!(name("name", &"x".repeat(101), 1, 100).is_err());
    }

    #[test]
    fn telephones() {
        assert_eq!(
            telephone("telephone", "+1 415 555 0123").unwrap(),
            "+14155550123"
        );
        assert_eq!(telephone("telephone", "").unwrap(), "");
        for bad in [
            "4155550123",
            "+0123456789",
            "+12",
            "+1234567890123456",
            "+1-800-FLOWERS",
        ] {
            assert!(telephone("telephone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_rejects_controls_bidi_zero_width_and_separators() {
        assert!(text("reason", "Double charge\nsee ticket", 100).is_ok());
        assert!(text("reason", "Zoë 漢字 😀", 100).is_ok());
        assert!(text("reason", &"x".repeat(101), 100).is_err());
        for c in [
            '\u{0007}',
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{200E}',
            '\u{200F}',
            '\u{061C}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{180E}',
            '\u{2028}',
            '\u{2029}',
            '\u{E0041}',
        ] {
            let e = text("reason", &format!("refund{c}001$"), 100).unwrap_err();
            assert_eq!(e.field, "reason");
            assert!(
                e.message.contains(&format!("U+{:04X}", u32::from(c))),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn emails_and_names_refuse_disguising_characters() {
        for c in ['\u{202E}', '\u{200B}', '\u{FEFF}', '\u{2028}', '\u{2066}'] {
            assert_eq!(
                email("email", &format!("jane{c}@acme.com"))
                    .unwrap_err()
                    .field,
                "email"
            );
            assert_eq!(
                name("name", &format!("Jane{c}Doe"), 1, 100)
                    .unwrap_err()
                    .field,
                "name"
            );
        }
    }

    #[test]
    fn metadata_strings_and_keys_follow_the_text_rules() {
        let ok = serde_json::json!({"note": "line 1\nline 2", "n": 3, "tags": ["a", "b"], "deep": {"x": "ü"}});
        assert!(metadata("metadata", ok.as_object().unwrap()).is_ok());
        for (bad, path) in [
            (
                serde_json::json!({"note": "pay\u{202E}me"}),
                "metadata.note",
            ),
            (serde_json::json!({"k\u{200B}": 1}), "metadata.k\u{200B}"),
            (
                serde_json::json!({"tags": ["ok", "x\u{FEFF}"]}),
                "metadata.tags[1]",
            ),
            (
                serde_json::json!({"deep": {"x": "a\u{2028}b"}}),
                "metadata.deep.x",
            ),
        ] {
            let e = metadata("metadata", bad.as_object().unwrap()).unwrap_err();
            assert_eq!(e.field, path);
        }
    }

    #[test]
    fn paging() {
        assert_eq!(limit(None).unwrap(), 20);
        assert_eq!(limit(Some(100)).unwrap(), 100);
        assert_eq!(limit(Some(0)).unwrap_err().field, "limit");
        assert_eq!(limit(Some(101)).unwrap_err().field, "limit");
        assert_eq!(offset(None).unwrap(), 0);
        assert_eq!(offset(Some(-1)).unwrap_err().field, "offset");
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #[test]
        fn free_text_is_accepted_unchanged_or_refused_naming_the_field(
            raw in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::char::any(),
                    proptest::char::range('a', 'z'),
                    proptest::strategy::Just('\u{202E}'),
                    proptest::strategy::Just('\u{200F}'),
                    proptest::strategy::Just('\u{200B}'),
                    proptest::strategy::Just('\u{FEFF}'),
                    proptest::strategy::Just('\u{2028}'),
                    proptest::strategy::Just('\n'),
                ],
                0..40,
            ).prop_map(|c| c.into_iter().collect::<String>()),
            max in 0usize..40,
        ) {
            match text("reason", &raw, max) {
                Ok(value) => {
                    proptest::prop_assert_eq!(&value, &raw);
                    proptest::prop_assert!(value.chars().count() <= max);
                    proptest::prop_assert!(!value.chars().any(refused_in_input));
                }
                Err(e) => {
                    proptest::prop_assert_eq!(e.field, "reason");
                    proptest::prop_assert!(raw.chars().count() > max || raw.chars().any(refused_in_input));
                }
            }
        }

        #[test]
        fn emails_never_carry_whitespace_or_controls(raw in "\\PC{0,40}|[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,4}") {
            if let Ok(value) = email("email", &raw) {
                proptest::prop_assert!(!value.chars().any(|c| c.is_whitespace() || c.is_control() || is_disguising(c)));
                proptest::prop_assert_eq!(value.matches('@').count(), 1);
            }
        }
    }
}
