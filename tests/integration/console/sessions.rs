//! Signing in and out: the cookie's attributes, wrong keys, session
//! fixation, sign-out, a revoked key, and forged posts (CSRF, other sites).

use serde_json::json;

use super::{Browser, console_app};
use crate::common::sut::Settings;
use crate::common::{ADMIN_KEY, READ_KEY, TestApp, test_settings};

#[tokio::test]
async fn the_console_is_off_unless_enabled() {
    let app = TestApp::new().await;
    let reply = Browser::new(&app).get("/console/login").await;
    reply.assert_status(404);
    assert_eq!(reply.error_code(), Some("NOT_FOUND"));
    assert!(reply.header("content-type").starts_with("application/json"));
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_never_echoes_the_key() {
    let app = console_app().await;
    let reply = Browser::new(&app).sign_in(READ_KEY).await;
    reply.assert_status(303);
    assert_eq!(reply.header("location"), "/console/apps");
    let set = reply.header("set-cookie");
    assert!(set.starts_with("updater_console="), "{set}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    assert!(!set.contains(READ_KEY) && !reply.text.contains(READ_KEY));
    let id = set.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(id.len(), 43, "256 random bits, base64url: {id}");
}

#[tokio::test]
async fn with_tls_or_behind_a_tls_proxy_the_cookie_is_secure_and_host_only() {
    let served_tls = |settings: &mut Settings| {
        settings.server.tls.cert_file = "cert.pem".into();
        settings.server.tls.key_file = "key.pem".into();
    };
    let behind_proxy = |settings: &mut Settings| settings.console.secure_cookie = true;
    for secure in [&served_tls as &dyn Fn(&mut Settings), &behind_proxy] {
        let mut settings = test_settings();
        settings.console.enabled = true;
        secure(&mut settings);
        let app = TestApp::with_settings(settings).await;
        let reply = Browser::new(&app).sign_in(READ_KEY).await;
        reply.assert_status(303);
        let set = reply.header("set-cookie");
        assert!(set.starts_with("__Host-updater_console="), "{set}");
        for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(set.contains(attribute), "{attribute} in {set}");
        }
        let mut browser = Browser::new(&app);
        browser.cookie = reply.set_cookie();
        browser.get("/console/apps").await.assert_status(200);
    }
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_the_form_again() {
    let app = console_app().await;
    let browser = Browser::new(&app);
    for key in [
        "not-a-key",
        "upd_0123456789abcdef_wrongsecretwrongsecretwrongsecret0",
    ] {
        let reply = browser.sign_in(key).await;
        reply.assert_status(401);
        assert!(reply.header("content-type").starts_with("text/html"));
        assert!(reply.text.contains("Invalid API key"), "{}", reply.text);
        assert!(reply.headers.get("set-cookie").is_none());
        assert!(!reply.text.contains(key), "the key is not echoed");
    }
    let empty = browser.sign_in("").await;
    empty.assert_status(422);
    assert!(empty.text.contains("Enter an API key"));
}

#[tokio::test]
async fn a_key_without_read_cannot_sign_in() {
    let app = console_app().await;
    let monitor = app.key_for(&["monitor"], None).await;
    let reply = Browser::new(&app).sign_in(&monitor.token).await;
    reply.assert_status(403);
    assert!(reply.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn pages_send_a_visitor_without_a_session_to_sign_in() {
    let app = console_app().await;
    let mut browser = Browser::new(&app);
    for path in ["/console/apps", "/console/audit", "/console/apps/desk"] {
        let reply = browser.get(path).await;
        reply.assert_status(303);
        assert_eq!(reply.header("location"), "/console/login", "{path}");
    }
    browser.cookie = Some("updater_console=made-up-session-id".into());
    let reply = browser.get("/console/apps").await;
    reply.assert_status(303);
}

#[tokio::test]
async fn signing_in_always_starts_a_new_session_and_ends_the_one_presented() {
    let app = console_app().await;
    let first = Browser::signed_in(&app, READ_KEY).await;
    first.get("/console/apps").await.assert_status(200);

    // The same browser (or one an attacker planted the cookie in) signs in again.
    let reply = first.sign_in(ADMIN_KEY).await;
    reply.assert_status(303);
    let fresh = reply.set_cookie().unwrap();
    assert_ne!(
        Some(&fresh),
        first.cookie.as_ref(),
        "a new id at every sign-in"
    );
    let planted = first.get("/console/apps").await;
    planted.assert_status(303);
    let mut second = Browser::new(&app);
    second.cookie = Some(fresh);
    let page = second.get("/console/apps").await;
    page.assert_status(200);
    assert!(page.text.contains("Signed in as <strong>admin</strong>"));
}

#[tokio::test]
async fn signing_out_ends_the_session_and_is_audited() {
    let app = console_app().await;
    let browser = Browser::signed_in(&app, ADMIN_KEY).await;
    let csrf = browser.csrf("/console/apps").await;

    let forged = browser.post("/console/logout", &[]).await;
    forged.assert_status(403);
    browser.get("/console/apps").await.assert_status(200);

    let reply = browser.post("/console/logout", &[("csrf", &csrf)]).await;
    reply.assert_status(303);
    assert_eq!(reply.header("location"), "/console/login");
    assert!(reply.header("set-cookie").contains("Max-Age=0"));
    browser.get("/console/apps").await.assert_status(303);

    let actions: Vec<String> = app
        .audit_entries("action=console.")
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["console.signed_out", "console.signed_in"]);
}

#[tokio::test]
async fn revoking_the_key_ends_its_sessions() {
    let app = console_app().await;
    let key = app.key_for(&["read"], None).await;
    let browser = Browser::signed_in(&app, &key.token).await;
    browser.get("/console/apps").await.assert_status(200);
    app.admin().revoke_key(&key.id).await.assert_status(200);
    browser.get("/console/apps").await.assert_status(303);
}

#[tokio::test]
async fn forged_posts_are_refused() {
    let app = console_app().await;
    app.seed("desk", &["1.0.0", "2.0.0"]).await;
    let browser = Browser::signed_in(&app, ADMIN_KEY).await;
    let csrf = browser.csrf("/console/apps/desk").await;
    let pause = "/console/apps/desk/releases/2.0.0/linux/amd64/pause";
    let body = |token: &str| format!("csrf={token}");

    // No token, another session's token, a post from another site, a
    // foreign Origin without Sec-Fetch-Site.
    let other = Browser::signed_in(&app, ADMIN_KEY).await;
    let other_csrf = other.csrf("/console/apps").await;
    let attempts = [
        browser.post_raw(pause, String::new(), &[]).await,
        browser.post_raw(pause, body(&other_csrf), &[]).await,
        browser
            .post_raw(pause, body(&csrf), &[("sec-fetch-site", "cross-site")])
            .await,
        browser
            .post_raw(pause, body(&csrf), &[("sec-fetch-site", "same-site")])
            .await,
        browser
            .post_raw(
                pause,
                body(&csrf),
                &[("sec-fetch-site", ""), ("origin", "https://evil.example")],
            )
            .await,
    ];
    for (index, reply) in attempts.iter().enumerate() {
        reply.assert_status(403);
        assert!(
            reply.header("content-type").starts_with("text/html"),
            "attempt {index}"
        );
    }
    let release = app.reader().list_releases("desk", "version=2.0.0").await;
    assert_eq!(release.body["releases"][0]["rollout_paused"], json!(false));

    let accepted = browser
        .post_raw(
            pause,
            body(&csrf),
            &[("sec-fetch-site", ""), ("origin", "http://updater.test")],
        )
        .await;
    accepted.assert_status(303);
}

#[tokio::test]
async fn a_sign_in_from_another_site_is_refused() {
    let app = console_app().await;
    let body = format!("key={READ_KEY}");
    let reply = Browser::new(&app)
        .post_raw("/console/login", body, &[("sec-fetch-site", "cross-site")])
        .await;
    reply.assert_status(403);
    assert!(reply.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn malformed_forms_get_a_clear_answer() {
    let app = console_app().await;
    let browser = Browser::new(&app);
    let huge = format!("key={}", "a".repeat(20_000));
    let reply = browser.post_raw("/console/login", huge, &[]).await;
    reply.assert_status(400);
    assert!(
        reply.text.contains("larger than 16384 bytes"),
        "{}",
        reply.text
    );

    let json_body = browser
        .post_raw(
            "/console/login",
            "{\"key\":\"x\"}".into(),
            &[("content-type", "application/json")],
        )
        .await;
    json_body.assert_status(400);
    assert!(json_body.text.contains("application/x-www-form-urlencoded"));

    let duplicate = browser
        .post_raw("/console/login", "key=a&key=b".into(), &[])
        .await;
    duplicate.assert_status(400);
}

#[tokio::test]
async fn guessing_keys_at_the_sign_in_form_locks_the_address_out() {
    let mut settings = test_settings();
    settings.console.enabled = true;
    settings.security.auth_failure_limit.failures_per_minute = 3;
    let app = TestApp::with_settings(settings).await;
    let browser = Browser::new(&app);
    let statuses: Vec<u16> = {
        let mut statuses = Vec::new();
        for guess in 0..5 {
            statuses.push(browser.sign_in(&format!("guess-{guess}")).await.status);
        }
        statuses
    };
    assert_eq!(statuses[..2], [401, 401], "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    let locked = browser.sign_in(READ_KEY).await;
    locked.assert_status(429);
    assert!(locked.header("retry-after").parse::<u64>().unwrap() >= 1);
    assert!(locked.header("content-type").starts_with("text/html"));
    assert!(
        locked.headers.get("set-cookie").is_none(),
        "even the right key waits"
    );
}
