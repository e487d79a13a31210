//! Money: integer minor units with an ISO 4217 currency, and the formatted text a model reads.
//! Never floating point: `2500` USD is `$25.00`, `2500` JPY is `¥2,500`.

#![deny(clippy::arithmetic_side_effects)]

use std::fmt;

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
        self.written(amount < 0, &amount.unsigned_abs().to_string(), "")
    }

    /// A fractional amount of minor units, every digit kept: `0.5` USD cents is `$0.005`.
    pub fn format_minor(&self, minor: &Minor) -> String {
        match minor.exact.as_deref().and_then(Decimal::parse) {
            Some(d) => self.written(d.negative, &d.whole, &d.fraction),
            None => self.format(minor.units),
        }
    }

    /// `whole.fraction` minor units (digits only), shifted to major units and written out.
    fn written(&self, negative: bool, whole: &str, fraction: &str) -> String {
        let exp = self.exponent() as usize;
        // Left-pad so that at least one digit stays before the point once it moves `exp` places.
        let digits = format!("{whole:0>width$}{fraction}", width = exp.saturating_add(1));
        let point = digits
            .len()
            .saturating_sub(exp.saturating_add(fraction.len()));
        let (major, minor) = digits.split_at_checked(point).unwrap_or(("0", ""));
        let major = match major.trim_start_matches('0') {
            "" => "0",
            m => m,
        };
        let mut grouped = String::new();
        for (i, ch) in major.chars().enumerate() {
            // Digits still to come after this one, a multiple of 3 where a comma goes.
            if i > 0 && major.len().saturating_sub(i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let number = if minor.is_empty() {
            grouped
        } else {
            format!("{grouped}.{minor}")
        };
        let sign = if negative { "-" } else { "" };
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
    /// Sub-cent minor units, e.g. "0.5" (then amount is rounded). Left out of the listed schema:
    /// it appears only on sub-cent amounts, `formatted` shows the same digits, and a property in
    /// every tool's `Money` would cost the tool list ~400 B for what is rare (the schema does not
    /// forbid extra properties).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub exact: Option<String>,
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
            exact: None,
            currency: currency.code().to_owned(),
            formatted: currency.format(amount),
        }
    }

    /// An amount as SolvaPay sent it, a fraction of a minor unit kept and shown.
    pub fn of(minor: &Minor, currency: &Currency) -> Self {
        Self {
            amount: minor.units,
            exact: minor.exact.clone(),
            currency: currency.code().to_owned(),
            formatted: currency.format_minor(minor),
        }
    }
}

/// A minor-unit amount as SolvaPay sent it: whole, or (sub-cent usage pricing since 2026-04) a
/// fraction of a minor unit, kept exactly as a decimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minor {
    /// Whole minor units; rounded half away from zero when `exact` is set.
    pub units: i64,
    /// The exact decimal of minor units ("0.5", "-12.25") when it is not whole.
    pub exact: Option<String>,
}

impl Minor {
    /// A whole amount.
    pub fn whole(units: i64) -> Self {
        Self { units, exact: None }
    }

    /// More than nothing (a fraction of a cent included).
    pub fn is_positive(&self) -> bool {
        match &self.exact {
            Some(exact) => !exact.starts_with('-'),
            None => self.units > 0,
        }
    }
}

/// A plain decimal: sign, whole digits (no leading zeros) and fraction digits (no trailing zeros).
struct Decimal {
    negative: bool,
    whole: String,
    fraction: String,
}

