//! Authentication and permissions: the route × key matrix, public routes,
//! and the lock-out after repeated failures.

use axum::body::Body;
use serde_json::{Value, json};

use crate::common::{Client, TestApp, app_body, release_body, test_settings};

/// Every protected route with the least permission it needs.
fn protected_routes() -> Vec<(&'static str, &'static str, Option<Value>, &'static str)> {
    vec![
        ("GET", "/api/v1/updates/matrix/releases", None, "read"),
        ("GET", "/api/v1/applications", None, "read"),
        ("GET", "/api/v1/applications/matrix", None, "read"),
        (
            "POST",
            "/api/v1/applications",
            Some(app_body("matrix2")),
            "write",
        ),
        (
            "POST",
            "/api/v1/updates/matrix/register",
            Some(release_body("9.9.9")),
            "write",
        ),
        (
            "PUT",
            "/api/v1/applications/matrix",
            Some(json!({"description": "x"})),
            "admin",
        ),
        (
            "DELETE",
            "/api/v1/updates/matrix/releases/1.0.0/linux/amd64",
            None,
            "admin",
        ),
        (
            "DELETE",
            "/api/v1/applications/matrix-victim?force=true",
            None,
            "admin",
        ),
        ("GET", "/metrics", None, "monitor"),
    ]
}

/// A role's client, as `TestApp::admin` and its siblings give it.
type Role = for<'a> fn(&'a TestApp) -> Client<'a>;

fn allowed(key: &str, needed: &str) -> bool {
    matches!(
        (key, needed),
        ("admin", _) | ("write", "read" | "write") | ("read", "read") | ("monitor", "monitor")
    )
}

#[tokio::test]
async fn auth_matrix() {
    let roles: [(&str, Role); 4] = [
        ("admin", TestApp::admin),
        ("write", TestApp::publisher),
        ("read", TestApp::reader),
        ("monitor", TestApp::monitor),
    ];
    for (method, uri, body, needed) in protected_routes() {
        for (key_name, role) in roles {
            let app = TestApp::new().await;
            app.seed("matrix", &["1.0.0"]).await;
            app.seed("matrix-victim", &[]).await;
            let reply = role(&app).call(method, uri, body.as_ref()).await;
            if allowed(key_name, needed) {
                assert!(
                    reply.status < 300,
                    "{method} {uri} with {key_name}: {} {}",
                    reply.status,
                    reply.text
                );
            } else {
                reply.assert_error(403, "FORBIDDEN");
            }
        }
        let app = TestApp::new().await;
        let none = app.anonymous().call(method, uri, body.as_ref()).await;
        none.assert_error(401, "UNAUTHORIZED");
        assert!(none.header("www-authenticate").starts_with("Bearer"));
        let wrong = app
            .with_key("not-a-configured-key-0000000000000000")
            .call(method, uri, body.as_ref())
            .await;
        wrong.assert_error(401, "UNAUTHORIZED");
        let basic = app
            .send(
                app.anonymous()
                    .request(method, uri)
                    .header("authorization", "Basic YWRtaW46YWRtaW4=")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        basic.assert_error(401, "UNAUTHORIZED");
        let binary = app
            .send(
                app.anonymous()
                    .request(method, uri)
                    .header("authorization", &b"Bearer \xff\xfe"[..])
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        binary.assert_error(401, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn public_routes_need_no_key() {
    let app = TestApp::new().await;
    app.seed("pub", &["1.0.0"]).await;
    for uri in [
        "/health",
        "/api/v1/health",
        "/health/ready",
        "/api/v1/openapi.json",
        "/api/v1/updates/pub/check?current_version=0.1.0&platform=linux&architecture=amd64",
        "/api/v1/updates/pub/latest?platform=linux&architecture=amd64",
        "/api/v1/latest?app_id=pub&platform=linux&architecture=amd64",
    ] {
        let reply = app.anonymous().get(uri).await;
        assert_eq!(reply.status, 200, "{uri}: {}", reply.text);
    }
}

#[tokio::test]
async fn repeated_failed_authentication_locks_the_client_out() {
    let mut settings = test_settings();
    settings.security.auth_failure_limit.failures_per_minute = 3;
    let app = TestApp::with_settings(settings).await;
    let guesser = app.with_key("guess-000000000000000000000000000000");
    for _ in 0..3 {
        let reply = guesser.list_apps("").await;
        assert_eq!(reply.status, 401);
    }
    let locked = guesser.list_apps("").await;
    locked.assert_error(429, "RATE_LIMIT_EXCEEDED");
    let valid = app.reader().list_apps("").await;
    assert_eq!(
        valid.status, 429,
        "even a right key is refused while locked out"
    );
}
