//! The /api/v1 surface through the production router (no sockets).

mod applications;
mod audit;
mod auth;
mod docs_fields;
mod errors;
mod field_errors;
mod keys;
mod monitoring;
mod openapi;
mod publish;
mod publish_jobs;
mod releases;
mod rollouts;
mod scoped_matrix;
mod security;
mod stats;
mod universal;
mod updates;
mod webhooks;
