//! The tool list a client downloads on every connection: small enough (issue 12), standard JSON
//! Schema only, plain optional inputs, and the older argument names a validating client must let
//! through (the seed's own calls use them).

use rmcp::model::Tool;
use serde_json::{Value, json};
use solvapay_mcp::schema::{ALIASES, STANDARD_FORMATS, VALUE_ALIASES};

use crate::support::{self, Client, ok};

/// At most this many bytes for the whole tools array, as compact JSON.
const TOTAL_BUDGET: usize = 48_000;
/// At most this many bytes per tool, on average, of what the model reads: name, description and
/// input schema.
const MODEL_FACING_BUDGET: usize = 600;

fn bytes(value: &impl serde::Serialize) -> usize {
    serde_json::to_vec(value).unwrap().len()
}

/// The figures, one line, for the failure message.
struct Figures {
    tools: usize,
    total: usize,
    inputs: usize,
    outputs: usize,
    model_facing: usize,
}

impl Figures {
    fn of(tools: &[Tool]) -> Self {
        let inputs = tools.iter().map(|t| bytes(&t.input_schema)).sum();
        let outputs = tools.iter().map(|t| bytes(&t.output_schema)).sum();
        let model_facing = tools
            .iter()
            .map(|t| bytes(&t.name) + bytes(&t.description) + bytes(&t.input_schema))
            .sum();
        Self {
            tools: tools.len(),
            total: bytes(&tools),
            inputs,
            outputs,
            model_facing,
        }
    }

    fn average(&self) -> usize {
        self.model_facing / self.tools.max(1)
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tools: {} B in all (budget {TOTAL_BUDGET}); input schemas {} B, output schemas {} B; \
             model-facing {} B, {} B per tool (budget {MODEL_FACING_BUDGET})",
            self.tools,
            self.total,
            self.inputs,
            self.outputs,
            self.model_facing,
            self.average()
        )
    }
}

/// The tools beyond SolvaPay's hosted 32 (the `credits` toolset and `get_revenue_metrics`),
/// measured apart.
const BEYOND_HOSTED: [&str; 5] = [
    "activate_plan",
    "get_customer_balance",
    "get_revenue_metrics",
    "grant_credits",
    "reactivate_renewal",
];

/// The 32 hosted tools the budget is for, and the ones beyond them.
async fn listed_apart() -> (Client, Vec<Tool>, Vec<Tool>) {
    let upstream = support::upstream().await;
    let client = support::connect(&upstream.uri()).await;
    let (beyond, hosted) = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .partition(|t| BEYOND_HOSTED.contains(&t.name.as_ref()));
    (client, hosted, beyond)
}

async fn listed() -> (Client, Vec<Tool>) {
    let (client, mut hosted, beyond) = listed_apart().await;
    hosted.extend(beyond);
    (client, hosted)
}

#[tokio::test]
async fn the_tools_beyond_the_hosted_32_keep_the_same_per_tool_average() {
    let (_client, _hosted, beyond) = listed_apart().await;
    let figures = Figures::of(&beyond);
    assert_eq!(figures.tools, BEYOND_HOSTED.len(), "{figures}");
    assert!(
        figures.average() <= MODEL_FACING_BUDGET,
        "model-facing part over budget: {figures}"
    );
}

#[tokio::test]
async fn what_the_model_reads_of_the_tool_list_fits_the_budget() {
    let (_client, tools, _) = listed_apart().await;
    let figures = Figures::of(&tools);
    assert_eq!(figures.tools, 32, "{figures}");
    assert!(
        figures.average() <= MODEL_FACING_BUDGET,
        "model-facing part over budget: {figures}"
    );
}

#[tokio::test]
async fn the_tool_list_fits_the_budget() {
    let (_client, tools, _) = listed_apart().await;
    let figures = Figures::of(&tools);
    assert_eq!(figures.tools, 32, "{figures}");
    assert!(figures.total <= TOTAL_BUDGET, "over budget: {figures}");
}

/// Every path under `value` where a property's schema is the bare `true` (any value at all).
fn bare_true(value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{path}/{key}");
                if key == "properties"
                    && let Value::Object(properties) = child
                {
                    for (name, schema) in properties {
                        if schema == &Value::Bool(true) {
                            found.push(format!("{here}/{name}"));
                        }
                    }
                }
                bare_true(child, &here, found);
            }
        }
        Value::Array(list) => list.iter().for_each(|v| bare_true(v, path, found)),
        _ => {}
    }
}

