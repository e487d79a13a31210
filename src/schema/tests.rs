use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use super::*;

fn object(value: Value) -> Map<String, Value> {
    into_map(value)
}

#[test]
fn only_standard_formats_stay_and_noise_goes_but_never_a_property_of_that_name() {
    let schema = object(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Args",
        "type": "object",
        "properties": {
            "amount": {"type": "integer", "format": "int64", "default": 0},
            "when": {"type": "string", "format": "date-time"},
            "title": {"type": "string", "title": "Title"},
            "default": {"type": "boolean", "readOnly": true}
        },
        "required": ["amount", "when", "title", "default"]
    }));
    assert_eq!(
        Value::Object(lean_input("none", schema)),
        json!({
            "type": "object",
            "properties": {
                "amount": {"type": "integer"},
                "when": {"type": "string", "format": "date-time"},
                "title": {"type": "string"},
                "default": {"type": "boolean"}
            },
            "required": ["amount", "when", "title", "default"]
        })
    );
}

#[test]
fn optional_properties_become_plain_types_and_required_ones_keep_their_null() {
    let schema = object(json!({
        "type": "object",
        "properties": {
            "reason": {"type": ["string", "null"], "description": "Why."},
            "kind": {"anyOf": [{"$ref": "#/$defs/Kind"}, {"type": "null"}], "description": "Kind."},
            "mode": {"type": ["string", "null"], "enum": ["a", "b", null]},
            "refund": {"type": ["string", "null"]}
        },
        "required": ["refund"],
        "$defs": {"Kind": {"type": "string", "enum": ["x", "y"]}}
    }));
    assert_eq!(
        Value::Object(lean_input("none", schema)),
        json!({
            "type": "object",
            "properties": {
                "reason": {"type": "string", "description": "Why."},
                "kind": {"type": "string", "enum": ["x", "y"], "description": "Kind."},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "refund": {"type": ["string", "null"]}
            },
            "required": ["refund"]
        })
    );
}

#[test]
fn an_aliased_required_argument_is_required_under_any_of_its_names() {
    let schema = object(json!({
        "type": "object",
        "properties": {"purchaseRef": {"type": "string", "description": "pur_…"}},
        "required": ["purchaseRef"],
        "additionalProperties": false
    }));
    assert_eq!(
        Value::Object(lean_input("cancel_renewal", schema)),
        json!({
            "type": "object",
            "properties": {
                "purchaseRef": {"type": "string", "description": "pur_…"},
                "purchaseId": {"deprecated": true},
                "reference": {"deprecated": true}
            },
            "anyOf": [
                {"required": ["purchaseRef"]},
                {"required": ["purchaseId"]},
                {"required": ["reference"]}
            ],
            "additionalProperties": false
        })
    );
}

#[test]
fn two_aliased_required_arguments_each_need_one_of_their_names() {
    let schema = object(json!({
        "type": "object",
        "properties": {
            "customerRef": {"type": "string"},
            "productRef": {"type": "string"},
            "planRef": {"type": "string"}
        },
        "required": ["customerRef", "productRef", "planRef"]
    }));
    let lean = Value::Object(lean_input("check_limits", schema));
    assert_eq!(lean["required"], json!(["planRef"]));
    assert_eq!(
        lean["allOf"],
        json!([
            {"anyOf": [{"required": ["customerRef"]}, {"required": ["customerId"]}]},
            {"anyOf": [{"required": ["productRef"]}, {"required": ["productReference"]}]}
        ])
    );
    assert_eq!(
        lean["properties"]["customerId"],
        json!({"deprecated": true})
    );
}

#[test]
fn an_older_enum_value_is_listed_with_the_current_ones() {
    let schema = object(json!({
        "type": "object",
        "properties": {"outcome": {"$ref": "#/$defs/Outcome"}},
        "$defs": {"Outcome": {"type": "string", "enum": ["success", "paywall", "fail"]}}
    }));
    let lean = Value::Object(lean_input("record_usage", schema));
    assert_eq!(
        lean["properties"]["outcome"]["enum"],
        json!(["success", "paywall", "fail", "failure"])
    );
}

