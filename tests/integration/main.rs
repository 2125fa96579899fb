//! The in-process suites in one test binary: one link and one process for
//! the API, the client protocols, configuration loading, the decision rule
//! and the store contract. The suites that spawn processes (`live`,
//! `faults`, `replicas`, `clients`) stay separate binaries.

#[path = "../common/mod.rs"]
mod common;

mod api;
mod config;
mod console;
mod decision_rule;
mod download;
mod protocols;
mod store_analytics;
mod store_contract;
mod store_idempotency;
mod store_records;
