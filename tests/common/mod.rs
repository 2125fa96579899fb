//! Test support shared by every test binary: the in-process suites in
//! `tests/integration/` and the process-spawning suites (`live`, `faults`,
//! `replicas`, `clients`), each of which includes it with `mod common;`.
//!
//! - `sut`: every path into the `updater` crate the tests name.
//! - `decision_cases`: the update decision's cases as a table.
//! - `fixtures`: the test API keys and minimal request bodies.
//! - `router`: the production server in this process, with or without sockets.
//! - `client`: `TestApp`, the typed client over the in-process router.
//! - `child`: the real binary as a child process, free ports, an HTTP client.
//! - `artifacts`: an artifact server on loopback, digests, minisign keys.
//! - `postgres`: throwaway PostgreSQL clusters.
//! - `receiver`: a webhook receiver on loopback that checks signatures itself.
#![allow(
    dead_code,
    reason = "each test binary compiles all of this module and uses a different part"
)]

pub mod artifacts;
pub mod child;
pub mod client;
pub mod decision_cases;
pub mod fixtures;
pub mod postgres;
pub mod receiver;
pub mod router;
pub mod sut;

// Flat, so a suite can `use common::*`; each binary uses some of these.
#[allow(unused_imports)]
pub use {artifacts::*, child::*, client::*, fixtures::*, postgres::*, receiver::*, router::*};
