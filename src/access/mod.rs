//! Who is asking and how much they may ask: the API key tables (configured
//! and managed) and the principals they yield, the client address behind
//! trusted proxies, request rate limits and the lock-out after failed
//! authentications.
//!
//! No web-framework types here: `http::auth` and `http::limits` are the
//! extractors and middleware that call into this layer.

mod client_ip;
mod keys;
mod limits;
pub mod manage;
mod pepper;
mod sessions;

pub use client_ip::ClientIpResolver;
pub use keys::{ApiKeys, AuthFailure, KeyHandle, Principal, Refusal};
pub use limits::{AuthLockout, RequestLimiter};
pub use pepper::{Pepper, random};
pub use sessions::{SessionStore, SignedIn};
