//! The tool list as a client reads it: every tool's schemas reduced, once, when the router is built,
//! to plain standard JSON Schema 2020-12. Generic rules, the same for every tool:
//!
//! - only the `format`s the 2020-12 specification defines stay (`int64`, `uint32`, … make every
//!   AJV-based client warn on each connection); `$schema`, `title`, `default`, `readOnly`,
//!   `writeOnly`, `examples` and `additionalProperties: true` go (the MCP default dialect is
//!   2020-12; defaults are in the prose);
//! - an optional property is a plain type (`["string","null"]` → `"string"`, `anyOf [X, null]` →
//!   X): the argument structs read an absent and a `null` argument alike (`Option`), and an output
//!   field that may be absent is one the serializer skips (`skip_serializing_if`), never a `null`;
//! - output schemas keep their structure only (types, properties, required, items, enums,
//!   references), down to each record's own fields ([`RECORD_KEY`]; `Money` at every depth): descriptions
//!   are for the model, which reads the inputs and the server's instructions (what minor units
//!   mean);
//! - a `$defs` type is inlined where that is smaller than referring to it (outputs: shared again
//!   after the depth cut wherever that is smaller);
//! - the older argument names each tool accepts ([`ALIASES`]) are listed beside the current ones,
//!   marked `deprecated`, so that a client that validates arguments before sending lets them
//!   through (without a `type`, so that form clients do not ask for them); a required property with
//!   aliases is required in any one of its names.

use std::collections::BTreeMap;
use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use serde_json::{Map, Value, json};

/// The formats JSON Schema 2020-12 defines (Validation §7.3).
pub const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Annotations no client acts on.
const NOISE: &[&str] = &[
    "$schema",
    "title",
    "default",
    "readOnly",
    "writeOnly",
    "examples",
];

/// What an output schema keeps of each subschema: its structure. `description` is kept apart, on
/// shared types only.
const OUTPUT_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "required",
    "items",
    "prefixItems",
    "additionalProperties",
    "enum",
    "const",
    "format",
    "$ref",
    "$defs",
    "anyOf",
    "oneOf",
    "allOf",
];

/// Older names of one argument, accepted by the tool's argument struct (`#[serde(alias = …)]`).
#[derive(Debug, Clone, Copy)]
pub struct Alias {
    /// The tool.
    pub tool: &'static str,
    /// The argument's current name, as listed (camelCase), wherever it appears in the tool's input.
    pub property: &'static str,
    /// The older names, each accepted in its place.
    pub names: &'static [&'static str],
}

/// An older value of a closed argument (an enum variant's `#[serde(alias = …)]`).
#[derive(Debug, Clone, Copy)]
pub struct ValueAlias {
    /// The tool.
    pub tool: &'static str,
    /// The argument, wherever it appears in the tool's input.
    pub property: &'static str,
    /// The current value.
    pub value: &'static str,
    /// The older value accepted as `value`.
    pub alias: &'static str,
}

const fn alias(
    tool: &'static str,
    property: &'static str,
    names: &'static [&'static str],
) -> Alias {
    Alias {
        tool,
        property,
        names,
    }
}

