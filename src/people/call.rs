//! `solvapay-mcp call TOOL ['{json}'] [--arg k=v …] [--json] [--yes]`: one tool call through the
//! server's own call path, its text (or, with `--json`, its structured result) on stdout. Exit 0
//! on success, 5 when the tool answers with an error, 2 when the command line is wrong (nothing is
//! called then).
//!
//! A `--arg` value takes the type its parameter's schema gives: `amount=500` is the number 500,
//! `reference=007` stays the string "007", `items=[…]` is parsed as JSON.

use std::process::ExitCode;

use rmcp::model::{CallToolResult, JsonObject, Tool};
use serde_json::Value;

use super::tools::json_types;
use super::{SUCCESS, TOOL_FAILED, bad_arguments, out};
use crate::cli::CallArgs;
use crate::local::{Consent, LocalSession};
use crate::telemetry::LogRedaction;

/// What is wrong with the arguments on the command line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ArgumentError {
    #[error("the arguments are not JSON ({0}); give an object such as '{{\"limit\": 5}}'")]
    NotJson(String),
    #[error("the arguments must be a JSON object such as '{{\"limit\": 5}}', not {0}")]
    NotAnObject(&'static str),
    #[error("--arg {0:?} is not KEY=VALUE")]
    NotKeyValue(String),
    #[error("`{0}` is given twice")]
    Twice(String),
    #[error("{tool} has no parameter `{key}`; its parameters: {known}")]
    UnknownParameter {
        tool: String,
        key: String,
        known: String,
    },
    #[error("--arg {key}={value}: {key} takes {expected}, and {value:?} is not one")]
    WrongType {
        key: String,
        value: String,
        expected: String,
    },
    #[error("no tool named `{0}` is enabled here (see `solvapay-mcp tools`){1}")]
    UnknownTool(String, String),
}

/// Runs the call and prints its answer.
pub async fn run(args: &CallArgs, logs: &LogRedaction) -> ExitCode {
    let given = match parse_json(args.arguments.as_deref()) {
        Ok(g) => g,
        Err(e) => return bad_arguments(&e.to_string()),
    };
    let pairs = match split_pairs(&args.args) {
        Ok(p) => p,
        Err(e) => return bad_arguments(&e.to_string()),
    };
    let consent = Consent::from_flag(args.yes);
    let session = match LocalSession::start(&args.server, &args.sandbox, consent, logs).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let code = call(&session, args, given, &pairs).await;
    session.shutdown().await;
    code
}

async fn call(
    session: &LocalSession,
    args: &CallArgs,
    given: JsonObject,
    pairs: &[(String, String)],
) -> ExitCode {
    let tools = match session.list_tools().await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(tool) = tools.iter().find(|t| t.name == args.tool) else {
        let e = ArgumentError::UnknownTool(args.tool.clone(), suggestion(&args.tool, &tools));
        return bad_arguments(&e.to_string());
    };
    let arguments = match merge(tool, given, pairs) {
        Ok(a) => a,
        Err(e) => return bad_arguments(&e.to_string()),
    };
    let result = match session.call(&args.tool, arguments).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let failed = result.is_error == Some(true);
    print(&result, args.json, failed);
    ExitCode::from(if failed { TOOL_FAILED } else { SUCCESS })
}

/// The positional JSON argument, or an empty object.
pub(crate) fn parse_json(text: Option<&str>) -> Result<JsonObject, ArgumentError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(JsonObject::new());
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ArgumentError::NotAnObject(json_kind(&other))),
        Err(e) => Err(ArgumentError::NotJson(e.to_string())),
    }
}

/// `k=v` pairs, split at the first `=`; a key given twice is refused.
pub(crate) fn split_pairs(args: &[String]) -> Result<Vec<(String, String)>, ArgumentError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(ArgumentError::NotKeyValue(arg.clone()));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(ArgumentError::NotKeyValue(arg.clone()));
        }
        if pairs.iter().any(|(k, _)| k == key) {
            return Err(ArgumentError::Twice(key.to_owned()));
        }
        pairs.push((key.to_owned(), value.to_owned()));
    }
    Ok(pairs)
}

/// The JSON object plus the `--arg` pairs, each typed by the tool's schema. A key in both, or a
/// key the tool does not take, is refused rather than dropped.
pub(crate) fn merge(
    tool: &Tool,
    mut given: JsonObject,
    pairs: &[(String, String)],
) -> Result<JsonObject, ArgumentError> {
    let properties = tool
        .input_schema
        .get("properties")
        .and_then(Value::as_object);
    let unknown = |key: &str| ArgumentError::UnknownParameter {
        tool: tool.name.to_string(),
        key: key.to_owned(),
        known: properties.map_or_else(
            || "none".to_owned(),
            |p| p.keys().cloned().collect::<Vec<_>>().join(", "),
        ),
    };
    for key in given.keys() {
        if !properties.is_some_and(|p| p.contains_key(key)) {
            return Err(unknown(key));
        }
    }
    for (key, value) in pairs {
        let Some(schema) = properties.and_then(|p| p.get(key)) else {
            return Err(unknown(key));
        };
        if given.contains_key(key) {
            return Err(ArgumentError::Twice(key.clone()));
        }
        given.insert(key.clone(), typed(key, value, schema)?);
    }
    Ok(given)
}

/// `value` as the JSON its schema takes: a string stays a string when a string is allowed;
/// otherwise it must parse as JSON of an allowed type.
fn typed(key: &str, value: &str, schema: &Value) -> Result<Value, ArgumentError> {
    let types = json_types(schema);
    let parsed = serde_json::from_str::<Value>(value).ok();
    if let Some(v) = &parsed {
        let kind = json_kind(v);
        let fits = types.iter().any(|t| match t.as_str() {
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "string" => false,
            other => other == kind || other == "any",
        });
        if fits {
            return Ok(v.clone());
        }
    }
    if types.iter().any(|t| t == "string" || t == "any") {
        return Ok(Value::String(value.to_owned()));
    }
    Err(ArgumentError::WrongType {
        key: key.to_owned(),
        value: value.to_owned(),
        expected: types.join(" or "),
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// ", did you mean …?" when an enabled tool's name contains the given one or the other way round.
fn suggestion(name: &str, tools: &[Tool]) -> String {
    let close: Vec<&str> = tools
        .iter()
        .map(|t| t.name.as_ref())
        .filter(|t: &&str| t.contains(name) || name.contains(*t))
        .take(3)
        .collect();
    if close.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", close.join(", "))
    }
}

/// The answer: the result's text blocks; with `--json`, its structured content (an error's JSON
/// envelope, which rides in its text). Without `--json` an error goes to stderr.
fn print(result: &CallToolResult, json: bool, failed: bool) {
    // A block that is not text (none of this server's tools give one) is shown as its JSON,
    // never dropped.
    let texts: Vec<String> = result
        .content
        .iter()
        .map(|c| match c.as_text() {
            Some(t) => t.text.clone(),
            None => serde_json::to_string(c).unwrap_or_default(),
        })
        .collect();
    if json {
        let value = match (&result.structured_content, texts.as_slice()) {
            (Some(v), _) => v.clone(),
            (None, [one]) => {
                serde_json::from_str(one).unwrap_or_else(|_| Value::from(one.as_str()))
            }
            (None, _) => serde_json::to_value(&result.content).unwrap_or(Value::Null),
        };
        out(&serde_json::to_string_pretty(&value).unwrap_or_default());
    } else if failed {
        for text in &texts {
            eprintln!("{text}");
        }
    } else {
        for text in &texts {
            out(text);
        }
    }
}