impl Decimal {
    /// `-12.50`, `+3`, `.5`, `4900.0`; nothing else (no exponent, no separators).
    fn parse(raw: &str) -> Option<Self> {
        let (negative, rest) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw.strip_prefix('+').unwrap_or(raw)),
        };
        let (whole, fraction) = rest.split_once('.').unwrap_or((rest, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
            return None;
        }
        let whole = whole.trim_start_matches('0');
        Some(Self {
            negative,
            whole: if whole.is_empty() { "0" } else { whole }.to_owned(),
            fraction: fraction.trim_end_matches('0').to_owned(),
        })
    }

    /// The same number times 10^`digits`: the point moves right.
    fn shifted(mut self, digits: u32) -> Self {
        for _ in 0..digits {
            let next = if self.fraction.is_empty() {
                '0'
            } else {
                self.fraction.remove(0)
            };
            if self.whole == "0" {
                self.whole.clear();
            }
            self.whole.push(next);
        }
        let whole = self.whole.trim_start_matches('0');
        self.whole = if whole.is_empty() { "0" } else { whole }.to_owned();
        self
    }

    /// As minor units: rounded half away from zero, the exact text kept when not whole.
    fn minor(&self) -> Result<Minor, String> {
        let out_of_range = || format!("{self} is out of range");
        let whole: i128 = self.whole.parse().map_err(|_| out_of_range())?;
        let up = self.fraction.bytes().next().is_some_and(|b| b >= b'5');
        let magnitude = if up {
            whole.checked_add(1)
        } else {
            Some(whole)
        };
        let signed = magnitude
            .and_then(|m| {
                if self.negative {
                    m.checked_neg()
                } else {
                    Some(m)
                }
            })
            .ok_or_else(out_of_range)?;
        let units = i64::try_from(signed).map_err(|_| out_of_range())?;
        let zero = self.whole == "0" && self.fraction.is_empty();
        Ok(Minor {
            units,
            exact: (!self.fraction.is_empty()).then(|| self.to_string()),
        })
        .map(|m| if zero { Minor::whole(0) } else { m })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.negative { "-" } else { "" };
        match self.fraction.as_str() {
            "" => write!(f, "{sign}{}", self.whole),
            fraction => write!(f, "{sign}{}.{fraction}", self.whole),
        }
    }
}

/// The one reader of a number from SolvaPay: an integer, a float or a numeric string ("4900",
/// "4900.0", "0.5"); `null` (or a blank string) is absent. Anything else is an error saying what
/// was found, for the decoder to name the field.
pub fn minor_from_value(value: &Value) -> Result<Option<Minor>, String> {
    decimal_from_value(value)?.map(|d| d.minor()).transpose()
}

/// A major-unit amount from SolvaPay (`12.34` dollars) as minor units of a currency with
/// `exponent` digits (`1234` cents), read like [`minor_from_value`]: the decimal point moves, no
/// floating-point arithmetic is done.
pub fn minor_from_major(value: &Value, exponent: u32) -> Result<Option<Minor>, String> {
    decimal_from_value(value)?
        .map(|d| d.shifted(exponent).minor())
        .transpose()
}

fn decimal_from_value(value: &Value) -> Result<Option<Decimal>, String> {
    let decimal = match value {
        Value::Null => return Ok(None),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(Some(Decimal {
                    negative: i < 0,
                    whole: i.unsigned_abs().to_string(),
                    fraction: String::new(),
                }));
            }
            // A float (or an integer past i64): Rust writes floats without exponent, shortest first.
            let text = match n.as_f64() {
                Some(f) if f.is_finite() => format!("{f}"),
                _ => n.to_string(),
            };
            Decimal::parse(&text).ok_or_else(|| format!("{n} is out of range"))?
        }
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => Decimal::parse(s.trim())
            .or_else(|| {
                let f: f64 = s.trim().parse().ok()?;
                f.is_finite().then(|| Decimal::parse(&format!("{f}")))?
            })
            .ok_or_else(|| format!("{s:?} is not a number"))?,
        Value::Bool(_) => return Err("expected a number, found a boolean".into()),
        Value::Array(_) => return Err("expected a number, found a list".into()),
        Value::Object(_) => return Err("expected a number, found an object".into()),
    };
    Ok(Some(decimal))
}

/// A number that must be whole (a count, or an amount SolvaPay only ever charges whole): the
/// forms of [`minor_from_value`], a fraction being an error rather than a rounding.
pub fn whole_from_value(value: &Value) -> Result<Option<i64>, String> {
    match minor_from_value(value)? {
        Some(Minor {
            exact: Some(exact), ..
        }) => Err(format!("{exact} is not a whole number")),
        other => Ok(other.map(|m| m.units)),
    }
}

