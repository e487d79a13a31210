//! Small shared pieces: identifiers, timestamps, and a field validator for JSON request bodies.

use rand::Rng;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::error::{ApiError, ApiResult};

const REF_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A reference: `prefix` + `_` + 8 random upper-case letters and digits (e.g. `cus_A1B2C3D4`).
pub(crate) fn new_ref(prefix: &str) -> String {
    let mut rng = rand::rng();
    let tail: String = (0..8)
        .filter_map(|_| REF_ALPHABET.get(rng.random_range(0..REF_ALPHABET.len())))
        .map(|b| char::from(*b))
        .collect();
    format!("{prefix}_{tail}")
}

/// `n` random lower-case hex digits.
pub(crate) fn hex(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .filter_map(|_| char::from_digit(rng.random_range(0..16), 16))
        .collect()
}

/// An internal id: 24 hex digits, like a MongoDB ObjectId.
pub(crate) fn new_id() -> String {
    hex(24)
}

/// `2026-01-15T00:00:00.000Z`: the one timestamp format stored and returned (sorts as text).
pub(crate) fn fmt_ts(t: OffsetDateTime) -> String {
    crate::model::dates::timestamp(t)
}

/// Parse RFC 3339 (`2026-01-15T10:00:00Z`).
pub(crate) fn parse_ts(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Parse a date bound: RFC 3339, or a bare `YYYY-MM-DD` read as midnight UTC of that day, for either
/// bound, as SolvaPay's backend reads it (a JavaScript `new Date("2026-01-11")`): a bare `toDate` day
/// ends the range at its first instant, so a client that means the whole day must send its last
/// millisecond (issue 13).
pub(crate) fn parse_date_bound(s: &str) -> Option<OffsetDateTime> {
    if let Some(t) = parse_ts(s) {
        return Some(t);
    }
    let date = time::Date::parse(s, format_description!("[year]-[month]-[day]")).ok()?;
    Some(date.midnight().assume_utc())
}

/// Parse a JSON request body into an object. An empty body is an empty object.
pub(crate) fn json_object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request("Request body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!(
            "Unexpected token in JSON at line {} column {}",
            e.line(),
            e.column()
        ))),
    }
}

/// Query string pairs (last value wins).
pub(crate) fn query_map(raw: Option<&str>) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Reads fields from a JSON object, collecting every problem; `finish` turns them into one 400.
pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    errors: Vec<(String, String)>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>) -> Self {
        Self {
            map,
            errors: Vec::new(),
        }
    }

    pub(crate) fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push((field.to_owned(), message.into()));
    }

    fn present(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    pub(crate) fn has(&self, field: &str) -> bool {
        self.present(field).is_some()
    }

    /// An optional string of at most `max` characters (and at least `min` when present).
    pub(crate) fn str_opt(&mut self, field: &str, min: usize, max: usize) -> Option<String> {
        match self.present(field) {
            None => None,
            Some(Value::String(s)) => {
                let n = s.chars().count();
                if n < min || n > max {
                    self.fail(
                        field,
                        format!("{field} must be {min}-{max} characters long"),
                    );
                    None
                } else {
                    Some(s.clone())
                }
            }
            Some(_) => {
                self.fail(field, format!("{field} must be a string"));
                None
            }
        }
    }

    pub(crate) fn str_req(&mut self, field: &str, min: usize, max: usize) -> Option<String> {
        if !self.has(field) {
            self.fail(field, format!("{field} is required"));
            return None;
        }
        self.str_opt(field, min.max(1), max)
    }

    /// An optional string that must be one of `allowed`.
    pub(crate) fn enum_opt(&mut self, field: &str, allowed: &[&str]) -> Option<String> {
        let s = self.str_opt(field, 0, 200)?;
        if allowed.contains(&s.as_str()) {
            Some(s)
        } else {
            self.fail(
                field,
                format!(
                    "{field} must be one of the following values: {}",
                    allowed.join(", ")
                ),
            );
            None
        }
    }

    /// An optional integer in `min..=max` (a JSON number without a fractional part).
    pub(crate) fn int_opt(&mut self, field: &str, min: i64, max: i64) -> Option<i64> {
        let v = self.present(field)?;
        let n = v.as_i64().or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                .map(|f| f as i64)
        });
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(_) => {
                self.fail(field, format!("{field} must be between {min} and {max}"));
                None
            }
            None => {
                self.fail(field, format!("{field} must be an integer number"));
                None
            }
        }
    }

    pub(crate) fn bool_opt(&mut self, field: &str) -> Option<bool> {
        match self.present(field) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.fail(field, format!("{field} must be a boolean value"));
                None
            }
        }
    }

    pub(crate) fn object_opt(&mut self, field: &str) -> Option<Map<String, Value>> {
        match self.present(field) {
            None => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(_) => {
                self.fail(field, format!("{field} must be an object"));
                None
            }
        }
    }

    /// `Ok` when every field read so far was valid, else one 400 naming them all.
    pub(crate) fn finish(self) -> ApiResult<()> {
        self.finish_with(None)
    }

    /// Like `finish`, with a fixed top-level message (e.g. "Validation failed").
    pub(crate) fn finish_with(self, message: Option<&str>) -> ApiResult<()> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let msg = message.map_or_else(
            || {
                self.errors
                    .iter()
                    .map(|(_, m)| m.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            },
            str::to_owned,
        );
        let details: Vec<Value> = self
            .errors
            .iter()
            .map(|(f, m)| json!({"code": "invalid", "path": [f], "message": m}))
            .collect();
        Err(ApiError::bad_request(msg).with_errors(Value::Array(details)))
    }
}

/// Escape text for HTML element content and attribute values.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_and_ids_have_the_documented_shape() {
        let r = new_ref("cus");
        assert_eq!(r.len(), 12);
        assert!(
            r[4..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        assert_eq!(new_id().len(), 24);
        assert_eq!(hex(32).len(), 32);
    }

    #[test]
    fn date_bounds() {
        let day = parse_date_bound("2026-02-11").map(fmt_ts);
        let end = parse_date_bound("2026-02-11T23:59:59.999Z").map(fmt_ts);
        assert_eq!(day.as_deref(), Some("2026-02-11T00:00:00.000Z"));
        assert_eq!(end.as_deref(), Some("2026-02-11T23:59:59.999Z"));
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            html_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
