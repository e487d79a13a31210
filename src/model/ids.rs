//! Reference newtypes (`cus_…`, `prd_…`, …). Opaque beyond their kind: a caller's reference must be
//! its kind's prefix plus at least one character, or a 24-hex internal ID (SolvaPay's documented
//! ObjectId form, CONTRACT "IDs"); nothing else about the tail is assumed. The character set is
//! strict so a reference is always exactly one URL path segment. A reference of the wrong kind
//! (`prd_…` given as a customer) is refused before any request: SolvaPay would only answer
//! "customer not found" after storing, e.g., a usage event against it.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::FieldError;

/// Longest reference accepted.
pub const MAX_REF_LEN: usize = 64;

/// Checks a caller-supplied reference: trimmed, 1–64 characters of `A-Z a-z 0-9 _ -`.
pub fn check_reference(field: &str, raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.len() > MAX_REF_LEN {
        return Err(FieldError::new(
            field,
            format!("is longer than {MAX_REF_LEN} characters"),
        ));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(FieldError::new(
            field,
            format!(
                "{value:?} is not a reference (expected letters, digits, '_' or '-', e.g. cus_A1B2C3D4)"
            ),
        ));
    }
    Ok(value.to_owned())
}

/// The documented reference prefixes, with what each names (CONTRACT "IDs"), longest first.
const KINDS: [(&str, &str); 8] = [
    ("usage_", "usage record"),
    ("cus_", "customer"),
    ("prd_", "product"),
    ("pln_", "plan"),
    ("pur_", "purchase"),
    ("txn_", "transaction"),
    ("mtr_", "meter"),
    ("usg_", "usage record"),
];

/// True for SolvaPay's internal ID form: 24 hex digits (a MongoDB ObjectId).
fn is_internal_id(value: &str) -> bool {
    value.len() == 24 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks a caller-supplied reference of one kind: [`check_reference`]'s alphabet, then `prefix`
/// followed by at least one character, or an internal ID.
fn check_kind(
    field: &str,
    raw: &str,
    prefix: &str,
    noun: &str,
    example: &str,
) -> Result<String, FieldError> {
    let value = check_reference(field, raw)?;
    if value
        .strip_prefix(prefix)
        .is_some_and(|tail| !tail.is_empty())
        || is_internal_id(&value)
    {
        return Ok(value);
    }
    let message = if value == prefix {
        format!("{value:?} is only the prefix of a {noun} reference (e.g. {example})")
    } else if let Some((_, other)) = KINDS.iter().find(|(p, _)| value.starts_with(p)) {
        format!("{value:?} is a {other} reference, not a {noun} reference (e.g. {example})")
    } else {
        format!(
            "{value:?} is not a {noun} reference (expected {prefix}…, e.g. {example}, or a 24-hex internal ID)"
        )
    };
    Err(FieldError::new(field, message))
}

macro_rules! reference {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $noun:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The documented prefix of this kind of reference.
            pub const PREFIX: &'static str = $prefix;

            /// Validates a caller-supplied reference for the argument `field`: this kind's prefix
            /// and at least one more character, or an internal ID.
            pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
                check_kind(field, raw, $prefix, $noun, $example).map(Self)
            }

            /// A reference SolvaPay itself returned: only the path-segment alphabet is checked
            /// (its answers are not held to the documented prefixes).
            pub fn from_upstream(field: &str, raw: &str) -> Result<Self, FieldError> {
                check_reference(field, raw).map(Self)
            }

            /// The reference as sent to SolvaPay.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

reference!(
    /// A customer reference, e.g. `cus_A1B2C3D4`.
    CustomerRef, "cus_", "customer", "cus_A1B2C3D4"
);
reference!(
    /// A product reference, e.g. `prd_P9Q0R1S2`.
    ProductRef, "prd_", "product", "prd_P9Q0R1S2"
);
reference!(
    /// A plan reference, e.g. `pln_K5L6M7N8`.
    PlanRef, "pln_", "plan", "pln_K5L6M7N8"
);
reference!(
    /// A purchase reference, e.g. `pur_T3U4V5W6`.
    PurchaseRef, "pur_", "purchase", "pur_T3U4V5W6"
);
reference!(
    /// A transaction reference, e.g. `txn_D7E8F9G0`.
    TransactionRef, "txn_", "transaction", "txn_D7E8F9G0"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_references_and_object_ids() {
        assert_eq!(
            CustomerRef::parse("reference", " cus_A1B2C3D4 ")
                .unwrap()
                .as_str(),
            "cus_A1B2C3D4"
        );
        assert!(TransactionRef::parse("transactionRef", "507f1f77bcf86cd799439011").is_ok());
    }

    #[test]
    fn a_reference_must_be_of_its_kind() {
        for (bad, says) in [
            ("prd_P9Q0R1S2", "is a product reference"),
            ("txn_D7E8F9G0", "is a transaction reference"),
            ("usage_A1B2C3D4", "is a usage record reference"),
            ("cus_", "only the prefix"),
            ("bad", "not a customer reference"),
            ("CUS_A1B2", "not a customer reference"),
            ("507f1f77bcf86cd79943901", "not a customer reference"),
        ] {
            let err = CustomerRef::parse("customerRef", bad).unwrap_err();
            assert_eq!(err.field, "customerRef", "{bad}");
            assert!(err.message.contains(says), "{bad}: {}", err.message);
        }
        assert!(CustomerRef::parse("customerRef", "cus_A").is_ok());
        assert!(CustomerRef::parse("customerRef", "507f1f77bcf86cd799439011").is_ok());
        assert!(ProductRef::parse("productRef", "cus_A1B2C3D4").is_err());
        assert!(ProductRef::parse("productRef", "prd_").is_err());
        assert!(ProductRef::from_upstream("productRef", "legacy-product").is_ok());
    }

    #[test]
    fn rejects_what_could_escape_a_path_segment() {
        for bad in [
            "",
            "  ",
            "cus_1/../admin",
            "cus 1",
            "cus_1?x=1",
            "cus_%2F",
            "ü",
            &"x".repeat(65),
        ] {
            let err = CustomerRef::parse("customerRef", bad).unwrap_err();
            assert_eq!(err.field, "customerRef", "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn accepts_exactly_short_runs_of_the_safe_alphabet(raw in "\\PC{0,80}|[ A-Za-z0-9_./%-]{0,70}") {
            let trimmed = raw.trim();
            let expected = (1..=MAX_REF_LEN).contains(&trimmed.len())
                && trimmed.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            match check_reference("ref", &raw) {
                Ok(value) => {
                    proptest::prop_assert!(expected, "{:?} accepted", raw);
                    proptest::prop_assert_eq!(&value, trimmed);
                    // Never a dot segment, a separator or an escape: always one literal path segment.
                    proptest::prop_assert!(!value.contains(['.', '/', '%', '?', '#']));
                    proptest::prop_assert_eq!(check_reference("ref", &value), Ok(value));
                }
                Err(e) => {
                    proptest::prop_assert!(!expected, "{:?} refused: {}", raw, e);
                    proptest::prop_assert_eq!(e.field, "ref");
                }
            }
        }
    }
}
