//! Real sockets and the real binary: HTTP over TCP, the -health-check probe,
//! restart persistence, kill -9 durability, SIGTERM draining, and the
//! import commands.

#[path = "../common/mod.rs"]
mod common;

mod analytics;
mod cli_keys;
mod cors;
mod durability;
mod http;
mod idle_connections;
mod import_feed;
mod import_go;
mod lifecycle;
mod pre_stop;
mod probe;
mod publish;
mod publish_s3;
mod sqlite_file;
mod webhooks;