/// `#[serde(default, deserialize_with = "exact_minor")]` for an amount that may be a fraction of a
/// minor unit (prices and usage costs): [`minor_from_value`].
pub fn exact_minor<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Minor>, D::Error> {
    minor_from_value(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// `#[serde(default, deserialize_with = "minor_units")]` for an amount charged in whole minor units
/// (payments, fees, balances): [`whole_from_value`].
pub fn minor_units<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    whole_from_value(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// `#[serde(default, deserialize_with = "count")]`: the one lenient count reader (`remaining`,
/// `total`, `trialDays`, …): integer, float or numeric string, whole; null is absent.
pub fn count<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<Option<T>, D::Error> {
    match whole_from_value(&Value::deserialize(d)?).map_err(serde::de::Error::custom)? {
        None => Ok(None),
        Some(n) => T::try_from(n)
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{n} is out of range for a count"))),
    }
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
        let read = |v: Value| minor_from_value(&v).unwrap();
        assert_eq!(read(json!(2500)), Some(Minor::whole(2500)));
        assert_eq!(read(json!(2500.0)), Some(Minor::whole(2500)));
        assert_eq!(read(json!("4900.0")), Some(Minor::whole(4900)));
        assert_eq!(read(json!(" 42 ")), Some(Minor::whole(42)));
        let half = read(json!(0.5)).unwrap();
        assert_eq!((half.units, half.exact.as_deref()), (1, Some("0.5")));
        let neg = read(json!("-0.60")).unwrap();
        assert_eq!((neg.units, neg.exact.as_deref()), (-1, Some("-0.6")));
        assert_eq!(read(json!(null)), None);
        assert_eq!(read(json!("")), None);
        assert!(
            minor_from_value(&json!("ten"))
                .unwrap_err()
                .contains("\"ten\"")
        );
        assert!(minor_from_value(&json!(true)).is_err());
        assert!(minor_from_value(&json!(1e30)).is_err());
        assert_eq!(whole_from_value(&json!(12.0)), Ok(Some(12)));
        assert!(whole_from_value(&json!(12.5)).is_err());
    }

    #[test]
    fn fractions_of_a_minor_unit_are_shown_with_every_digit() {
        let usd = Currency::usd();
        let show = |v: Value| Money::of(&minor_from_value(&v).unwrap().unwrap(), &usd);
        let half = show(serde_json::json!(0.5));
        assert_eq!(
            (half.amount, half.exact.as_deref(), half.formatted.as_str()),
            (1, Some("0.5"), "$0.005")
        );
        assert_eq!(
            show(serde_json::json!("123456.25")).formatted,
            "$1,234.5625"
        );
        assert_eq!(show(serde_json::json!(-0.125)).formatted, "-$0.00125");
        let yen = Currency::parse("c", "JPY").unwrap();
        assert_eq!(
            Money::of(
                &minor_from_value(&serde_json::json!(0.5)).unwrap().unwrap(),
                &yen
            )
            .formatted,
            "¥0.5"
        );
        let whole = show(serde_json::json!(4900));
        assert_eq!(whole, Money::new(4900, &usd));
        assert!(!serde_json::to_string(&whole).unwrap().contains("exact"));
    }

    #[test]
    fn major_amounts_become_minor_units_without_floating_point() {
        use serde_json::json;
        let minor = |v: Value, exp| minor_from_major(&v, exp).unwrap().unwrap();
        assert_eq!(minor(json!(12.34), 2), Minor::whole(1234));
        assert_eq!(minor(json!("0.05"), 2), Minor::whole(5));
        assert_eq!(minor(json!(3), 2), Minor::whole(300));
        assert_eq!(minor(json!("2500"), 0), Minor::whole(2500));
        assert_eq!(minor(json!("12.345"), 3), Minor::whole(12_345));
        assert_eq!(minor(json!("0.005"), 2).exact.as_deref(), Some("0.5"));
        assert_eq!(minor_from_major(&json!(null), 2), Ok(None));
    }

    #[test]
    fn rejects_bad_codes() {
        assert!(Currency::parse("currency", "US").is_err());
        assert!(Currency::parse("currency", "U$D").is_err());
        assert_eq!(Currency::from_api("??").code(), "XXX");
    }
}
