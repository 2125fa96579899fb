//! The typed test client over the in-process router.
//!
//! A test starts with `TestApp::new()` (or `TestApp::with_settings`) and
//! speaks through a role: `anonymous()`, `reader()`, `publisher()`,
//! `admin()`, `monitor()`, or `with_key(..)` for a key the server may not
//! know. Each role is a `Client` with the API's operations by name
//! (`create_app`, `register`, `publish`, `job`, `list_releases`, `check`, ...) and
//! plain verbs (`get`, `post`, ...) for the other routes; every call
//! answers a `Reply`. Tests that deliberately send malformed requests build
//! them with `Client::request` and pass them to `TestApp::send`.
//!
//! Managed keys and the audit log: `TestApp::issue_key` (or `key_for`)
//! creates a key with the admin config key and answers its id and token;
//! `audit_entries` reads the log and `await_audit` waits for entries written
//! off the request path (`auth.failed`, `auth.denied`).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::request::Builder;
use axum::http::{HeaderMap, Request};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::fixtures::{ADMIN_KEY, MONITOR_KEY, READ_KEY, WRITE_KEY, app_body, release_body};
use super::router::{router_with, test_settings};
use super::sut::Settings;

/// The production router over a fresh memory store.
#[derive(Clone)]
pub struct TestApp {
    router: Router,
}

impl TestApp {
    /// The router with `test_settings()`.
    pub async fn new() -> Self {
        Self::with_settings(test_settings()).await
    }

    pub async fn with_settings(settings: Settings) -> Self {
        Self {
            router: router_with(settings).await,
        }
    }

