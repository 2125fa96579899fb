//! What every CLI request to an updater server shares: the client (rustls,
//! no redirects, bounded), the `Authorization` header and how a transport
//! error and a loopback host are told.

use std::time::Duration;

use reqwest::header::HeaderValue;
use url::Url;

use super::failure::Failure;
use crate::domain::validate::is_loopback_host;

/// A client for the server's API: connect and whole-request bounds, no
/// redirects (a redirect would carry the key elsewhere).
pub fn api_client(
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<reqwest::Client, Failure> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("updater-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Failure::new(format!("cannot build the HTTP client: {e}")))
}

/// `Bearer <key>`, marked sensitive so it is never printed; `what` names
/// the key in the error ("admin key", "API key").
pub fn bearer(key: &str, what: &str) -> Result<HeaderValue, Failure> {
    let mut value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
        Failure::new(format!(
            "the {what} contains characters a header cannot carry"
        ))
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// The server's base URL with the trailing `/` that [`Url::join`] needs.
pub fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// reqwest and hyper wrap the cause (refused, DNS, TLS) in layers that only
/// repeat the URL: the innermost is the one worth naming.
pub fn innermost_cause(e: &reqwest::Error) -> &dyn std::error::Error {
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause
}

pub fn is_loopback(url: &Url) -> bool {
    url.host_str().is_some_and(is_loopback_host)
}
