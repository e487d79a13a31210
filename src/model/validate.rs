//! Argument rules checked before any request is sent: each failure names the field at fault.

use std::fmt;

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

/// Free text: at most `max` characters, no control characters (newlines and tabs allowed) and no
/// bidirectional-override characters (they can disguise what a human approves).
pub fn text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let count = raw.chars().count();
    if count > max {
        return Err(FieldError::new(
            field,
            format!("is {count} characters long; the limit is {max}"),
        ));
    }
    if let Some(c) = raw.chars().find(|c| is_forbidden_char(*c)) {
        return Err(FieldError::new(
            field,
            format!(
                "contains the control or bidi character U+{:04X}; remove it",
                u32::from(c)
            ),
        ));
    }
    Ok(raw.to_owned())
}

fn is_forbidden_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || is_disguising(c)
}

/// Characters that reorder or hide text: bidi embeddings, overrides, isolates and marks (they can
/// make a person approve something other than what runs) and Unicode tag characters (invisible, and
/// a known way to smuggle instructions to a model).
pub fn is_disguising(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{E0000}'..='\u{E007F}')
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
    fn text_rejects_controls_and_bidi() {
        assert!(text("reason", "Double charge\nsee ticket", 100).is_ok());
        assert!(text("reason", "a\u{0007}b", 100).is_err());
        assert!(text("reason", "refund \u{202E}001$", 100).is_err());
        assert!(text("reason", &"x".repeat(101), 100).is_err());
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
                    proptest::prop_assert!(!value.chars().any(is_forbidden_char));
                }
                Err(e) => {
                    proptest::prop_assert_eq!(e.field, "reason");
                    proptest::prop_assert!(raw.chars().count() > max || raw.chars().any(is_forbidden_char));
                }
            }
        }

        #[test]
        fn emails_never_carry_whitespace_or_controls(raw in "\\PC{0,40}|[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,4}") {
            if let Ok(value) = email("email", &raw) {
                proptest::prop_assert!(!value.chars().any(|c| c.is_whitespace() || c.is_control()));
                proptest::prop_assert_eq!(value.matches('@').count(), 1);
            }
        }
    }
}
