//! `updater keys` / `updater audit --server URL`: the server's admin API,
//! authenticated by an admin key read from a file or `UPDATER_ADMIN_KEY`
//! (never from argv, which `ps` shows to every user).

use std::path::Path;
use std::time::Duration;

use reqwest::header::{self, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::failure::Failure;
use super::http::{api_client, bearer, innermost_cause, is_loopback, with_trailing_slash};
use super::views::{AuditFilter, AuditPage, IssuedView, KeyList, KeyView};
use crate::access::manage::KeyDraft;

pub const ADMIN_KEY_ENV: &str = "UPDATER_ADMIN_KEY";
const TIMEOUT: Duration = Duration::from_secs(30);
/// Answers larger than this are not an admin API's.
const MAX_BODY: usize = 64 * 1024 * 1024;

pub struct Remote {
    client: reqwest::Client,
    base: Url,
    authorization: HeaderValue,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
    #[serde(default)]
    details: Option<serde_json::Value>,
}

impl Remote {
    pub fn new(server: &str, key_file: Option<&Path>) -> Result<Self, Failure> {
        let base = base_url(server)?;
        let key = admin_key(key_file)?;
        let authorization = bearer(&key, "admin key")?;
        let client = api_client(TIMEOUT, TIMEOUT)?;
        Ok(Self {
            client,
            base,
            authorization,
        })
    }

    pub async fn create(&self, draft: KeyDraft) -> Result<IssuedView, Failure> {
        let mut body = serde_json::json!({
            "name": draft.name,
            "permissions": draft.permissions,
        });
        if let Some(applications) = draft.applications {
            body["applications"] = serde_json::json!(applications);
        }
        if let Some(at) = draft.expires_at {
            body["expires_at"] = serde_json::json!(at);
        }
        self.call(Method::POST, "api/v1/keys", &[], Some(body))
            .await
    }

    pub async fn list(&self) -> Result<KeyList, Failure> {
        self.call(Method::GET, "api/v1/keys", &[], None).await
    }

    pub async fn rotate(&self, id: &str) -> Result<IssuedView, Failure> {
        let path = format!("api/v1/keys/{id}/rotate");
        self.call(Method::POST, &path, &[], None).await
    }

    pub async fn revoke(&self, id: &str) -> Result<KeyView, Failure> {
        let path = format!("api/v1/keys/{id}/revoke");
        self.call(Method::POST, &path, &[], None).await
    }

    pub async fn audit(&self, filter: &AuditFilter) -> Result<AuditPage, Failure> {
        let mut query: Vec<(&str, String)> = Vec::new();
        let texts = [
            ("application", &filter.application),
            ("actor", &filter.actor),
            ("action", &filter.action),
        ];
        for (name, value) in texts {
            if let Some(value) = value {
                query.push((name, value.clone()));
            }
        }
        for (name, value) in [("since", filter.since), ("until", filter.until)] {
            if let Some(at) = value {
                query.push((
                    name,
                    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                ));
            }
        }
        if let Some(cursor) = filter.cursor {
            query.push(("cursor", cursor.to_string()));
        }
        query.push(("limit", filter.limit.to_string()));
        self.call(Method::GET, "api/v1/audit", &query, None).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<T, Failure> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| Failure::new(format!("cannot form the request URL: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self
            .client
            .request(method, url)
            .header(header::AUTHORIZATION, self.authorization.clone())
            .header(header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.transport(&e))?;
        if bytes.len() > MAX_BODY {
            return Err(Failure::new(format!(
                "the server's answer is larger than {MAX_BODY} bytes"
            )));
        }
        if !status.is_success() {
            return Err(api_failure(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            Failure::new(format!(
                "the server answered {status} with a body this version cannot read: {e}"
            ))
        })
    }

    fn transport(&self, e: &reqwest::Error) -> Failure {
        let server = self.base.as_str().trim_end_matches('/');
        if e.is_timeout() {
            return Failure::new(format!(
                "{server} did not answer within {} s",
                TIMEOUT.as_secs()
            ));
        }
        let cause = innermost_cause(e);
        if e.is_connect() {
            Failure::new(format!("cannot connect to {server}: {cause}"))
        } else {
            Failure::new(format!("request to {server} failed: {cause}"))
        }
    }
}

/// The server's error envelope as `message` plus its `details`; a body that
/// is not one is described by its status.
fn api_failure(status: StatusCode, bytes: &[u8]) -> Failure {
    let parsed: Option<ErrorBody> = serde_json::from_slice(bytes).ok();
    let Some(ErrorBody {
        message: Some(message),
        details,
    }) = parsed
    else {
        return Failure::new(format!(
            "the server answered {status} without an error message"
        ));
    };
    let message = super::output::clean(&message);
    let mut lines = Vec::new();
    match details {
        Some(serde_json::Value::Object(map)) => {
            for (field, problem) in map {
                let problem = match problem {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                };
                let line = format!("{field}: {problem}");
                if !message.contains(&line) {
                    lines.push(super::output::clean(&line));
                }
            }
        }
        Some(serde_json::Value::Null) | None => {}
        Some(other) => lines.push(super::output::clean(&other.to_string())),
    }
    let message = if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        format!("{message} ({status}: check the admin key)")
    } else {
        message
    };
    Failure::new(message).details(lines)
}

fn base_url(server: &str) -> Result<Url, Failure> {
    let url = Url::parse(server.trim())
        .map_err(|e| Failure::new(format!("--server `{}`: {e}", server.escape_debug())))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Failure::new(format!(
            "--server must be an http:// or https:// URL, not `{}`",
            server.escape_debug()
        )));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(Failure::new(
            "--server takes the server's base URL, without user, query or fragment",
        ));
    }
    let url = with_trailing_slash(url);
    if url.scheme() == "http" && !is_loopback(&url) {
        eprintln!(
            "warning: {} is plain HTTP: the admin key and new tokens cross the network unencrypted",
            url.as_str().trim_end_matches('/')
        );
    }
    Ok(url)
}

/// The admin key: the file's content (one trailing newline removed), else
/// `UPDATER_ADMIN_KEY`.
fn admin_key(file: Option<&Path>) -> Result<String, Failure> {
    let key = match file {
        Some(path) => read_key_file(path)?,
        None => match std::env::var(ADMIN_KEY_ENV) {
            Ok(key) => key,
            Err(std::env::VarError::NotPresent) => {
                return Err(Failure::new(format!(
                    "--server needs an admin key: give --admin-key-file PATH or set {ADMIN_KEY_ENV}"
                )));
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Failure::new(format!("{ADMIN_KEY_ENV} is not valid UTF-8")));
            }
        },
    };
    if key.trim().is_empty() {
        return Err(Failure::new("the admin key is empty"));
    }
    Ok(key.trim().to_string())
}

fn read_key_file(path: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "warning: {} is readable by other users; `chmod 600` it",
                path.display()
            );
        }
    }
    Ok(text)
}