/// Every argument alias the tools accept: the serde attributes in `src/tools` say the same (a test
/// reads them), and a test calls each through the server.
pub const ALIASES: &[Alias] = &[
    alias("get_customer", "reference", &["customerRef", "customerId"]),
    alias(
        "update_customer",
        "reference",
        &["customerRef", "customerId"],
    ),
    alias(
        "delete_customer",
        "reference",
        &["customerRef", "customerId"],
    ),
    alias(
        "get_product",
        "reference",
        &["productRef", "productReference"],
    ),
    alias(
        "update_product",
        "reference",
        &["productRef", "productReference"],
    ),
    alias(
        "delete_product",
        "reference",
        &["productRef", "productReference"],
    ),
    alias("create_plan", "productRef", &["productReference"]),
    alias("update_plan", "productRef", &["productReference"]),
    alias("update_plan", "planRef", &["reference"]),
    alias("get_plan", "productRef", &["productReference"]),
    alias("get_plan", "planRef", &["reference"]),
    alias("delete_plan", "productRef", &["productReference"]),
    alias("delete_plan", "planRef", &["reference"]),
    alias(
        "list_plans_for_product",
        "productRef",
        &["productReference", "reference"],
    ),
    alias(
        "get_purchase",
        "reference",
        &["id", "purchaseRef", "purchaseId"],
    ),
    alias("get_purchases_by_customer", "customerRef", &["customerId"]),
    alias(
        "get_purchases_by_product",
        "productRef",
        &["productReference"],
    ),
    alias(
        "cancel_renewal",
        "purchaseRef",
        &["purchaseId", "reference"],
    ),
    alias("create_checkout_session", "customerRef", &["customerId"]),
    alias(
        "create_checkout_session",
        "productRef",
        &["productReference"],
    ),
    alias(
        "create_customer_session",
        "customerRef",
        &["customerId", "reference"],
    ),
    alias("check_limits", "customerRef", &["customerId"]),
    alias("check_limits", "productRef", &["productReference"]),
    alias("record_usage", "customerRef", &["customerId"]),
    alias("record_usage", "productRef", &["productReference"]),
    alias("record_bulk_usage", "customerRef", &["customerId"]),
    alias("record_bulk_usage", "productRef", &["productReference"]),
    alias("get_transaction", "transactionRef", &["transactionId"]),
    alias(
        "create_refund",
        "sourceTransactionRef",
        &["sourceTransactionId"],
    ),
    alias(
        "get_product_balance",
        "productRef",
        &["productReference", "reference"],
    ),
    alias("get_revenue_metrics", "productRef", &["productReference"]),
];

/// Every older enum value the tools accept.
pub const VALUE_ALIASES: &[ValueAlias] = &[
    ValueAlias {
        tool: "record_usage",
        property: "outcome",
        value: "fail",
        alias: "failure",
    },
    ValueAlias {
        tool: "record_bulk_usage",
        property: "outcome",
        value: "fail",
        alias: "failure",
    },
];

/// `router` with every tool's input and output schema made lean (see the module comment).
pub(crate) fn lean<S: Send + Sync + 'static>(router: ToolRouter<S>) -> ToolRouter<S> {
    let mut lean = ToolRouter::new();
    for mut route in router {
        let tool = &mut route.attr;
        let input = lean_input(&tool.name, tool.input_schema.as_ref().clone());
        tool.input_schema = Arc::new(input);
        if let Some(output) = &tool.output_schema {
            tool.output_schema = Some(Arc::new(lean_output(output.as_ref().clone())));
        }
        lean.add_route(route);
    }
    lean
}

/// The input schema of `tool`, lean and listing the older names it accepts.
pub fn lean_input(tool: &str, schema: Map<String, Value>) -> Map<String, Value> {
    let mut root = Value::Object(schema);
    each_schema(&mut root, &mut |node| {
        drop_noise(node);
        plain_optionals(node);
    });
    let aliases: Vec<&Alias> = ALIASES.iter().filter(|a| a.tool == tool).collect();
    if !aliases.is_empty() {
        each_schema(&mut root, &mut |node| list_aliases(node, &aliases));
    }
    inline_defs(&mut root);
    for value in VALUE_ALIASES.iter().filter(|a| a.tool == tool) {
        list_value_alias(&mut root, value);
    }
    into_map(root)
}

/// The output schema, lean: structure only, down to each record's own fields (see [`RECORD_KEY`]).
pub fn lean_output(schema: Map<String, Value>) -> Map<String, Value> {
    let mut root = Value::Object(schema);
    each_schema(&mut root, &mut |node| {
        drop_noise(node);
        node.retain(|k, _| OUTPUT_KEYWORDS.contains(&k.as_str()));
        plain_optionals(node);
    });
    let defs = match &mut root {
        Value::Object(map) => map.remove("$defs").map(into_map).unwrap_or_default(),
        _ => Map::new(),
    };
    expand(&mut root, &defs, 0);
    shallow(&mut root, false);
    share(&mut root);
    into_map(root)
}

/// What makes an object a record: SolvaPay's resources (customer, product, plan, purchase,
/// transaction) each carry their `reference`. An output schema describes the result and every
/// record's own fields; an object inside a record (a purchase's plan snapshot, a product's plans,
/// a customer's purchases) is typed `object`: its fields are in the result itself, and a client acts
/// on the records. `Money` is described wherever it appears: it is what this server is about.
const RECORD_KEY: &str = "reference";