/// Every `(path, format)` under `value` whose format is not one JSON Schema 2020-12 defines.
fn odd_formats(value: &Value, path: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if let (true, Value::String(format)) = (key == "format", child)
                    && !STANDARD_FORMATS.contains(&format.as_str())
                {
                    found.push(format!("{path}: {format}"));
                }
                odd_formats(child, &format!("{path}/{key}"), found);
            }
        }
        Value::Array(list) => {
            for (i, child) in list.iter().enumerate() {
                odd_formats(child, &format!("{path}/{i}"), found);
            }
        }
        _ => {}
    }
}

/// Every optional property under `schema` that still offers `null` (a two-typed field).
fn nullable_optionals(schema: &Value, path: &str, found: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            let required: Vec<&str> = map
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(Value::Object(properties)) = map.get("properties") {
                for (name, property) in properties {
                    let two_typed = property["type"]
                        .as_array()
                        .is_some_and(|t| t.contains(&json!("null")));
                    let null_alternative = ["anyOf", "oneOf"].iter().any(|k| {
                        property[*k]
                            .as_array()
                            .is_some_and(|a| a.contains(&json!({"type": "null"})))
                    });
                    if !required.contains(&name.as_str()) && (two_typed || null_alternative) {
                        found.push(format!("{path}/properties/{name}"));
                    }
                }
            }
            for (key, child) in map {
                nullable_optionals(child, &format!("{path}/{key}"), found);
            }
        }
        Value::Array(list) => {
            for (i, child) in list.iter().enumerate() {
                nullable_optionals(child, &format!("{path}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_tool_list_is_plain_standard_json_schema() {
    let (_client, tools) = listed().await;
    let mut odd = Vec::new();
    let mut nullable = Vec::new();
    let mut bare = Vec::new();
    for tool in &tools {
        let input = Value::Object(tool.input_schema.as_ref().clone());
        odd_formats(&input, &format!("{}/inputSchema", tool.name), &mut odd);
        nullable_optionals(&input, &format!("{}/inputSchema", tool.name), &mut nullable);
        jsonschema::draft202012::new(&input)
            .unwrap_or_else(|e| panic!("{}: inputSchema does not compile: {e}", tool.name));
        let output = tool
            .output_schema
            .as_ref()
            .map(|s| Value::Object(s.as_ref().clone()));
        let output = output.unwrap_or_else(|| panic!("{} has no outputSchema", tool.name));
        odd_formats(&output, &format!("{}/outputSchema", tool.name), &mut odd);
        nullable_optionals(
            &output,
            &format!("{}/outputSchema", tool.name),
            &mut nullable,
        );
        bare_true(&output, &format!("{}/outputSchema", tool.name), &mut bare);
        jsonschema::draft202012::new(&output)
            .unwrap_or_else(|e| panic!("{}: outputSchema does not compile: {e}", tool.name));
        // rmcp drops an output schema that does not describe an object for older clients.
        assert_eq!(output["type"], "object", "{}", tool.name);
        assert!(input.get("$schema").is_none() && output.get("$schema").is_none());
    }
    assert!(odd.is_empty(), "non-standard formats:\n{}", odd.join("\n"));
    // The Inspector's `--strict` check refuses a bare `true` where a schema is expected.
    assert!(
        bare.is_empty(),
        "output properties that accept anything:\n{}",
        bare.join("\n")
    );
    assert!(
        nullable.is_empty(),
        "optional properties that are not plain types:\n{}",
        nullable.join("\n")
    );
}

fn input_validator(tools: &[Tool], name: &str) -> jsonschema::Validator {
    let tool = tools.iter().find(|t| t.name == name).unwrap();
    jsonschema::draft202012::new(&Value::Object(tool.input_schema.as_ref().clone())).unwrap()
}

#[tokio::test]
async fn a_validating_client_lets_every_seed_call_through_as_written() {
    let (_client, tools) = listed().await;
    let event = json!({
        "customerId": "cus_X7Y8Z9W0", "actionType": "api_call", "units": 1,
        "productReference": "prd_P9Q0R1S2", "outcome": "success"
    });
    // Each call of shared/seed/000_677b5ca436a61f0a.txt, its arguments as the seed writes them.
    let seed = [
        (
            "create_customer",
            json!({"email": "jane@acme.com", "name": "Jane Smith"}),
        ),
        (
            "ensure_customer",
            json!({"email": "bob@startup.io", "name": "Bob"}),
        ),
        (
            "create_product",
            json!({"name": "support-bot", "description": "Customer support automation"}),
        ),
        (
            "get_transaction_stats",
            json!({"fromDate": "2026-01-11", "toDate": "2026-02-11"}),
        ),
        ("get_product_balance", json!({"productRef": "prd_P9Q0R1S2"})),
        (
            "get_purchases_by_customer",
            json!({"customerRef": "cus_A1B2C3D4"}),
        ),
        (
            "cancel_renewal",
            json!({"purchaseId": "pur_T3U4V5W6", "reason": "Customer requested downgrade"}),
        ),
        (
            "create_checkout_session",
            json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", "planRef": "pln_K5L6M7N8"}),
        ),
        (
            "create_refund",
            json!({"sourceTransactionId": "txn_D7E8F9G0", "amount": 2500, "reason": "Double charge"}),
        ),
        (
            "record_usage",
            json!({"customerId": "cus_X7Y8Z9W0", "productReference": "prd_P9Q0R1S2",
                   "actionType": "api_call", "units": 1, "outcome": "success"}),
        ),
        (
            "check_limits",
            json!({"customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2"}),
        ),
        (
            "record_bulk_usage",
            json!({"events": [event, event, event, event, event]}),
        ),
        (
            "create_customer_session",
            json!({"customerRef": "cus_A1B2C3D4"}),
        ),
    ];
    for (tool, args) in &seed {
        let errors: Vec<String> = input_validator(&tools, tool)
            .iter_errors(args)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{tool} {args} refused:\n{}",
            errors.join("\n")
        );
    }
    // The same client still refuses what the server refuses: a misspelt name, a missing reference.
    let cancel = input_validator(&tools, "cancel_renewal");
    assert!(!cancel.is_valid(&json!({"purchaseIdx": "pur_T3U4V5W6"})));
    assert!(!cancel.is_valid(&json!({"reason": "no reference"})));
    let limits = input_validator(&tools, "check_limits");
    assert!(!limits.is_valid(&json!({"customerId": "cus_X7Y8Z9W0"})));
}

/// Where `property` is listed in `schema`: at the top (`None`), or in the items of an array
/// argument (record_bulk_usage's events), with its schema.
fn listed_at(schema: &Value, property: &str) -> Option<(Option<String>, Value)> {
    if let Some(found) = schema["properties"].get(property) {
        return Some((None, found.clone()));
    }
    for (name, candidate) in schema["properties"].as_object()? {
        let mut items = candidate["items"].clone();
        if let Some(reference) = items["$ref"].as_str() {
            items = schema["$defs"][reference.trim_start_matches("#/$defs/")].clone();
        }
        if let Some(found) = items["properties"].get(property) {
            return Some((Some(name.clone()), found.clone()));
        }
    }
    None
}

/// `fields` as arguments, placed where `property` is listed in `schema`.
fn placed(schema: &Value, property: &str, fields: Value) -> Value {
    match listed_at(schema, property) {
        Some((None, _)) => fields,
        Some((Some(array), _)) => json!({ array: [fields] }),
        None => panic!("{property} is not an argument: {schema}"),
    }
}

#[tokio::test]
async fn every_listed_older_name_is_one_the_server_reads_as_the_current_one() {
    let (_sandbox, client) = support::sandbox(true).await;
    let tools = client.list_all_tools().await.unwrap();
    for alias in ALIASES {
        let tool = tools.iter().find(|t| t.name == alias.tool).unwrap();
        let schema = Value::Object(tool.input_schema.as_ref().clone());
        for name in alias.names {
            let (_, listed) = listed_at(&schema, name)
                .unwrap_or_else(|| panic!("{}: {name} not listed", alias.tool));
            assert_eq!(listed["deprecated"], true, "{}: {name}", alias.tool);
            // Both names at once: the server reads them as one argument given twice, which proves
            // it takes the older name for the current one (an unknown name is refused otherwise).
            let args = placed(
                &schema,
                alias.property,
                json!({ alias.property: "x", *name: "x" }),
            );
            let envelope = support::err(&client, alias.tool, args.clone()).await;
            let message = envelope["error"]["message"].as_str().unwrap();
            assert_eq!(envelope["error"]["code"], "VALIDATION_ERROR", "{args}");
            assert!(
                message.contains(&format!("duplicate field `{}`", alias.property)),
                "{} {args}: {message}",
                alias.tool
            );
        }
    }
    // The older enum value, on the sandbox's demo customer and product.
    for value in VALUE_ALIASES {
        let event = json!({
            "customerRef": "cus_X7Y8Z9W0", "productRef": "prd_P9Q0R1S2", value.property: value.alias
        });
        let args = if value.tool == "record_bulk_usage" {
            json!({"events": [event]})
        } else {
            event
        };
        let tool = tools.iter().find(|t| t.name == value.tool).unwrap();
        let errors: Vec<String> =
            jsonschema::draft202012::new(&Value::Object(tool.input_schema.as_ref().clone()))
                .unwrap()
                .iter_errors(&args)
                .map(|e| e.to_string())
                .collect();
        assert!(errors.is_empty(), "{} {args}: {errors:?}", value.tool);
        ok(&client, value.tool, args).await;
    }
}
