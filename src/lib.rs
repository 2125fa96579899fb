#![forbid(unsafe_code)]
//! `updater`: a hardened, self-hosted software-update server.

pub mod access;
pub mod analytics;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod pre_stop;
pub mod probe;
pub mod registry;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod verify;
pub mod webhooks;
