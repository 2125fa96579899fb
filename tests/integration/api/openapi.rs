//! The OpenAPI document: the committed snapshot, and what the server serves.

use serde_json::Value;

use crate::common::TestApp;
use crate::common::sut::openapi;

#[tokio::test]
async fn openapi_document_matches_the_snapshot() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    let current = openapi().to_pretty_json().unwrap();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{current}\n")).unwrap();
    }
    let stored =
        std::fs::read_to_string(&path).expect("run with UPDATE_SNAPSHOTS=1 to create the snapshot");
    assert_eq!(
        stored.trim_end(),
        current,
        "the OpenAPI document changed; review and rerun with UPDATE_SNAPSHOTS=1"
    );

    let app = TestApp::new().await;
    let served = app.anonymous().openapi().await;
    assert_eq!(
        *served.json(),
        serde_json::from_str::<Value>(&current).unwrap()
    );
    let paths = served.json()["paths"].as_object().unwrap();
    for route in [
        "/api/v1/updates/{app_id}/check",
        "/api/v1/check",
        "/api/v1/updates/{app_id}/latest",
        "/api/v1/latest",
        "/api/v1/updates/{app_id}/releases",
        "/api/v1/updates/{app_id}/register",
        "/api/v1/updates/{app_id}/releases/{version}/{platform}/{arch}",
        "/api/v1/applications",
        "/api/v1/applications/{app_id}",
        "/api/v1/applications/{app_id}/releases",
        "/api/v1/jobs/{job_id}",
        "/health",
        "/api/v1/health",
        "/health/ready",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(route),
            "{route} missing from the OpenAPI document"
        );
    }
}

/// Every `$ref` names a schema the document defines: a parameter's enum once
/// pointed at `#/components/schemas/SortBy`, which was never added, and
/// schemathesis skipped those parameters.
#[test]
fn every_schema_reference_resolves() {
    fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let document: Value = serde_json::from_str(&openapi().to_json().unwrap()).unwrap();
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{target} is not a local reference"));
        assert!(
            document.pointer(pointer).is_some(),
            "{target} does not resolve"
        );
    }
}