/// The shared type described wherever it appears.
const ALWAYS_DESCRIBED: &str = "Money";

/// Marks an expanded `$defs` type with its name, until [`share`] decides where it stays shared.
const DEF_TAG: &str = "x-def";

/// Replaces every reference by a copy of its type, tagged with the type's name (no type of an
/// output refers to itself; a chain longer than 16 is left as it is).
fn expand(node: &mut Value, defs: &Map<String, Value>, chain: usize) {
    let Value::Object(map) = node else {
        return;
    };
    if let Some(name) = map
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .map(str::to_owned)
        && let Some(Value::Object(def)) = defs.get(&name)
        && chain < 16
    {
        map.remove("$ref");
        for (k, v) in def {
            map.entry(k.clone()).or_insert_with(|| v.clone());
        }
        map.insert(DEF_TAG.to_owned(), Value::String(name));
        expand(node, defs, chain + 1);
        return;
    }
    for child in map.values_mut() {
        match child {
            Value::Array(list) => list.iter_mut().for_each(|v| expand(v, defs, chain)),
            other => expand(other, defs, chain),
        }
    }
}

/// Types every object inside a record as `object` (keeping [`ALWAYS_DESCRIBED`]); see
/// [`RECORD_KEY`].
fn shallow(node: &mut Value, inside_record: bool) {
    let Value::Object(map) = node else {
        return;
    };
    let mut inside = inside_record;
    if let Some(Value::Object(properties)) = map.get("properties") {
        let described = map.get(DEF_TAG).and_then(Value::as_str) == Some(ALWAYS_DESCRIBED);
        if inside_record && !described {
            *map = Map::from_iter([("type".to_owned(), Value::from("object"))]);
            return;
        }
        inside |= properties.contains_key(RECORD_KEY);
    }
    for (key, child) in map.iter_mut() {
        match (key.as_str(), child) {
            ("properties", Value::Object(properties)) => {
                properties.values_mut().for_each(|p| shallow(p, inside));
            }
            ("items" | "additionalProperties", child) => shallow(child, inside_record),
            ("anyOf" | "oneOf" | "allOf" | "prefixItems", Value::Array(list)) => {
                list.iter_mut().for_each(|v| shallow(v, inside_record));
            }
            _ => {}
        }
    }
}

/// Puts back into `$defs` each tagged type that appears more than once, identically, wherever
/// referring to it is smaller than repeating it; every other copy stays inline. Tags go.
fn share(root: &mut Value) {
    let mut shared = Map::new();
    // Innermost (smallest) first, collected afresh after each change, so that an outer shared type
    // refers to the inner ones.
    loop {
        let mut copies: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        collect_tagged(root, &mut copies);
        let pick = copies
            .into_iter()
            .filter_map(|(name, list)| {
                let first = list.first()?.clone();
                let reference = json!({ "$ref": format!("#/$defs/{name}") });
                let n = list.len();
                let referred = size(&first) + name.len() + 4 + n * size(&reference);
                (n > 1 && list.iter().all(|v| *v == first) && referred < n * size(&first))
                    .then_some((size(&first), name, first, reference))
            })
            .min_by_key(|(size, ..)| *size);
        let Some((_, name, def, reference)) = pick else {
            break;
        };
        replace_tagged(root, &name, &reference);
        shared.insert(name, def);
    }
    strip_tags(root);
    if !shared.is_empty()
        && let Value::Object(map) = root
    {
        map.insert("$defs".to_owned(), Value::Object(shared));
    }
}

/// Every tagged copy, without its tag (nested tags stripped too), by type name.
fn collect_tagged(node: &Value, copies: &mut BTreeMap<String, Vec<Value>>) {
    match node {
        Value::Object(map) => {
            if let Some(name) = map.get(DEF_TAG).and_then(Value::as_str) {
                let mut copy = node.clone();
                strip_tags(&mut copy);
                copies.entry(name.to_owned()).or_default().push(copy);
            }
            map.values().for_each(|v| collect_tagged(v, copies));
        }
        Value::Array(list) => list.iter().for_each(|v| collect_tagged(v, copies)),
        _ => {}
    }
}

