//! Reference newtypes (`cus_…`, `prd_…`, …). Opaque strings: the prefix is documented but not enforced
//! (SolvaPay also accepts internal IDs), while the character set is strict so a reference is always
//! exactly one URL path segment.

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

macro_rules! reference {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The documented prefix of this kind of reference.
            pub const PREFIX: &'static str = $prefix;

            /// Validates a caller-supplied reference for the argument `field`.
            pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
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
    CustomerRef, "cus_"
);
reference!(
    /// A product reference, e.g. `prd_P9Q0R1S2`.
    ProductRef, "prd_"
);
reference!(
    /// A plan reference, e.g. `pln_K5L6M7N8`.
    PlanRef, "pln_"
);
reference!(
    /// A purchase reference, e.g. `pur_T3U4V5W6`.
    PurchaseRef, "pur_"
);
reference!(
    /// A transaction reference, e.g. `txn_D7E8F9G0`.
    TransactionRef, "txn_"
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
                    proptest::prop_assert_eq!(check_reference("ref", &value), Ok(value.clone()));
                }
                Err(e) => {
                    proptest::prop_assert!(!expected, "{:?} refused: {}", raw, e);
                    proptest::prop_assert_eq!(e.field, "ref");
                }
            }
        }
    }
}
