//! The decision rule as a table: the cases in `common::decision_cases`,
//! checked against the in-memory catalog.

use super::catalog;
use crate::common::decision_cases::CASES;
use crate::common::sut::{UpdateDecision, UpdateQuery, parse_version};

#[test]
fn decision_table() {
    let mut failures = Vec::new();
    for case in CASES {
        let catalog = catalog(case.releases, (case.config)());
        let current = parse_version(case.current).unwrap();
        let query = UpdateQuery {
            current_version: &current,
            platform: "linux",
            architecture: "amd64",
            channel: case.channel,
            allow_prerelease: case.allow_prerelease,
            install_id: None,
        };
        let decision = catalog
            .decide("app", &query)
            .expect("the application exists");
        let got = match &decision {
            UpdateDecision::NoUpdate => None,
            UpdateDecision::Update { release, required } => {
                Some((release.version().to_string(), *required))
            }
        };
        let expected = case.expected.map(|(v, r)| (v.to_string(), r));
        if got != expected {
            failures.push(format!("{}: expected {expected:?}, got {got:?}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "decision rule failures:\n{}",
        failures.join("\n")
    );
    assert!(CASES.len() >= 25);
}
