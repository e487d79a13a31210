//! A list answer read row by row ([`Rows`]): the rows that read, and a warning naming each one that
//! did not (its reference when readable, the field, why). A list is never empty without a word: an
//! answer that holds no list at all is an error, and `null` where a list belongs is said so.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::money::whole_from_value;

/// Where SolvaPay puts the rows of a list: `data`, `items`, `results`, or the resource's name.
const LIST_KEYS: [&str; 8] = [
    "data",
    "items",
    "results",
    "customers",
    "products",
    "plans",
    "purchases",
    "transactions",
];

/// One row answered alone, wrapped by its resource's name.
const ONE_KEYS: [&str; 5] = ["customer", "product", "plan", "purchase", "transaction"];

/// Longest reason quoted in a warning.
const MAX_WHY: usize = 160;

/// The rows of a list answer: a bare array, an object holding one (with its `total`), or one row.
#[derive(Debug, Clone)]
pub struct Rows<T> {
    /// The rows that read whole.
    pub rows: Vec<T>,
    /// Total matching rows, when SolvaPay reports it.
    pub total: Option<u64>,
    /// One line per row skipped, or for an answer with no rows where a list belongs.
    pub warnings: Vec<String>,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            total: None,
            warnings: Vec::new(),
        }
    }
}

impl<T: DeserializeOwned> Rows<T> {
    /// Reads `value`; `Err` names what is wrong when it holds no list at all.
    pub fn read(value: Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(Self::nothing("the answer")),
            Value::Array(items) => Ok(Self::of(items)),
            Value::Object(mut map) => {
                let total = match map.remove("total") {
                    Some(v) => whole_from_value(&v)
                        .map_err(|why| format!("`total` {why}"))?
                        .and_then(|t| u64::try_from(t).ok()),
                    None => None,
                };
                Ok(Self {
                    total,
                    ..Self::from_object(map)?
                })
            }
            other => Err(format!("expected a list, found {}", kind(&other))),
        }
    }

    /// An object's rows (its `total` already taken out).
    fn from_object(mut map: Map<String, Value>) -> Result<Self, String> {
        // A record answered alone (its own `purchases` or `plans` are not the list).
        if map.contains_key("reference") {
            return Ok(Self::of(vec![Value::Object(map)]));
        }
        if let Some(key) = LIST_KEYS.iter().find(|k| map.contains_key(**k)) {
            return match map.remove(*key).unwrap_or_default() {
                Value::Array(items) => Ok(Self::of(items)),
                Value::Null => Ok(Self::nothing(key)),
                other => Err(format!("`{key}` is {}, not a list", kind(&other))),
            };
        }
        if let Some(key) = ONE_KEYS
            .iter()
            .find(|k| map.get(**k).is_some_and(Value::is_object))
        {
            let one = map.remove(*key).unwrap_or_default();
            return Ok(Self::of(vec![one]));
        }
        let keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
        Err(format!(
            "expected a list (an array, or an object holding `data` or `items`), found an object with {keys:?}"
        ))
    }

    /// `null` where a list belongs: no rows, and a word saying so.
    fn nothing(what: &str) -> Self {
        Self {
            warnings: vec![format!(
                "SolvaPay sent null for {what} where a list belongs: read as no rows"
            )],
            ..Self::default()
        }
    }

    /// Each row read on its own; `null` rows are no rows.
    fn of(items: Vec<Value>) -> Self {
        let mut rows = Self::default();
        for (i, item) in items.into_iter().enumerate() {
            if item.is_null() {
                continue;
            }
            let reference = item
                .get("reference")
                .and_then(Value::as_str)
                .map(|r| format!(" ({})", r.chars().take(60).collect::<String>()))
                .unwrap_or_default();
            match serde_path_to_error::deserialize::<_, T>(item) {
                Ok(row) => rows.rows.push(row),
                Err(e) => {
                    let field = e.path().to_string();
                    let why: String = e.into_inner().to_string().chars().take(MAX_WHY).collect();
                    rows.warnings
                        .push(format!("row {i}{reference} skipped: `{field}` {why}"));
                }
            }
        }
        rows
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Rows<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RowsVisitor(std::marker::PhantomData))
    }
}