fn replace_tagged(node: &mut Value, name: &str, with: &Value) {
    match node {
        Value::Object(map) if map.get(DEF_TAG).and_then(Value::as_str) == Some(name) => {
            *node = with.clone();
        }
        Value::Object(map) => map.values_mut().for_each(|v| replace_tagged(v, name, with)),
        Value::Array(list) => list.iter_mut().for_each(|v| replace_tagged(v, name, with)),
        _ => {}
    }
}

fn strip_tags(node: &mut Value) {
    match node {
        Value::Object(map) => {
            map.remove(DEF_TAG);
            map.values_mut().for_each(strip_tags);
        }
        Value::Array(list) => list.iter_mut().for_each(strip_tags),
        _ => {}
    }
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn defs(root: &Value) -> Option<&Map<String, Value>> {
    root.get("$defs").and_then(Value::as_object)
}

/// Calls `f` on every subschema of `schema` (itself first), through the keywords that hold schemas;
/// property names are never taken for keywords.
fn each_schema(schema: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    let Value::Object(node) = schema else {
        return;
    };
    f(node);
    for (key, child) in node.iter_mut() {
        match key.as_str() {
            "properties" | "$defs" | "patternProperties" | "dependentSchemas" => {
                if let Value::Object(map) = child {
                    for sub in map.values_mut() {
                        each_schema(sub, f);
                    }
                }
            }
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                if let Value::Array(list) = child {
                    for sub in list {
                        each_schema(sub, f);
                    }
                }
            }
            "items"
            | "additionalProperties"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames"
            | "unevaluatedItems"
            | "unevaluatedProperties" => {
                each_schema(child, f);
            }
            _ => {}
        }
    }
}

fn drop_noise(node: &mut Map<String, Value>) {
    for key in NOISE {
        node.remove(*key);
    }
    // The default: any property is allowed.
    if node.get("additionalProperties") == Some(&Value::Bool(true)) {
        node.remove("additionalProperties");
    }
    let standard = node
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| STANDARD_FORMATS.contains(&f));
    if !standard {
        node.remove("format");
    }
}

/// The property names a schema `node` lists as `required` (none when it lists none).
pub fn required_names(node: &Map<String, Value>) -> Vec<String> {
    node.get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Each property `node` does not require, as a plain type (without its `null` alternative).
fn plain_optionals(node: &mut Map<String, Value>) {
    let required = required_names(node);
    let Some(Value::Object(properties)) = node.get_mut("properties") else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        if let Value::Object(property) = property
            && !required.contains(name)
        {
            without_null(property);
        }
    }
}

fn without_null(schema: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema.insert("type".to_owned(), only);
        }
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    for keyword in ["anyOf", "oneOf"] {
        let Some(Value::Array(alternatives)) = schema.get_mut(keyword) else {
            continue;
        };
        alternatives.retain(|a| *a != json!({"type": "null"}));
        if alternatives.len() == 1
            && let Some(Value::Object(only)) = alternatives.pop()
        {
            schema.remove(keyword);
            for (k, v) in only {
                schema.entry(k).or_insert(v);
            }
        }
    }
}

/// Lists the older names of `node`'s properties beside them, and lets any one name of a required
/// property satisfy `required`.
fn list_aliases(node: &mut Map<String, Value>, aliases: &[&Alias]) {
    let Some(Value::Object(properties)) = node.get_mut("properties") else {
        return;
    };
    let mut alternatives = Vec::new();
    let mut aliased = Vec::new();
    for alias in aliases {
        if !properties.contains_key(alias.property) {
            continue;
        }
        // Only `deprecated`: the server checks the value as it checks the current name's, and a
        // form client, which asks for fields that have a plain `type`, does not ask twice.
        for name in alias.names {
            properties.insert((*name).to_owned(), json!({ "deprecated": true }));
        }
        aliased.push(alias);
    }
    let Some(Value::Array(required)) = node.get_mut("required") else {
        return;
    };
    for alias in aliased {
        let before = required.len();
        required.retain(|r| r != alias.property);
        if required.len() < before {
            let any_name = std::iter::once(alias.property)
                .chain(alias.names.iter().copied())
                .map(|name| json!({ "required": [name] }))
                .collect::<Vec<_>>();
            alternatives.push(json!({ "anyOf": any_name }));
        }
    }
    if required.is_empty() {
        node.remove("required");
    }
    match alternatives.len() {
        0 => {}
        1 if !node.contains_key("anyOf") => {
            if let Some(Value::Object(mut only)) = alternatives.pop()
                && let Some(any) = only.remove("anyOf")
            {
                node.insert("anyOf".to_owned(), any);
            }
        }
        _ => {
            let all = node
                .entry("allOf")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(all) = all {
                all.extend(alternatives);
            }
        }
    }
}

