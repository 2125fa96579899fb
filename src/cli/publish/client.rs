//! The publish request and, after a 202, polling its job. Every request is
//! bounded (connect 10 s; the whole publish by --timeout), a 503 with
//! `Retry-After` is sent again within that bound; the key travels only in a
//! sensitive `Authorization` header and is never printed.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{self, HeaderValue};
use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::prepare::Prepared;
use super::{Exit, TOKEN_ENV};
use crate::cli::failure::Failure;
use crate::cli::http::{api_client, bearer, innermost_cause, with_trailing_slash};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BODY: usize = 16 * 1024 * 1024;
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// The server's answer to a publish (201, 200, or a finished job's result).
#[derive(Deserialize)]
pub struct Answer {
    pub status: String,
    pub channel: String,
    #[serde(default)]
    pub verified: bool,
    pub releases: Vec<TargetAnswer>,
}

#[derive(Deserialize)]
pub struct TargetAnswer {
    pub platform: String,
    pub architecture: String,
    pub status: String,
}

#[derive(Deserialize)]
struct Job {
    status: String,
    result: Option<Value>,
    error: Option<Value>,
}

/// The key: --token-file's content, else UPDATER_TOKEN.
pub fn token(file: Option<&Path>) -> Result<HeaderValue, Failure> {
    let key = match file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?,
        None => std::env::var(TOKEN_ENV).map_err(|_| {
            Failure::new(format!(
                "publishing needs an API key with publish permission: set {TOKEN_ENV} or give --token-file PATH"
            ))
        })?,
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(Failure::new("the API key is empty"));
    }
    bearer(key, "API key")
}

pub struct Server {
    client: reqwest::Client,
    base: Url,
    authorization: HeaderValue,
    timeout: Duration,
}

impl Server {
    pub fn new(
        server: &str,
        authorization: HeaderValue,
        timeout: Duration,
    ) -> Result<Self, Failure> {
        let base = Url::parse(server.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .filter(|u| u.query().is_none() && u.username().is_empty())
            .ok_or_else(|| {
                Failure::new(format!(
                    "--server must be the server's http(s):// base URL, not `{}`",
                    server.escape_debug()
                ))
            })?;
        let base = with_trailing_slash(base);
        let client = api_client(CONNECT_TIMEOUT, timeout)?;
        Ok(Self {
            client,
            base,
            authorization,
            timeout,
        })
    }

    fn shown(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    pub async fn publish(
        &self,
        app: &str,
        prepared: &Prepared,
        deadline: Instant,
    ) -> Result<Answer, Exit> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| Exit::usage(Failure::new("--server cannot be a base URL")))?
            .pop_if_empty()
            .extend(["api", "v1", "applications", app, "releases"]);
        let request = self
            .client
            .post(url)
            .header(header::AUTHORIZATION, self.authorization.clone())
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/json")
            .body(prepared.body.to_string());
        let (status, location, body) = self.send(request, deadline).await?;
        match status {
            StatusCode::OK | StatusCode::CREATED => parse_answer(&body),
            StatusCode::ACCEPTED => {
                let job_url = location
                    .or_else(|| body["job"]["url"].as_str().map(str::to_string))
                    .ok_or_else(|| {
                        Exit::unreachable(Failure::new(
                            "the server answered 202 without a job to poll",
                        ))
                    })?;
                self.poll(&job_url, prepared, deadline).await
            }
            _ => Err(refusal(status, &body, prepared)),
        }
    }