/// Reads the answer's top level itself, so that a bad `total` is an error naming `total` (the
/// decoder tracks the path through map entries); the rest is [`Rows::read`].
struct RowsVisitor<T>(std::marker::PhantomData<T>);

/// `total` read by the one count reader.
struct Total(Option<u64>);

impl<'de> Deserialize<'de> for Total {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::money::count(d).map(Total)
    }
}

impl<'de, T: DeserializeOwned> serde::de::Visitor<'de> for RowsVisitor<T> {
    type Value = Rows<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Rows::nothing("the answer"))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Rows::of(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = Map::new();
        let mut total = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "total" {
                total = map.next_value::<Total>()?.0;
            } else {
                let value = map.next_value::<Value>()?;
                object.insert(key, value);
            }
        }
        let rows = Rows::from_object(object).map_err(A::Error::custom)?;
        Ok(Rows { total, ..rows })
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(E::custom("expected a list, found a string"))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom("expected a list, found a boolean"))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(E::custom("expected a list, found a number"))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(E::custom("expected a list, found a number"))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(E::custom("expected a list, found a number"))
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `#[serde(default, deserialize_with = "embedded")]` for a list inside a record (a customer's
/// purchases, a product's plans): `null` is no list, a `null` row is no row; any other row must
/// read whole (an error names its field).
pub(crate) fn embedded<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let rows: Option<Vec<Option<T>>> = Deserialize::deserialize(d)?;
    Ok(rows.map(|rows| rows.into_iter().flatten().collect()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::customer::CustomerWire;

    fn read(v: Value) -> Result<Rows<CustomerWire>, String> {
        Rows::read(v)
    }

    #[test]
    fn a_bad_row_is_skipped_with_a_warning_naming_it() {
        let rows = read(json!({"data": [
            {"reference": "cus_A", "email": "a@x.io"},
            {"reference": "cus_B", "email": ["b@x.io"]},
            null,
            {"name": "no reference"}
        ], "total": "4"}))
        .unwrap();
        let refs: Vec<&str> = rows.rows.iter().map(|c| c.reference.as_str()).collect();
        assert_eq!(refs, ["cus_A"]);
        assert_eq!(rows.total, Some(4));
        assert_eq!(rows.warnings.len(), 2, "{:?}", rows.warnings);
        assert!(
            rows.warnings[0].starts_with("row 1 (cus_B) skipped: `email` invalid type"),
            "{:?}",
            rows.warnings
        );
        assert!(
            rows.warnings[1].contains("row 3 skipped") && rows.warnings[1].contains("reference"),
            "{:?}",
            rows.warnings
        );
    }

    #[test]
    fn every_list_shape_reads_and_none_is_silent() {
        for body in [
            json!([{"reference": "cus_A"}]),
            json!({"customers": [{"reference": "cus_A"}]}),
            json!({"items": [{"reference": "cus_A"}], "total": 1.0}),
            json!({"customer": {"reference": "cus_A"}}),
            json!({"reference": "cus_A"}),
            json!({"reference": "cus_A", "purchases": [{"reference": "pur_1"}]}),
        ] {
            let rows = read(body.clone()).unwrap();
            assert_eq!((rows.rows.len(), rows.warnings.len()), (1, 0), "{body}");
        }
        let null = read(json!({"data": null})).unwrap();
        assert!(null.rows.is_empty() && null.warnings.len() == 1);
        assert!(
            read(json!({"message": "ok"}))
                .unwrap_err()
                .contains("expected a list")
        );
        assert!(read(json!("customers")).is_err());
    }
}
