//! A webhook receiver on loopback (`Receiver`): records every request it is
//! sent (path, headers, body), answers as told (succeed, fail the first N
//! with 500, always fail, or read the request and never answer), and checks
//! the Standard Webhooks signature itself (`verify_signature`: its own
//! HMAC-SHA-256, not the server's `sign`).
//!
//! Beside it, what the webhook tests do to a server on a socket: `api_call`
//! (the admin API), `create_webhook`, `create_application`,
//! `publish_release`, the delivery log (`deliveries`, `wait_deliveries`),
//! `quiet_period`, `assert_fields`, and `private_host_name` for SSRF checks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde_json::Value;
use sha2::Sha256;

use super::child::http;
use super::fixtures::{ADMIN_KEY, WRITE_KEY, app_body, release_body};

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200 to everything.
    Succeed,
    /// 500 to the first `n` requests, 200 after.
    FailFirst(usize),
    /// 500 to everything.
    FailAlways,
    /// Reads the request, records it, and never answers.
    Hang,
}

/// One request as the receiver read it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
    /// What the receiver answered; `None` when it hung.
    pub answered: Option<u16>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no `{name}` header in {:?}", self.headers))
    }

    /// The `webhook-id` header.
    pub fn message_id(&self) -> &str {
        self.header("webhook-id")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

#[derive(Default)]
struct Log {
    answer: Option<Answer>,
    failures_left: usize,
    received: Vec<Received>,
}

type Shared = Arc<Mutex<Log>>;

/// A webhook receiver on `127.0.0.1`; stops when dropped.
pub struct Receiver {
    pub port: u16,
    /// `http://127.0.0.1:<port>`: append a path to tell webhooks apart.
    pub base: String,
    log: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// On a fresh ephemeral port.
    pub async fn start(answer: Answer) -> Self {
        Self::listen(
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            answer,
        )
    }

    /// On `port`, chosen before (a target that was down and comes up).
    pub async fn start_on(port: u16, answer: Answer) -> Self {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("port {port} not free yet ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot listen on {port}: {e}"),
            }
        };
        Self::listen(listener, answer)
    }

    fn listen(listener: tokio::net::TcpListener, answer: Answer) -> Self {
        let port = listener.local_addr().unwrap().port();
        let log: Shared = Default::default();
        let failures_left = match answer {
            Answer::FailFirst(n) => n,
            _ => 0,
        };
        *log.lock() = Log {
            answer: Some(answer),
            failures_left,
            received: Vec::new(),
        };
        let app = Router::new().fallback(receive).with_state(log.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            port,
            base: format!("http://127.0.0.1:{port}"),
            log,
            task,
        }
    }

    /// `base` + `path`: a webhook target.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().received.clone()
    }

    /// The requests to `path`.
    pub fn received_on(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Waits until `count` requests to `path` have arrived; fails after `timeout`.
    pub async fn wait_for(&self, path: &str, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.received_on(path);
            if seen.len() >= count {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "{path} received {} of {count} requests within {timeout:?}: {seen:#?}",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(log): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let answer = {
        let mut log = log.lock();
        let answer = match log.answer.unwrap_or(Answer::Succeed) {
            Answer::Succeed => Some(200),
            Answer::FailAlways => Some(500),
            Answer::Hang => None,
            Answer::FailFirst(_) if log.failures_left > 0 => {
                log.failures_left -= 1;
                Some(500)
            }
            Answer::FailFirst(_) => Some(200),
        };
        log.received.push(Received {
            path: uri.path().to_string(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            answered: answer,
            at: Instant::now(),
        });
        answer
    };
    match answer {
        Some(code) => StatusCode::from_u16(code).unwrap(),
        None => std::future::pending().await,
    }
}

/// How far `webhook-timestamp` may be from the receiver's clock, as the
/// Standard Webhooks reference libraries allow.
const TIMESTAMP_TOLERANCE_SECS: i64 = 300;

/// Checks a request as a Standard Webhooks receiver would: `webhook-id`,
/// a recent `webhook-timestamp`, and one `v1,<base64>` in
/// `webhook-signature` equal to HMAC-SHA-256 of `{id}.{timestamp}.{body}`
/// keyed with the base64-decoded part of `whsec_<base64>`.
pub fn verify_signature(secret: &str, request: &Received) -> Result<(), String> {
    let id = request.headers.get("webhook-id").ok_or("no webhook-id")?;
    let id = id.to_str().map_err(|e| e.to_string())?;
    let timestamp = request
        .headers
        .get("webhook-timestamp")
        .ok_or("no webhook-timestamp")?
        .to_str()
        .map_err(|e| e.to_string())?;
    let seconds: i64 = timestamp
        .parse()
        .map_err(|e| format!("webhook-timestamp `{timestamp}`: {e}"))?;
    let skew = (chrono::Utc::now().timestamp() - seconds).abs();
    if skew > TIMESTAMP_TOLERANCE_SECS {
        return Err(format!("webhook-timestamp is {skew} s away from now"));
    }
    let encoded = secret.strip_prefix("whsec_").ok_or("secret lacks whsec_")?;
    let key = STANDARD.decode(encoded).map_err(|e| e.to_string())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(request.body.as_bytes());
    let expected = mac.finalize().into_bytes().to_vec();
    let signatures = request
        .headers
        .get("webhook-signature")
        .ok_or("no webhook-signature")?
        .to_str()
        .map_err(|e| e.to_string())?;
    // Space-separated `version,signature` pairs; one valid v1 is enough.
    let matched = signatures.split(' ').any(|entry| {
        entry
            .strip_prefix("v1,")
            .and_then(|b64| STANDARD.decode(b64).ok())
            .is_some_and(|sig| sig == expected)
    });
    if matched {
        Ok(())
    } else {
        Err(format!("no v1 signature matches in `{signatures}`"))
    }
}

/// `method path` on a server on a socket with the admin key, `body` as
/// JSON when given: the status and the JSON answer (`Null` if none). A
/// request that gets no answer is status 0.
pub async fn api_call(base: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    api_call_as(base, ADMIN_KEY, method, path, body).await
}

/// `api_call` with another bearer token.
pub async fn api_call_as(
    base: &str,
    key: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = http()
        .request(method, format!("{base}{path}"))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(body);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// A webhook's delivery log on `base`, newest first.
pub async fn deliveries(base: &str, hook_id: &str) -> Vec<Value> {
    let (status, body) = api_call(
        base,
        "GET",
        &format!("/api/v1/webhooks/{hook_id}/deliveries"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["deliveries"].as_array().cloned().unwrap_or_default()
}

/// Polls the delivery log until `done` holds for it; fails after `timeout`.
pub async fn wait_deliveries(
    base: &str,
    hook_id: &str,
    timeout: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let log = deliveries(base, hook_id).await;
        if done(&log) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "delivery log of {hook_id} after {timeout:?}: {log:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Registers a webhook on `base` with the admin key; its id and secret.
pub async fn create_webhook(base: &str, body: Value) -> (String, String) {
    let (status, created) = api_call(base, "POST", "/api/v1/webhooks", Some(&body)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["webhook"]["id"].as_str().unwrap().to_string();
    (id, created["secret"].as_str().unwrap().to_string())
}

/// Creates application `id` (`app_body`) on `base`.
pub async fn create_application(base: &str, id: &str) {
    let body = app_body(id);
    let (status, answer) = api_call(base, "POST", "/api/v1/applications", Some(&body)).await;
    assert_eq!(status, 201, "{answer}");
}

/// Publishes `version` of `app` (`release_body`) on `base` with the write key.
pub async fn publish_release(base: &str, app: &str, version: &str) {
    let path = format!("/api/v1/updates/{app}/register");
    let body = release_body(version);
    let (status, answer) = api_call_as(base, WRITE_KEY, "POST", &path, Some(&body)).await;
    assert_eq!(status, 201, "{answer}");
}

/// After the deliveries a test waited for: long enough for a worker (which
/// polls every second) to have sent anything more it was going to.
pub async fn quiet_period() {
    tokio::time::sleep(Duration::from_millis(2500)).await;
}

/// Each field of `expected` has its value in `actual`.
#[track_caller]
pub fn assert_fields(actual: &Value, expected: &Value) {
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&actual[field], value, "{field} in {actual}");
    }
}

/// This machine's name when it resolves only to loopback or private
/// addresses, as it does (from /etc/hosts) on virtually every host: a name
/// that no URL check can see through.
pub fn private_host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim().to_string();
    let addrs: Vec<_> = std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), 80))
        .ok()?
        .collect();
    let private =
        |ip| matches!(ip, std::net::IpAddr::V4(v4) if v4.is_private() || v4.is_loopback());
    (!addrs.is_empty() && addrs.iter().all(|a| private(a.ip()))).then_some(name)
}