    /// No credentials.
    pub fn anonymous(&self) -> Client<'_> {
        Client {
            app: self,
            key: None,
        }
    }

    /// The read key.
    pub fn reader(&self) -> Client<'_> {
        self.with_key(READ_KEY)
    }

    /// The write key.
    pub fn publisher(&self) -> Client<'_> {
        self.with_key(WRITE_KEY)
    }

    /// The admin key.
    pub fn admin(&self) -> Client<'_> {
        self.with_key(ADMIN_KEY)
    }

    /// The monitor key.
    pub fn monitor(&self) -> Client<'_> {
        self.with_key(MONITOR_KEY)
    }

    /// `Authorization: Bearer <key>`, whether or not the server knows the key.
    pub fn with_key<'a>(&'a self, key: &'a str) -> Client<'a> {
        Client {
            app: self,
            key: Some(key),
        }
    }

    /// Sends `request` exactly as built: the escape hatch for odd headers,
    /// content types and raw or streamed bodies.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Creates `app` (`app_body`) and registers each version for
    /// linux/amd64 (`release_body`), asserting every step succeeds.
    pub async fn seed(&self, app: &str, versions: &[&str]) {
        self.admin()
            .create_app(&app_body(app))
            .await
            .assert_status(201);
        for version in versions {
            self.publisher()
                .register(app, &release_body(version))
                .await
                .assert_status(201);
        }
    }

    /// Creates a managed key from `body` with the admin config key,
    /// asserting the 201.
    pub async fn issue_key(&self, body: &Value) -> IssuedKey {
        let reply = self.admin().create_key(body).await;
        reply.assert_status(201);
        IssuedKey {
            id: reply.body["key"]["id"].as_str().unwrap().to_string(),
            token: reply.body["token"].as_str().unwrap().to_string(),
            view: reply.body["key"].clone(),
        }
    }

    /// A managed key named after its permissions, for `applications`
    /// (`None`: every application).
    pub async fn key_for(&self, permissions: &[&str], applications: Option<&[&str]>) -> IssuedKey {
        self.issue_key(&json!({
            "name": format!("key-{}", permissions.join("-")),
            "permissions": permissions,
            "applications": applications,
        }))
        .await
    }

    /// The audit entries matching `query` (newest first, up to 1000), read
    /// with the admin config key.
    pub async fn audit_entries(&self, query: &str) -> Vec<Value> {
        let query = if query.is_empty() {
            "limit=1000".to_string()
        } else {
            format!("{query}&limit=1000")
        };
        let reply = self.admin().audit(&query).await;
        reply.assert_status(200);
        reply.body["entries"].as_array().unwrap().clone()
    }

    /// Waits (up to 5 s) until `query` matches at least `count` entries:
    /// failed authentications and denials are audited off the request path.
    pub async fn await_audit(&self, query: &str, count: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let entries = self.audit_entries(query).await;
            if entries.len() >= count {
                return entries;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {count} audit entries for `{query}`, found {}: {entries:#?}",
                entries.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A managed key as `POST /api/v1/keys` answered it.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub id: String,
    /// `upd_<id>_<secret>`.
    pub token: String,
    /// The `KeyView`.
    pub view: Value,
}

/// One role's view of a `TestApp`: requests carry its key, if any.
#[derive(Clone, Copy)]
pub struct Client<'a> {
    app: &'a TestApp,
    key: Option<&'a str>,
}

/// `path?query`, or `path` alone when `query` is empty.
fn with_query(path: String, query: &str) -> String {
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}

impl Client<'_> {
    /// A request with this role's credentials, to finish by hand and pass to
    /// `TestApp::send` (or `Client::send`).
    pub fn request(&self, method: &str, uri: &str) -> Builder {
        let builder = Request::builder().method(method).uri(uri);
        match self.key {
            Some(key) => builder.header("authorization", format!("Bearer {key}")),
            None => builder,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        self.app.send(request).await
    }

    /// `method` on `uri`, with `body` as JSON when given: for tables of routes.
    pub async fn call(&self, method: &str, uri: &str, body: Option<&Value>) -> Reply {
        let builder = self.request(method, uri);
        let request = match body {
            Some(json) => builder
                .header("content-type", "application/json")
                .body(Body::from(json.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.call("GET", uri, None).await
    }

    /// A GET with one extra header (an install id, an origin, a request id).
    pub async fn get_with(&self, uri: &str, (name, value): (&str, &str)) -> Reply {
        let request = self.request("GET", uri).header(name, value);
        self.send(request.body(Body::empty()).unwrap()).await
    }

    pub async fn post(&self, uri: &str, body: &Value) -> Reply {
        self.call("POST", uri, Some(body)).await
    }

    pub async fn put(&self, uri: &str, body: &Value) -> Reply {
        self.call("PUT", uri, Some(body)).await
    }

    pub async fn patch(&self, uri: &str, body: &Value) -> Reply {
        self.call("PATCH", uri, Some(body)).await
    }

    pub async fn delete(&self, uri: &str) -> Reply {
        self.call("DELETE", uri, None).await
    }

    // ------------------------------------------------ probes and monitoring

    pub async fn health(&self) -> Reply {
        self.get("/health").await
    }

    pub async fn ready(&self) -> Reply {
        self.get("/health/ready").await
    }

    pub async fn metrics(&self) -> Reply {
        self.get("/metrics").await
    }

    pub async fn openapi(&self) -> Reply {
        self.get("/api/v1/openapi.json").await
    }

    // ------------------------------------------------------- applications

    /// `POST /api/v1/applications`.
    pub async fn create_app(&self, body: &Value) -> Reply {
        self.post("/api/v1/applications", body).await
    }

    /// `GET /api/v1/applications?<query>`.
    pub async fn list_apps(&self, query: &str) -> Reply {
        self.get(&with_query("/api/v1/applications".into(), query))
            .await
    }

    pub async fn get_app(&self, id: &str) -> Reply {
        self.get(&format!("/api/v1/applications/{id}")).await
    }

    /// `PUT /api/v1/applications/<id>`: a partial update.
    pub async fn update_app(&self, id: &str, body: &Value) -> Reply {
        self.put(&format!("/api/v1/applications/{id}"), body).await
    }

    /// Deletes an application that has no releases.
    pub async fn delete_app(&self, id: &str) -> Reply {
        self.delete(&format!("/api/v1/applications/{id}")).await
    }

    /// Deletes an application with its releases (`?force=true`).
    pub async fn force_delete_app(&self, id: &str) -> Reply {
        self.delete(&format!("/api/v1/applications/{id}?force=true"))
            .await
    }

    // ------------------------------------------------------------ releases

    /// `POST /api/v1/updates/<app>/register`.
    pub async fn register(&self, app: &str, release: &Value) -> Reply {
        self.post(&format!("/api/v1/updates/{app}/register"), release)
            .await
    }

    /// `POST /api/v1/applications/<app>/releases`: every target of a version at once.
    pub async fn publish(&self, app: &str, body: &Value) -> Reply {
        self.post(&format!("/api/v1/applications/{app}/releases"), body)
            .await
    }

    /// `GET /api/v1/jobs/<id>`.
    pub async fn job(&self, id: &str) -> Reply {
        self.get(&format!("/api/v1/jobs/{id}")).await
    }

    /// Polls a publish job (up to 10 s) until it is no longer `running`;
    /// answers its last view.
    pub async fn await_job(&self, id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let reply = self.job(id).await;
            reply.assert_status(200);
            if reply.body["status"] != "running" {
                return reply.body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} still running: {}",
                reply.text
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// `GET /api/v1/updates/<app>/releases?<query>`.
    pub async fn list_releases(&self, app: &str, query: &str) -> Reply {
        self.get(&with_query(
            format!("/api/v1/updates/{app}/releases"),
            query,
        ))
        .await
    }

    /// `PATCH` of one release; `target` is `version/platform/arch`.
    pub async fn patch_release(&self, app: &str, target: &str, body: &Value) -> Reply {
        self.patch(&format!("/api/v1/updates/{app}/releases/{target}"), body)
            .await
    }

    /// `DELETE` of one release; `target` is `version/platform/arch`.
    pub async fn delete_release(&self, app: &str, target: &str) -> Reply {
        self.delete(&format!("/api/v1/updates/{app}/releases/{target}"))
            .await
    }

    // ------------------------------------------------ keys, audit, webhooks

    /// `POST /api/v1/keys`.
    pub async fn create_key(&self, body: &Value) -> Reply {
        self.post("/api/v1/keys", body).await
    }

    pub async fn list_keys(&self) -> Reply {
        self.get("/api/v1/keys").await
    }

    pub async fn get_key(&self, id: &str) -> Reply {
        self.get(&format!("/api/v1/keys/{id}")).await
    }

    /// `POST /api/v1/keys/<id>/rotate` (no body).
    pub async fn rotate_key(&self, id: &str) -> Reply {
        self.call("POST", &format!("/api/v1/keys/{id}/rotate"), None)
            .await
    }

    /// `POST /api/v1/keys/<id>/revoke` (no body).
    pub async fn revoke_key(&self, id: &str) -> Reply {
        self.call("POST", &format!("/api/v1/keys/{id}/revoke"), None)
            .await
    }

    /// `GET /api/v1/audit?<query>`.
    pub async fn audit(&self, query: &str) -> Reply {
        self.get(&with_query("/api/v1/audit".into(), query)).await
    }

    /// `POST /api/v1/webhooks`.
    pub async fn create_webhook(&self, body: &Value) -> Reply {
        self.post("/api/v1/webhooks", body).await
    }

    // ------------------------------------------------------- update checks

    /// `GET /api/v1/updates/<app>/check?<query>`.
    pub async fn check(&self, app: &str, query: &str) -> Reply {
        self.get(&with_query(format!("/api/v1/updates/{app}/check"), query))
            .await
    }

    /// `POST /api/v1/check` with the query as a JSON body.
    pub async fn check_by_body(&self, body: &Value) -> Reply {
        self.post("/api/v1/check", body).await
    }

    /// `GET /api/v1/updates/<app>/latest?<query>`.
    pub async fn latest(&self, app: &str, query: &str) -> Reply {
        self.get(&with_query(format!("/api/v1/updates/{app}/latest"), query))
            .await
    }
}

/// A response, read whole: the body as text and, when it parses, as JSON
/// (`Value::Null` otherwise).
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{}", self.text);
        self
    }

    /// The body as JSON, failing when it is not JSON.
    #[track_caller]
    pub fn json(&self) -> &Value {
        assert!(!self.body.is_null(), "not a JSON body: {}", self.text);
        &self.body
    }

    /// The error envelope's `code`, if the body has one.
    pub fn error_code(&self) -> Option<&str> {
        self.body["code"].as_str()
    }

    /// `name=value` of the cookie the response sets (a console session), if any.
    pub fn set_cookie(&self) -> Option<String> {
        let set = self.headers.get("set-cookie")?.to_str().ok()?;
        let pair = set.split(';').next()?.trim();
        pair.split_once('=')
            .filter(|(_, value)| !value.is_empty())
            .map(|_| pair.to_string())
    }

    /// The CSRF token of the console forms on an HTML page, if it has one.
    pub fn csrf_token(&self) -> Option<String> {
        regex::Regex::new(r#"name="csrf" value="([^"]+)""#)
            .unwrap()
            .captures(&self.text)
            .map(|c| c[1].to_string())
    }

    /// A header's value as text; fails when it is missing.
    #[track_caller]
    pub fn header(&self, name: &str) -> &str {
        self.headers[name].to_str().unwrap()
    }

    /// Asserts `status` and the API's error envelope with `code`: a message,
    /// details, a timestamp, and the response's own request id.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status, status, "{}", self.text);
        let body = &self.body;
        assert_eq!(body["error"], "error", "{}", self.text);
        assert_eq!(body["code"], code, "{}", self.text);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(body["details"].is_object());
        assert!(body["timestamp"].as_str().is_some_and(|t| t.contains('T')));
        let id = self.headers.get("x-request-id").unwrap().to_str().unwrap();
        assert_eq!(
            body["request_id"], id,
            "the body names the request id of the response"
        );
        self
    }

    /// The message of a 422 for `field`, failing when the reply is anything else.
    #[track_caller]
    pub fn field_error(&self, field: &str) -> &str {
        assert_eq!(self.status, 422, "{}", self.text);
        self.body["details"][field]
            .as_str()
            .unwrap_or_else(|| panic!("no error for {field}: {}", self.text))
    }
}
