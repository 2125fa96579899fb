//! The /api/v1 surface through the production router (no sockets).

mod applications;
mod auth;
mod errors;
mod monitoring;
mod openapi;
mod releases;
mod rollouts;
mod security;
mod updates;
