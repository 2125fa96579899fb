//! The web console (`/console`) through the production router: sign-in and
//! sessions, CSRF and the same-origin check, what a key's scope shows,
//! rollout control with its confirmation, and inert stored payloads. The
//! browser suite (`tests/browser/test_console.py`) drives the same pages in
//! Chromium.

mod pages;
mod rollout;
mod sessions;

use axum::body::Body;
use axum::http::Request;

use crate::common::{Reply, TestApp, test_settings};

/// A router with the console on.
pub async fn console_app() -> TestApp {
    let mut settings = test_settings();
    settings.console.enabled = true;
    TestApp::with_settings(settings).await
}

/// A browser's view of the console: its session cookie, and the headers a
/// browser sends on a same-origin navigation or form post.
pub struct Browser<'a> {
    app: &'a TestApp,
    pub cookie: Option<String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self { app, cookie: None }
    }

    /// Signs in with `key`, asserting the redirect and keeping the cookie.
    pub async fn signed_in(app: &'a TestApp, key: &str) -> Self {
        let mut browser = Self::new(app);
        let reply = browser.sign_in(key).await;
        reply.assert_status(303);
        assert_eq!(reply.header("location"), "/console/apps");
        browser.cookie = Some(reply.set_cookie().expect("a session cookie"));
        browser
    }

    pub async fn sign_in(&self, key: &str) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("key", key)
            .finish();
        self.post_raw("/console/login", body, &[]).await
    }

    fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("accept", "text/html,application/xhtml+xml")
            .header("host", "updater.test")
            .header("sec-fetch-site", "same-origin");
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.app
            .send(self.request("GET", path).body(Body::empty()).unwrap())
            .await
    }

    /// A form post with extra or replaced headers (`("sec-fetch-site", "cross-site")`).
    pub async fn post_raw(&self, path: &str, body: String, headers: &[(&str, &str)]) -> Reply {
        let mut request = self
            .request("POST", path)
            .header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            request.headers_mut().unwrap().remove(*name);
            if !value.is_empty() {
                request = request.header(*name, *value);
            }
        }
        self.app.send(request.body(Body::from(body)).unwrap()).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields {
            body.append_pair(name, value);
        }
        self.post_raw(path, body.finish(), &[]).await
    }

    /// The CSRF token of the forms on a page the browser fetches.
    pub async fn csrf(&self, path: &str) -> String {
        let page = self.get(path).await;
        page.assert_status(200);
        page.csrf_token().expect("the page has a form with a token")
    }
}
