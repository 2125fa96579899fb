//! Security headers, CORS, HSTS, rate limiting, and hostile ids and
//! parameters that must never cause a 500.

use crate::common::TestApp;
use crate::common::test_settings;

#[tokio::test]
async fn security_headers_and_cors() {
    let app = TestApp::new().await;
    let reply = app
        .anonymous()
        .get_with("/health", ("origin", "https://evil.example"))
        .await;
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    assert_eq!(
        reply.headers["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(reply.headers["referrer-policy"], "no-referrer");
    assert!(
        reply.headers.get("strict-transport-security").is_none(),
        "HSTS only with TLS"
    );
    assert!(
        reply.headers.get("access-control-allow-origin").is_none(),
        "CORS is off by default"
    );

    let mut settings = test_settings();
    settings.server.cors.allowed_origins = vec!["https://app.example.com".into()];
    let cors = TestApp::with_settings(settings).await;
    let allowed = cors
        .anonymous()
        .get_with("/health", ("origin", "https://app.example.com"))
        .await;
    assert_eq!(
        allowed.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(
        allowed.headers.get_all("vary").iter().any(|v| v
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("origin"))
    );
    let other = cors
        .anonymous()
        .get_with("/health", ("origin", "https://evil.example"))
        .await;
    assert!(other.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn hsts_is_sent_when_serving_tls() {
    let mut settings = test_settings();
    settings.server.tls.cert_file = "cert.pem".into();
    settings.server.tls.key_file = "key.pem".into();
    let app = TestApp::with_settings(settings).await;
    let reply = app.anonymous().health().await;
    assert_eq!(
        reply.headers["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_and_spares_probes() {
    let mut settings = test_settings();
    settings.security.rate_limit.enabled = true;
    settings.security.rate_limit.requests_per_minute = 1;
    settings.security.rate_limit.burst = 2;
    let app = TestApp::with_settings(settings).await;
    let client = app.anonymous();
    let query = "current_version=1.0.0&platform=linux&architecture=amd64";
    assert_eq!(client.check("x", query).await.status, 404);
    assert_eq!(client.check("x", query).await.status, 404);
    let limited = client.check("x", query).await;
    limited.assert_error(429, "RATE_LIMIT_EXCEEDED");
    let retry: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(client.health().await.status, 200, "probes are exempt");
}

#[tokio::test]
async fn rate_limited_answers_carry_the_security_headers() {
    let mut settings = test_settings();
    settings.security.rate_limit.enabled = true;
    settings.security.rate_limit.requests_per_minute = 1;
    settings.security.rate_limit.burst = 1;
    let app = TestApp::with_settings(settings).await;
    app.anonymous().openapi().await;
    let limited = app.anonymous().openapi().await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.headers["x-content-type-options"], "nosniff");
    assert_eq!(limited.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn hostile_ids_and_parameters_never_cause_500() {
    let app = TestApp::new().await;
    app.seed("target", &["1.0.0"]).await;
    let hostile_ids = [
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "a%00b",
        "a%0d%0aSet-Cookie:x",
        "'%20OR%201=1--",
        "%F0%9F%92%A3",
        "%C0%AF",
        "%ff",
        &"a".repeat(300),
    ];
    for id in hostile_ids {
        for (method, uri, client) in [
            ("GET", format!("/api/v1/applications/{id}"), app.reader()),
            ("DELETE", format!("/api/v1/applications/{id}"), app.admin()),
            (
                "GET",
                format!(
                    "/api/v1/updates/{id}/check?current_version=1.0.0&platform=linux&architecture=amd64"
                ),
                app.anonymous(),
            ),
            (
                "GET",
                format!("/api/v1/updates/{id}/releases"),
                app.reader(),
            ),
            (
                "DELETE",
                format!("/api/v1/updates/target/releases/{id}/linux/amd64"),
                app.admin(),
            ),
        ] {
            let reply = client.call(method, &uri, None).await;
            assert!(
                (400..500).contains(&reply.status),
                "{method} {uri}: {} {}",
                reply.status,
                reply.text
            );
            assert_eq!(
                reply.body["error"], "error",
                "{method} {uri}: {}",
                reply.text
            );
        }
    }
    let anonymous = app.anonymous();
    let traversal = anonymous.get("/api/v1/../../etc/passwd").await;
    assert_eq!(traversal.status, 404);
    let control = anonymous
        .check(
            "target",
            "current_version=1.0.0%0a&platform=linux%00&architecture=amd64",
        )
        .await;
    control.assert_error(422, "VALIDATION_ERROR");
    let long = anonymous
        .check(
            "target",
            &format!(
                "current_version={}&platform=linux&architecture=amd64",
                "9".repeat(5000)
            ),
        )
        .await;
    long.assert_error(422, "VALIDATION_ERROR");
    let huge_offset = app.reader().list_apps("offset=18446744073709551616").await;
    huge_offset.assert_error(422, "VALIDATION_ERROR");
}
