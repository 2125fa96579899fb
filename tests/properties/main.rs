//! Property tests: arbitrary input never panics the parsers or the
//! configuration loader, never leaks a secret into a configuration error, and
//! never gets a 5xx from the production router.
//!
//! Case counts are fixed here (see `support::config`) so the binary stays
//! fast in a debug build; failures are shrunk and printed, never persisted.

#[path = "../common/mod.rs"]
mod common;

mod access;
mod bodies;
mod config;
mod config_input;
mod console;
mod parsing;
mod rendering;
mod routes;
mod support;
