//! docs/api.md names every field the API answers with: each property of
//! every response schema in the OpenAPI document (through `$ref`s, nested
//! objects, arrays and maps) must appear in the page's code, an inline
//! `` `field` `` or a JSON example.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::common::sut::openapi;

#[test]
fn every_response_field_is_in_the_api_docs() {
    let document = serde_json::to_value(openapi()).unwrap();
    let mut walk = Walk {
        schemas: &document["components"]["schemas"],
        seen: BTreeSet::new(),
        fields: BTreeMap::new(),
    };
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                let Some(content) = response["content"].as_object() else {
                    continue;
                };
                for media in content.values() {
                    let at = format!("{} {path} {status}", method.to_uppercase());
                    walk.schema(&media["schema"], &at);
                }
            }
        }
    }
    assert!(
        walk.fields.contains_key("rollout_percentage"),
        "the walk reaches release fields: {:?}",
        walk.fields.keys()
    );

    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md"),
    )
    .unwrap();
    let documented = code_identifiers(&docs);
    let missing: Vec<String> = walk
        .fields
        .iter()
        .filter(|(field, _)| !documented.contains(field.as_str()))
        .map(|(field, at)| format!("`{field}` ({at})"))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/api.md does not name these response fields:\n{}",
        missing.join("\n")
    );
}

/// Collects property names, each with the first place it was found.
struct Walk<'a> {
    schemas: &'a Value,
    seen: BTreeSet<String>,
    fields: BTreeMap<String, String>,
}

impl Walk<'_> {
    fn schema(&mut self, schema: &Value, at: &str) {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{at}: unexpected $ref {reference}"));
            if self.seen.insert(name.to_string()) {
                let resolved = &self.schemas[name];
                assert!(
                    !resolved.is_null(),
                    "{at}: $ref {reference} does not resolve"
                );
                self.schema(resolved, &format!("{at} → {name}"));
            }
            return;
        }
        if let Some(properties) = schema["properties"].as_object() {
            for (field, property) in properties {
                self.fields
                    .entry(field.clone())
                    .or_insert_with(|| at.to_string());
                self.schema(property, &format!("{at}.{field}"));
            }
        }
        for nested in ["items", "additionalProperties", "not"] {
            if schema[nested].is_object() {
                self.schema(&schema[nested], at);
            }
        }
        for list in ["allOf", "oneOf", "anyOf"] {
            for member in schema[list].as_array().into_iter().flatten() {
                self.schema(member, at);
            }
        }
    }
}

/// The identifiers in a Markdown page's code: inline code spans and fenced
/// blocks, where field names are written.
fn code_identifiers(markdown: &str) -> BTreeSet<&str> {
    let mut code = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if fenced {
            code.push(line);
        } else {
            code.extend(line.split('`').skip(1).step_by(2));
        }
    }
    code.iter()
        .flat_map(|text| text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|word| !word.is_empty())
        .collect()
}
