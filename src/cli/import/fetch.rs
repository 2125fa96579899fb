//! Reading a feed and, with `--hash-files`, the files it names: `https`
//! only (plain `http` for loopback hosts or with `--allow-http`), bounded in
//! time and size, never through a proxy.

use std::time::Duration;

use crate::cli::digest::{Digester, Digests};
use crate::cli::http::is_loopback;
use crate::verify::describe_error;
use reqwest::Url;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole feed request, body included.
const FEED_TIMEOUT: Duration = Duration::from_secs(60);
/// A file being hashed may take long; a stalled one may not.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_REDIRECTS: usize = 5;
pub const MAX_FEED_BYTES: u64 = 16 * 1024 * 1024;

pub struct Fetcher {
    client: reqwest::Client,
    allow_http: bool,
}

/// Whether `url` may be fetched: `https`, or `http` to loopback or when allowed.
pub fn check_scheme(url: &Url, allow_http: bool) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_http || is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "{url} is plain http; use https (or --allow-http for a trusted network)"
        )),
        other => Err(format!("{url}: `{other}` URLs cannot be fetched")),
    }
}

impl Fetcher {
    pub fn new(allow_http: bool) -> Result<Self, String> {
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            let downgrade = attempt.previous().iter().any(|u| u.scheme() == "https")
                && attempt.url().scheme() != "https";
            if downgrade {
                return attempt.error("redirected from https to plain http");
            }
            match check_scheme(attempt.url(), allow_http) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        });
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(policy)
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .user_agent(concat!("updater/", env!("CARGO_PKG_VERSION"), " (import)"))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self { client, allow_http })
    }

    async fn send(&self, url: &Url) -> Result<reqwest::Response, String> {
        check_scheme(url, self.allow_http)?;
        let response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| format!("cannot fetch {url}: {}", describe_error(&e)))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        Ok(response)
    }

    /// The feed's bytes, at most [`MAX_FEED_BYTES`], within [`FEED_TIMEOUT`].
    pub async fn feed(&self, url: &Url) -> Result<Vec<u8>, String> {
        let fetch = async {
            let mut response = self.send(url).await?;
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| format!("reading {url}: {}", describe_error(&e)))?
            {
                body.extend_from_slice(&chunk);
                if body.len() as u64 > MAX_FEED_BYTES {
                    return Err(format!(
                        "{url} is larger than {MAX_FEED_BYTES} bytes; that is not a feed"
                    ));
                }
            }
            Ok(body)
        };
        tokio::time::timeout(FEED_TIMEOUT, fetch)
            .await
            .map_err(|_| format!("{url} did not arrive within {}s", FEED_TIMEOUT.as_secs()))?
    }

    /// Downloads a file to learn its size and digests, stopping past `limit` bytes.
    pub async fn hash(&self, url: &Url, limit: u64) -> Result<Digests, String> {
        let mut response = self.send(url).await?;
        let mut digester = Digester::default();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading {url}: {}", describe_error(&e)))?
        {
            if digester.size() + chunk.len() as u64 > limit {
                return Err(format!("{url} is larger than --hash-limit ({limit} bytes)"));
            }
            digester.update(&chunk);
        }
        Ok(digester.finish())
    }
}