/// Adds `alias.alias` to the values of every `alias.property` whose values include `alias.value`.
fn list_value_alias(root: &mut Value, alias: &ValueAlias) {
    let mut referenced = Vec::new();
    each_schema(root, &mut |node| {
        let Some(Value::Object(property)) = node
            .get_mut("properties")
            .and_then(|p| p.get_mut(alias.property))
        else {
            return;
        };
        match property.get("$ref").and_then(Value::as_str) {
            Some(reference) => referenced.push(reference.to_owned()),
            None => add_value(property, alias),
        }
    });
    for reference in referenced {
        if let Some(name) = reference.strip_prefix("#/$defs/")
            && let Some(Value::Object(def)) = root.get_mut("$defs").and_then(|d| d.get_mut(name))
        {
            add_value(def, alias);
        }
    }
}

fn add_value(schema: &mut Map<String, Value>, alias: &ValueAlias) {
    if let Some(Value::Array(values)) = schema.get_mut("enum")
        && values.iter().any(|v| v == alias.value)
        && !values.iter().any(|v| v == alias.alias)
    {
        values.push(Value::from(alias.alias));
    }
}

/// Replaces each reference to a `$defs` type of an input by the type itself wherever that is smaller
/// (a type used once, a small enum), innermost first.
fn inline_defs(root: &mut Value) {
    loop {
        let Some(defs) = defs(root) else {
            return;
        };
        let uses = reference_counts(root);
        let pick = defs.iter().find_map(|(name, def)| {
            let reference = format!("#/$defs/{name}");
            let mut inner = BTreeMap::new();
            count_references(def, &mut inner);
            if !inner.is_empty() {
                return None; // innermost first; a type that refers to itself is never inlined
            }
            let n = uses.get(&reference).copied().unwrap_or(0);
            let copy = def.clone();
            let shared = size(def) + name.len() + 4 + n * size(&json!({ "$ref": reference }));
            (n * size(&copy) <= shared).then_some((reference, copy))
        });
        let Some((reference, copy)) = pick else {
            return;
        };
        replace_references(root, &reference, &copy);
        if let Some(Value::Object(defs)) = root.get_mut("$defs") {
            if let Some(name) = reference.strip_prefix("#/$defs/") {
                defs.remove(name);
            }
            if defs.is_empty()
                && let Value::Object(root) = root
            {
                root.remove("$defs");
            }
        }
    }
}

fn size(value: &Value) -> usize {
    serde_json::to_vec(value).map_or(0, |v| v.len())
}

fn reference_counts(root: &Value) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    count_references(root, &mut counts);
    counts
}

fn count_references(value: &Value, counts: &mut BTreeMap<String, usize>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                *counts.entry(reference.clone()).or_default() += 1;
            }
            map.values().for_each(|v| count_references(v, counts));
        }
        Value::Array(list) => list.iter().for_each(|v| count_references(v, counts)),
        _ => {}
    }
}

fn replace_references(value: &mut Value, reference: &str, with: &Value) {
    match value {
        Value::Object(map) => {
            if map.get("$ref").and_then(Value::as_str) == Some(reference) {
                map.remove("$ref");
                if let Value::Object(with) = with {
                    for (k, v) in with {
                        map.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
            map.values_mut()
                .for_each(|v| replace_references(v, reference, with));
        }
        Value::Array(list) => list
            .iter_mut()
            .for_each(|v| replace_references(v, reference, with)),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
