//! `solvapay-mcp tools [--json]`: the tools the server lists with these flags (toolsets,
//! read-only, single tools), with their titles and parameters, read from the server's own
//! `tools/list`.

use std::fmt::Write as _;
use std::process::ExitCode;

use rmcp::model::Tool;
use serde_json::Value;

use super::{SUCCESS, out};
use crate::cli::ToolsArgs;
use crate::local::{Consent, LocalSession};
use crate::schema::required_names;
use crate::telemetry::LogRedaction;

/// Lists the tools: a page for people, or `tools/list`'s own JSON with `--json`.
pub async fn run(args: &ToolsArgs, logs: &LogRedaction) -> ExitCode {
    let session = match LocalSession::start(&args.server, &args.sandbox, Consent::No, logs).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let listed = session.list_tools().await;
    session.shutdown().await;
    let tools = match listed {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        out(&serde_json::json!({ "tools": tools }).to_string());
    } else {
        out(render(&tools).trim_end());
    }
    ExitCode::from(SUCCESS)
}

/// One block per tool: its name, title and kind, then a line per parameter.
pub(crate) fn render(tools: &[Tool]) -> String {
    let mut page = String::new();
    for tool in tools {
        let title = tool
            .title
            .as_deref()
            .or_else(|| tool.annotations.as_ref().and_then(|a| a.title.as_deref()))
            .unwrap_or("");
        let _ = writeln!(page, "{}  {title}  [{}]", tool.name, kind(tool));
        let params = parameters(tool);
        let width = params.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in &params {
            let need = if p.required { "required" } else { "optional" };
            let line = format!(
                "    {:width$}  {:8}  {need}  {}",
                p.name,
                p.kind,
                p.about,
                width = width
            );
            let _ = writeln!(page, "{}", line.trim_end());
        }
        if params.is_empty() {
            let _ = writeln!(page, "    (no parameters)");
        }
        for group in one_of_groups(tool) {
            let _ = writeln!(page, "    (needs one of: {})", group.join(", "));
        }
        page.push('\n');
    }
    let _ = write!(page, "{} tools", tools.len());
    page
}

/// What calling the tool does, from its annotations.
fn kind(tool: &Tool) -> &'static str {
    let hints = tool.annotations.as_ref();
    let read_only = hints.and_then(|a| a.read_only_hint).unwrap_or(false);
    let destructive = hints.and_then(|a| a.destructive_hint).unwrap_or(!read_only);
    match (read_only, destructive) {
        (true, _) => "read-only",
        (false, true) => "changes data, destructive",
        (false, false) => "changes data",
    }
}

/// A parameter as shown.
pub(crate) struct Parameter {
    pub(crate) name: String,
    /// Its JSON type(s), or `any`.
    pub(crate) kind: String,
    pub(crate) required: bool,
    /// Its description, and its allowed values.
    pub(crate) about: String,
}

/// The tool's top-level parameters, in the schema's order. Another name a parameter is also
/// accepted by (a `deprecated` property) is not shown; a parameter that is the one shown
/// alternative of an `anyOf` requirement is shown as required.
pub(crate) fn parameters(tool: &Tool) -> Vec<Parameter> {
    let mut required = required_names(&tool.input_schema);
    let Some(properties) = tool
        .input_schema
        .get("properties")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    for group in alternatives(tool) {
        if let [only] = group.as_slice() {
            required.push(only.clone());
        }
    }
    properties
        .iter()
        .filter(|(_, schema)| !is_alias(schema))
        .map(|(name, schema)| Parameter {
            name: name.clone(),
            kind: json_types(schema).join("|"),
            required: required.contains(name),
            about: about(schema),
        })
        .collect()
}

/// Another name a parameter is accepted by: listed, marked `deprecated`, not for people.
fn is_alias(schema: &Value) -> bool {
    schema.get("deprecated").and_then(Value::as_bool) == Some(true)
}

/// Each `anyOf` requirement (one of these parameters must be given; at the top or inside
/// `allOf`), as the shown parameters it names.
fn alternatives(tool: &Tool) -> Vec<Vec<String>> {
    let schema = &tool.input_schema;
    let properties = schema.get("properties").and_then(Value::as_object);
    let shown = |name: &str| {
        properties
            .and_then(|p| p.get(name))
            .is_some_and(|s| !is_alias(s))
    };
    let nested = schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let requirements = std::iter::once(schema.get("anyOf"))
        .chain(nested.map(|part| part.get("anyOf")))
        .flatten()
        .filter_map(Value::as_array);
    let mut groups = Vec::new();
    for options in requirements {
        let mut names: Vec<String> = Vec::new();
        for option in options {
            let required = option.as_object().map(required_names).unwrap_or_default();
            for name in required {
                if shown(&name) && !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        if !names.is_empty() {
            groups.push(names);
        }
    }
    groups
}

/// The `anyOf` requirements with more than one shown alternative.
fn one_of_groups(tool: &Tool) -> Vec<Vec<String>> {
    alternatives(tool)
        .into_iter()
        .filter(|g| g.len() > 1)
        .collect()
}

/// The JSON types a property's schema allows (`type`, or the types of its `anyOf`/`oneOf`).
pub(crate) fn json_types(schema: &Value) -> Vec<String> {
    let mut types = Vec::new();
    match schema.get("type") {
        Some(Value::String(t)) => types.push(t.clone()),
        Some(Value::Array(ts)) => {
            types.extend(ts.iter().filter_map(Value::as_str).map(str::to_owned))
        }
        _ => {}
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            for option in options {
                for t in json_types(option) {
                    if !types.contains(&t) {
                        types.push(t);
                    }
                }
            }
        }
    }
    if types.is_empty() && schema.get("enum").is_some() {
        types.push("string".to_owned());
    }
    if types.is_empty() {
        types.push("any".to_owned());
    }
    types
}

/// The description on one line, then the allowed values when the schema lists them.
fn about(schema: &Value) -> String {
    let description = schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut about = description.trim_end_matches('.').replace('\n', " ");
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(Value::to_string).collect();
        let _ = write!(about, " (one of {})", values.join(", "));
    }
    about.trim_start().to_owned()
}
