//! Money: integer minor units with an ISO 4217 currency, and the formatted text a model reads.
//! Never floating point: `2500` USD is `$25.00`, `2500` JPY is `¥2,500`.

#![deny(clippy::arithmetic_side_effects)]

use std::fmt;
use std::num::NonZeroU128;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::FieldError;

/// An ISO 4217 currency code, upper case (`USD`). SolvaPay sends both `usd` and `USD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Currency(String);

impl Currency {
    /// US dollars, SolvaPay's default.
    pub fn usd() -> Self {
        Self("USD".into())
    }

    /// Validates a caller-supplied code (three ASCII letters, any case).
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(code))
        } else {
            Err(FieldError::new(
                field,
                format!("{raw:?} is not an ISO 4217 code (e.g. USD, EUR, JPY)"),
            ))
        }
    }

    /// Normalises a code received from SolvaPay; anything unusable becomes `USD`'s neighbour `XXX`
    /// ("no currency") rather than failing the whole answer.
    pub fn from_api(raw: &str) -> Self {
        Self::parse("currency", raw).unwrap_or_else(|_| Self("XXX".into()))
    }

    /// The code, upper case.
    pub fn code(&self) -> &str {
        &self.0
    }

    /// Digits after the decimal point (ISO 4217 exponent).
    pub fn exponent(&self) -> u32 {
        match self.code() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF"
            | "UGX" | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" | "XXX" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            "CLF" | "UYW" => 4,
            _ => 2,
        }
    }

    fn symbol(&self) -> Option<&'static str> {
        Some(match self.code() {
            "USD" => "$",
            "EUR" => "€",
            "GBP" => "£",
            "JPY" => "¥",
            "INR" => "₹",
            "KRW" => "₩",
            "ILS" => "₪",
            "NGN" => "₦",
            "VND" => "₫",
            "PHP" => "₱",
            "UAH" => "₴",
            "TRY" => "₺",
            "PLN" => "zł",
            "BRL" => "R$",
            "CAD" => "CA$",
            "AUD" => "A$",
            "NZD" => "NZ$",
            "MXN" => "MX$",
            "HKD" => "HK$",
            "SGD" => "S$",
            "CHF" => "CHF ",
            "SEK" => "SEK ",
            "NOK" => "NOK ",
            "DKK" => "DKK ",
            _ => return None,
        })
    }

    /// `amount` minor units as a person writes it: `$3,871.00`, `-€0.50`, `¥2,500`, `12.345 KWD`.
    pub fn format(&self, amount: i64) -> String {
        let exp = self.exponent();
        // 10^exp with exp ≤ 4: never zero, never overflows.
        let divisor = 10u128
            .checked_pow(exp)
            .and_then(NonZeroU128::new)
            .unwrap_or(NonZeroU128::MIN);
        let abs = u128::from(amount.unsigned_abs());
        let (major, minor) = (abs / divisor, abs % divisor);
        let mut grouped = String::new();
        let digits = major.to_string();
        for (i, ch) in digits.chars().enumerate() {
            // Digits still to come after this one, a multiple of 3 where a comma goes.
            if i > 0 && digits.len().saturating_sub(i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let number = if exp == 0 {
            grouped
        } else {
            format!("{grouped}.{minor:0width$}", width = exp as usize)
        };
        let sign = if amount < 0 { "-" } else { "" };
        match self.symbol() {
            Some(symbol) => format!("{sign}{symbol}{number}"),
            None => format!("{sign}{number} {}", self.code()),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount in a tool result: exact minor units, the currency, and the formatted value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Money {
    /// Integer minor units (cents for USD): 2500 = $25.00.
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// The amount as a person writes it, e.g. "$25.00".
    pub formatted: String,
}

impl Money {
    /// `amount` minor units of `currency`.
    pub fn new(amount: i64, currency: &Currency) -> Self {
        Self {
            amount,
            currency: currency.code().to_owned(),
            formatted: currency.format(amount),
        }
    }
}

/// The one reader of a minor-unit amount from SolvaPay: an integral JSON number, a float (rounded
/// half away from zero, never truncated; out-of-range floats saturate), or a numeric string. Anything
/// else (null, text, an object) is absent.
pub fn minor_from_value(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `#[serde(deserialize_with = "minor_units")]` for an `Option<i64>` amount: [`minor_from_value`].
pub fn minor_units<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?
        .as_ref()
        .and_then(minor_from_value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(amount: i64, code: &str) -> String {
        Currency::parse("currency", code).unwrap().format(amount)
    }

    #[test]
    fn formats_minor_units_exactly() {
        assert_eq!(fmt(2500, "usd"), "$25.00");
        assert_eq!(fmt(387_100, "USD"), "$3,871.00");
        assert_eq!(fmt(89_250, "USD"), "$892.50");
        assert_eq!(fmt(5, "USD"), "$0.05");
        assert_eq!(fmt(-50, "EUR"), "-€0.50");
        assert_eq!(fmt(2500, "JPY"), "¥2,500");
        assert_eq!(fmt(12_345, "KWD"), "12.345 KWD");
        assert_eq!(fmt(0, "GBP"), "£0.00");
        assert_eq!(fmt(i64::MIN, "USD"), "-$92,233,720,368,547,758.08");
        assert_eq!(fmt(123_456_789, "CHF"), "CHF 1,234,567.89");
    }

    #[test]
    fn amounts_are_read_leniently_but_never_truncated() {
        use serde_json::json;
        assert_eq!(minor_from_value(&json!(2500)), Some(2500));
        assert_eq!(minor_from_value(&json!(2499.5)), Some(2500));
        assert_eq!(minor_from_value(&json!(-0.6)), Some(-1));
        assert_eq!(minor_from_value(&json!(" 42 ")), Some(42));
        assert_eq!(minor_from_value(&json!(null)), None);
        assert_eq!(minor_from_value(&json!("ten")), None);
    }

    #[test]
    fn rejects_bad_codes() {
        assert!(Currency::parse("currency", "US").is_err());
        assert!(Currency::parse("currency", "U$D").is_err());
        assert_eq!(Currency::from_api("??").code(), "XXX");
    }
}