#[test]
fn outputs_keep_the_structure_of_each_record_and_money_everywhere() {
    let money = json!({
        "description": "Minor units.",
        "type": "object",
        "properties": {
            "amount": {"type": "integer", "format": "int64", "description": "Cents."},
            "currency": {"type": "string"}
        },
        "required": ["amount", "currency"]
    });
    // A list of records; each record has money, and a part (usage) with money of its own.
    let schema = object(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/Record"}},
            "note": {"type": ["string", "null"], "description": "Skipped when absent."},
            "count": {"type": "integer", "format": "uint64", "minimum": 0}
        },
        "required": ["items", "count"],
        "$defs": {
            "Money": money,
            "Record": {
                "description": "A record.",
                "type": "object",
                "properties": {
                    "reference": {"type": "string"},
                    "paid": {"$ref": "#/$defs/Money", "description": "Paid."},
                    "owed": {"$ref": "#/$defs/Money"},
                    "usage": {"$ref": "#/$defs/Usage"}
                },
                "required": ["reference", "paid"]
            },
            "Usage": {"type": "object", "properties": {"cost": {"$ref": "#/$defs/Money"}}}
        }
    }));
    assert_eq!(
        Value::Object(lean_output(schema)),
        json!({
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "reference": {"type": "string"},
                        "paid": {"$ref": "#/$defs/Money"},
                        "owed": {"$ref": "#/$defs/Money"},
                        "usage": {"type": "object"}
                    },
                    "required": ["reference", "paid"]
                }},
                "note": {"type": "string"},
                "count": {"type": "integer"}
            },
            "required": ["items", "count"],
            "$defs": {
                "Money": {
                    "type": "object",
                    "properties": {"amount": {"type": "integer"}, "currency": {"type": "string"}},
                    "required": ["amount", "currency"]
                }
            }
        })
    );
}

/// `(field, alias)` of every `#[serde(alias = …)]` in `dir` (recursively): the field (or variant)
/// is the next line that is neither an attribute nor a comment.
fn serde_aliases(dir: &Path, found: &mut BTreeSet<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            serde_aliases(&path, found);
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = source.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.starts_with("#[serde(") || !line.contains("alias = \"") {
                continue;
            }
            let field = lines[i + 1..]
                .iter()
                .find(|l| !l.starts_with("#[") && !l.starts_with("//"))
                .unwrap();
            let field = field
                .trim_start_matches("pub(super) ")
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ")
                .split([':', ',', ' '])
                .next()
                .unwrap();
            for alias in line.split("alias = \"").skip(1) {
                let alias = alias.split('"').next().unwrap();
                found.insert((field.to_owned(), alias.to_owned()));
            }
        }
    }
}

fn camel_case(snake: &str) -> String {
    let mut parts = snake.split('_');
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

#[test]
fn the_alias_tables_say_what_the_serde_attributes_say() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut in_code = BTreeSet::new();
    serde_aliases(&root.join("tools"), &mut in_code);
    let in_code: BTreeSet<(String, String)> = in_code
        .into_iter()
        .map(|(field, alias)| (camel_case(&field), alias))
        .collect();
    let listed: BTreeSet<(String, String)> = ALIASES
        .iter()
        .flat_map(|a| {
            a.names
                .iter()
                .map(|n| (a.property.to_owned(), (*n).to_owned()))
        })
        .collect();
    assert_eq!(listed, in_code, "ALIASES and the argument structs disagree");

    let mut values = BTreeSet::new();
    serde_aliases(&root.join("model"), &mut values);
    let values: BTreeSet<(String, String)> = values
        .into_iter()
        .map(|(variant, alias)| (variant.to_lowercase(), alias))
        .collect();
    let listed: BTreeSet<(String, String)> = VALUE_ALIASES
        .iter()
        .map(|a| (a.value.to_owned(), a.alias.to_owned()))
        .collect();
    assert_eq!(listed, values, "VALUE_ALIASES and the model enums disagree");
}