    async fn poll(
        &self,
        job_url: &str,
        prepared: &Prepared,
        deadline: Instant,
    ) -> Result<Answer, Exit> {
        let url = self
            .base
            .join(job_url.trim_start_matches('/'))
            .map_err(|e| {
                Exit::unreachable(Failure::new(format!("the job URL `{job_url}`: {e}")))
            })?;
        let mut pause = Duration::from_millis(250);
        loop {
            let request = self
                .client
                .get(url.clone())
                .header(header::AUTHORIZATION, self.authorization.clone())
                .header(header::ACCEPT, "application/json");
            let (status, _, body) = self.send(request, deadline).await?;
            if !status.is_success() {
                return Err(refusal(status, &body, prepared));
            }
            let job: Job = serde_json::from_value(body.clone()).map_err(|e| {
                Exit::unreachable(Failure::new(format!(
                    "the job's answer cannot be read: {e}"
                )))
            })?;
            match job.status.as_str() {
                "succeeded" => return parse_answer(&job.result.unwrap_or_default()),
                "failed" => {
                    let error = job.error.unwrap_or_default();
                    return Err(refusal(StatusCode::UNPROCESSABLE_ENTITY, &error, prepared));
                }
                _ => {}
            }
            if Instant::now() + pause >= deadline {
                return Err(self.too_slow());
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }

    fn too_slow(&self) -> Exit {
        Exit::unreachable(Failure::new(format!(
            "{} did not finish the publish within --timeout {}",
            self.shown(),
            humantime::format_duration(self.timeout)
        )))
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        deadline: Instant,
    ) -> Result<(StatusCode, Option<String>, Value), Exit> {
        let mut request = request;
        let response = loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(self.too_slow());
            }
            let again = request.try_clone();
            let response = request
                .timeout(remaining)
                .send()
                .await
                .map_err(|e| self.transport(&e))?;
            // The store was briefly unreachable. A publish is applied once
            // however often it is sent, so it is sent again until --timeout.
            match (unavailable_for(&response), again) {
                (Some(wait), Some(again)) if Instant::now() + wait < deadline => {
                    eprintln!(
                        "{} is briefly unavailable (503); retrying in {}s",
                        self.shown(),
                        wait.as_secs()
                    );
                    tokio::time::sleep(wait).await;
                    request = again;
                }
                _ => break response,
            }
        };
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response.bytes().await.map_err(|e| self.transport(&e))?;
        if bytes.len() > MAX_BODY {
            return Err(Exit::unreachable(Failure::new(format!(
                "the server's answer is larger than {MAX_BODY} bytes"
            ))));
        }
        if status.is_server_error() {
            let message = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["message"].as_str().map(crate::cli::output::clean))
                .unwrap_or_else(|| "no error message".into());
            return Err(Exit::unreachable(Failure::new(format!(
                "{} answered {status}: {message}",
                self.shown()
            ))));
        }
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                Exit::unreachable(Failure::new(format!(
                    "{} answered {status} with a body that is not JSON: {e}",
                    self.shown()
                )))
            })?
        };
        Ok((status, location, body))
    }

    fn transport(&self, e: &reqwest::Error) -> Exit {
        if e.is_timeout() {
            return self.too_slow();
        }
        let cause = innermost_cause(e);
        let what = if e.is_connect() {
            "cannot connect to"
        } else {
            "request to"
        };
        Exit::unreachable(Failure::new(format!(
            "{what} {} failed: {cause}",
            self.shown()
        )))
    }
}

/// How long a 503 with `Retry-After` (in seconds) asks the client to wait,
/// at most `MAX_RETRY_WAIT`.
fn unavailable_for(response: &reqwest::Response) -> Option<Duration> {
    if response.status() != StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    let seconds: u64 = response
        .headers()
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds.max(1)).min(MAX_RETRY_WAIT))
}

fn parse_answer(body: &Value) -> Result<Answer, Exit> {
    serde_json::from_value(body.clone()).map_err(|e| {
        Exit::unreachable(Failure::new(format!(
            "the server's answer cannot be read: {e}"
        )))
    })
}

/// The local file a field such as `targets[1].files[0].sha256` is about.
fn local_file<'a>(prepared: &'a Prepared, target: usize, rest: &str) -> Option<&'a Path> {
    let file: usize = rest
        .strip_prefix("files[")?
        .split(']')
        .next()?
        .parse()
        .ok()?;
    Some(
        prepared
            .targets
            .get(target)?
            .files
            .get(file)?
            .path
            .as_path(),
    )
}

fn field_line(field: &str, problem: &str, prepared: &Prepared) -> String {
    let located = field
        .strip_prefix("targets[")
        .and_then(|rest| rest.split_once("]."))
        .and_then(|(index, rest)| local_file(prepared, index.parse().ok()?, rest));
    let problem = crate::cli::output::clean(problem);
    match located {
        Some(path) => format!("{}: {field} {problem}", path.display()),
        None => format!("{field}: {problem}"),
    }
}

/// A 4xx (or a failed job) as the message and one line per field, each
/// naming the local file it is about.
fn refusal(status: StatusCode, body: &Value, prepared: &Prepared) -> Exit {
    let message = body["message"]
        .as_str()
        .map(crate::cli::output::clean)
        .unwrap_or_else(|| format!("the server answered {status}"));
    let mut lines = Vec::new();
    if let Some(details) = body["details"].as_object() {
        for (field, problem) in details {
            if field == "differences" {
                for difference in problem.as_array().into_iter().flatten() {
                    lines.push(difference_line(difference, prepared));
                }
                continue;
            }
            let problem = problem
                .as_str()
                .map_or_else(|| problem.to_string(), str::to_string);
            lines.push(field_line(field, &problem, prepared));
        }
    }
    let message = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            format!(
                "{message} ({status}: check the key's publish permission and application scope)"
            )
        }
        _ => message,
    };
    Exit::refused(Failure::new(message).details(lines))
}

fn difference_line(difference: &Value, prepared: &Prepared) -> String {
    let text = |key: &str| match &difference[key] {
        Value::String(s) => crate::cli::output::clean(s),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    };
    let target = text("target");
    let field = text("field");
    let index = prepared
        .targets
        .iter()
        .position(|t| format!("{}/{}", t.platform, t.architecture) == target);
    let path = index.and_then(|i| local_file(prepared, i, &field));
    let about = path.map_or_else(String::new, |p| format!(" ({})", p.display()));
    format!(
        "{target} {field}{about}: published {}, this run {}",
        text("published"),
        text("requested")
    )
}
