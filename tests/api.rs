//! The /api/v1 surface through the production router (no sockets).

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use serde_json::{Value, json};

fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    let body = &reply.body;
    assert_eq!(body["error"], "error", "{}", reply.text);
    assert_eq!(body["code"], code, "{}", reply.text);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(body["details"].is_object());
    assert!(body["timestamp"].as_str().is_some_and(|t| t.contains('T')));
    let id = reply.headers.get("x-request-id").unwrap().to_str().unwrap();
    assert_eq!(
        body["request_id"], id,
        "the body names the request id of the response"
    );
}

#[tokio::test]
async fn full_flow_matches_the_go_service_shapes() {
    let app = router().await;
    seed(&app, "desk", &["1.0.0", "1.1.0"]).await;

    let check = call(
        &app,
        "GET",
        "/api/v1/updates/desk/check?current_version=1.0.0&platform=linux&architecture=amd64",
        None,
        None,
    )
    .await;
    assert_eq!(check.status, 200, "{}", check.text);
    assert_eq!(check.body["update_available"], true);
    assert_eq!(check.body["latest_version"], "1.1.0");
    assert_eq!(check.body["current_version"], "1.0.0");
    assert_eq!(check.body["checksum_type"], "sha256");
    assert_eq!(check.body["file_size"], 1024);
    assert_eq!(check.body["required"], false);
    assert!(
        check.body.get("metadata").is_none(),
        "metadata only with include_metadata"
    );

    let body = json!({"application_id": "desk", "current_version": "1.1.0", "platform": "linux", "architecture": "amd64"});
    let posted = call(&app, "POST", "/api/v1/check", None, Some(body)).await;
    assert_eq!(posted.status, 200);
    assert_eq!(
        posted.body,
        json!({"update_available": false, "current_version": "1.1.0", "required": false})
    );

    let latest = call(
        &app,
        "GET",
        "/api/v1/updates/desk/latest?platform=linux&architecture=amd64",
        None,
        None,
    )
    .await;
    assert_eq!(latest.status, 200);
    assert_eq!(latest.body["version"], "1.1.0");
    for param in ["app_id", "application_id"] {
        let uri = format!("/api/v1/latest?{param}=desk&platform=linux&architecture=amd64");
        let reply = call(&app, "GET", &uri, None, None).await;
        assert_eq!(reply.status, 200, "{param}: {}", reply.text);
        assert_eq!(reply.body["version"], "1.1.0");
    }
    let missing = call(
        &app,
        "GET",
        "/api/v1/latest?platform=linux&architecture=amd64",
        None,
        None,
    )
    .await;
    assert_error(&missing, 422, "VALIDATION_ERROR");
    assert!(missing.body["details"]["app_id"].is_string());

    let list = call(
        &app,
        "GET",
        "/api/v1/updates/desk/releases",
        Some(READ_KEY),
        None,
    )
    .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["total_count"], 2);
    assert_eq!(list.body["page"], 1);
    assert_eq!(list.body["has_more"], false);
    assert_eq!(list.body["releases"][0]["id"], "desk-1.1.0-linux-amd64");

    let one = call(
        &app,
        "GET",
        "/api/v1/applications/desk",
        Some(READ_KEY),
        None,
    )
    .await;
    assert_eq!(one.body["stats"]["total_releases"], 2);
    assert_eq!(one.body["stats"]["latest_version"], "1.1.0");

    let apps = call(&app, "GET", "/api/v1/applications", Some(READ_KEY), None).await;
    assert_eq!(apps.body["total_count"], 1);
    assert_eq!(apps.body["applications"][0]["id"], "desk");

    let refused = call(
        &app,
        "DELETE",
        "/api/v1/applications/desk",
        Some(ADMIN_KEY),
        None,
    )
    .await;
    assert_error(&refused, 409, "CONFLICT");

    let deleted = call(
        &app,
        "DELETE",
        "/api/v1/updates/desk/releases/1.1.0/linux/x86_64",
        Some(ADMIN_KEY),
        None,
    )
    .await;
    assert_eq!(
        deleted.status, 200,
        "aliases accepted on delete: {}",
        deleted.text
    );
    assert_eq!(deleted.body["id"], "desk-1.1.0-linux-amd64");
    let again = call(
        &app,
        "DELETE",
        "/api/v1/updates/desk/releases/1.1.0/linux/amd64",
        Some(ADMIN_KEY),
        None,
    )
    .await;
    assert_error(&again, 404, "NOT_FOUND");

    let forced = call(
        &app,
        "DELETE",
        "/api/v1/applications/desk?force=true",
        Some(ADMIN_KEY),
        None,
    )
    .await;
    assert_eq!(forced.status, 204);
    assert!(forced.text.is_empty());
    let gone = call(
        &app,
        "GET",
        "/api/v1/applications/desk",
        Some(READ_KEY),
        None,
    )
    .await;
    assert_error(&gone, 404, "APPLICATION_NOT_FOUND");
}

#[tokio::test]
async fn no_release_for_a_target_is_no_update_not_an_error() {
    let app = router().await;
    seed(&app, "lonely", &[]).await;
    for query in [
        "current_version=1.0.0&platform=windows&architecture=arm64",
        "current_version=1.0.0&platform=ios&architecture=arm64",
    ] {
        let reply = call(
            &app,
            "GET",
            &format!("/api/v1/updates/lonely/check?{query}"),
            None,
            None,
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.body["update_available"], false);
    }
    let latest = call(
        &app,
        "GET",
        "/api/v1/updates/lonely/latest?platform=linux&architecture=amd64",
        None,
        None,
    )
    .await;
    assert_error(&latest, 404, "NOT_FOUND");
    let unknown = call(
        &app,
        "GET",
        "/api/v1/updates/nope/check?current_version=1.0.0&platform=linux&architecture=amd64",
        None,
        None,
    )
    .await;
    assert_error(&unknown, 404, "APPLICATION_NOT_FOUND");
}

#[tokio::test]
async fn platforms_and_architectures_are_normalized() {
    let app = router().await;
    seed(&app, "norm", &[]).await;
    let mut body = release_body("2.0.0");
    body["platform"] = json!("MacOS");
    body["architecture"] = json!("AARCH64");
    let reply = call(
        &app,
        "POST",
        "/api/v1/updates/norm/register",
        Some(WRITE_KEY),
        Some(body),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["id"], "norm-2.0.0-darwin-arm64");
    let check = call(
        &app,
        "GET",
        "/api/v1/updates/norm/check?current_version=1.0&platform=darwin&architecture=arm64",
        None,
        None,
    )
    .await;
    assert_eq!(check.body["latest_version"], "2.0.0", "{}", check.text);
    let aliased = call(
        &app,
        "GET",
        "/api/v1/updates/norm/check?current_version=v1&platform=macos&architecture=aarch64",
        None,
        None,
    )
    .await;
    assert_eq!(aliased.body["latest_version"], "2.0.0");
}

#[tokio::test]
async fn register_rules() {
    let app = router().await;
    seed(&app, "reg", &["1.0.0"]).await;
    let dup = call(
        &app,
        "POST",
        "/api/v1/updates/reg/register",
        Some(WRITE_KEY),
        Some(release_body("1.0.0")),
    )
    .await;
    assert_error(&dup, 409, "CONFLICT");

    let mut body = release_body("1.2.0");
    body["release_date"] = json!("2024-05-06T07:08:09Z");
    body["signature"] = json!("untrusted comment: x\nRWQ...sig==");
    body["checksum_type"] = json!("SHA512");
    body["checksum"] = json!("ab".repeat(64));
    body["channel"] = json!("Beta");
    body["metadata"] = json!({"notes_url": "https://example.com/n"});
    let ok = call(
        &app,
        "POST",
        "/api/v1/updates/reg/register",
        Some(WRITE_KEY),
        Some(body),
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let list = call(
        &app,
        "GET",
        "/api/v1/updates/reg/releases?version=1.2.0",
        Some(READ_KEY),
        None,
    )
    .await;
    let release = &list.body["releases"][0];
    assert_eq!(release["release_date"], "2024-05-06T07:08:09Z");
    assert_eq!(release["signature"], "untrusted comment: x\nRWQ...sig==");
    assert_eq!(release["checksum_type"], "sha512");
    assert_eq!(release["channel"], "beta");

    let mut bad = release_body("nope");
    bad["checksum"] = json!("abc");
    bad["download_url"] = json!("http://cdn.example.com/x");
    bad["platform"] = json!("beos");
    bad["minimum_version"] = json!("9.9.9");
    let invalid = call(
        &app,
        "POST",
        "/api/v1/updates/reg/register",
        Some(WRITE_KEY),
        Some(bad),
    )
    .await;
    assert_error(&invalid, 422, "VALIDATION_ERROR");
    for field in ["version", "checksum", "download_url", "platform"] {
        assert!(
            invalid.body["details"][field].is_string(),
            "{field} should be reported: {}",
            invalid.text
        );
    }

    let mut md5 = release_body("1.3.0");
    md5["checksum_type"] = json!("md5");
    let refused = call(
        &app,
        "POST",
        "/api/v1/updates/reg/register",
        Some(WRITE_KEY),
        Some(md5),
    )
    .await;
    assert!(refused.body["details"]["checksum_type"].is_string());

    let mut loopback = release_body("1.4.0");
    loopback["download_url"] = json!("http://127.0.0.1:9000/app.tar.gz");
    let local = call(
        &app,
        "POST",
        "/api/v1/updates/reg/register",
        Some(WRITE_KEY),
        Some(loopback),
    )
    .await;
    assert_eq!(
        local.status, 201,
        "plain http is fine for loopback: {}",
        local.text
    );

    let mut typo = release_body("1.5.0");
    typo["requried"] = json!(true);
    let typo = call(
        &app,
        "POST",
        "/api/v1/updates/reg/register",
        Some(WRITE_KEY),
        Some(typo),
    )
    .await;
    assert_error(&typo, 422, "VALIDATION_ERROR");

    let mut negative = release_body("1.6.0");
    negative["file_size"] = json!(-5);
    let negative = call(
        &app,
        "POST",
        "/api/v1/updates/reg/register",
        Some(WRITE_KEY),
        Some(negative),
    )
    .await;
    assert_error(&negative, 422, "VALIDATION_ERROR");
    assert!(
        negative.body["details"]["file_size"].is_string(),
        "{}",
        negative.text
    );

    let unknown_app = call(
        &app,
        "POST",
        "/api/v1/updates/ghost/register",
        Some(WRITE_KEY),
        Some(release_body("1.0.0")),
    )
    .await;
    assert_error(&unknown_app, 404, "APPLICATION_NOT_FOUND");
}

#[tokio::test]
async fn http_download_urls_follow_the_config_flag() {
    let mut settings = test_settings();
    settings.security.allow_http_download_urls = true;
    let app = router_with(settings).await;
    seed(&app, "plain", &[]).await;
    let mut body = release_body("1.0.0");
    body["download_url"] = json!("http://downloads.example.com/a.tar.gz");
    let reply = call(
        &app,
        "POST",
        "/api/v1/updates/plain/register",
        Some(WRITE_KEY),
        Some(body),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

#[tokio::test]
async fn list_parameters_are_validated_and_ordering_is_deterministic() {
    let app = router().await;
    seed(
        &app,
        "many",
        &["1.0.0", "1.2.0", "1.10.0", "1.3.0", "2.0.0-rc.1"],
    )
    .await;
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=abc",
        "limit=-1",
        "offset=-3",
        "offset=99999999999999999999999",
        "sort_by=size",
        "sort_order=up",
        "required=maybe",
        "version=x.y",
        "platform=beos",
        "limit=1&limit=2",
        "unknown=1",
    ] {
        let reply = call(
            &app,
            "GET",
            &format!("/api/v1/updates/many/releases?{bad}"),
            Some(READ_KEY),
            None,
        )
        .await;
        assert_error(&reply, 422, "VALIDATION_ERROR");
        assert!(
            !reply.body["details"].as_object().unwrap().is_empty(),
            "{bad}: {}",
            reply.text
        );
    }
    let asc = call(
        &app,
        "GET",
        "/api/v1/updates/many/releases?sort_by=version&sort_order=asc",
        Some(READ_KEY),
        None,
    )
    .await;
    let versions: Vec<&str> = asc.body["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(
        versions,
        ["1.0.0", "1.2.0", "1.3.0", "1.10.0", "2.0.0-rc.1"]
    );

    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let page = call(
            &app,
            "GET",
            &format!("/api/v1/updates/many/releases?limit=2&offset={offset}"),
            Some(READ_KEY),
            None,
        )
        .await;
        assert_eq!(page.body["total_count"], 5);
        assert_eq!(page.body["page_size"], 2);
        assert_eq!(page.body["page"], offset / 2 + 1);
        assert_eq!(page.body["has_more"], offset < 4);
        seen.extend(
            page.body["releases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "pages neither repeat nor skip: {seen:?}");

    let unknown = call(
        &app,
        "GET",
        "/api/v1/updates/ghost/releases",
        Some(READ_KEY),
        None,
    )
    .await;
    assert_error(&unknown, 404, "APPLICATION_NOT_FOUND");

    let apps_bad = call(
        &app,
        "GET",
        "/api/v1/applications?limit=100000",
        Some(READ_KEY),
        None,
    )
    .await;
    assert_error(&apps_bad, 422, "VALIDATION_ERROR");
}

#[tokio::test]
async fn applications_crud() {
    let app = router().await;
    let created = call(
        &app,
        "POST",
        "/api/v1/applications",
        Some(WRITE_KEY),
        Some(app_body("crud")),
    )
    .await;
    assert_eq!(created.status, 201);
    assert_eq!(
        created.body["message"],
        "Application 'crud' created successfully"
    );
    let dup = call(
        &app,
        "POST",
        "/api/v1/applications",
        Some(WRITE_KEY),
        Some(app_body("crud")),
    )
    .await;
    assert_error(&dup, 409, "CONFLICT");

    let invalid = call(&app, "POST", "/api/v1/applications", Some(WRITE_KEY), Some(json!({"id": "bad id", "name": "", "platforms": [], "config": {"min_version": "2.0.0", "max_version": "1.0.0", "update_interval": -1}}))).await;
    assert_error(&invalid, 422, "VALIDATION_ERROR");
    for field in [
        "id",
        "name",
        "platforms",
        "config.min_version",
        "config.update_interval",
    ] {
        assert!(
            invalid.body["details"][field].is_string(),
            "{field}: {}",
            invalid.text
        );
    }

    let patch = json!({"description": "Updated", "config": {"allow_prerelease": true}});
    let updated = call(
        &app,
        "PUT",
        "/api/v1/applications/crud",
        Some(ADMIN_KEY),
        Some(patch),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    let patch2 = json!({"config": {"min_version": "1.0"}});
    call(
        &app,
        "PUT",
        "/api/v1/applications/crud",
        Some(ADMIN_KEY),
        Some(patch2),
    )
    .await;
    let got = call(
        &app,
        "GET",
        "/api/v1/applications/crud",
        Some(READ_KEY),
        None,
    )
    .await;
    assert_eq!(got.body["description"], "Updated");
    assert_eq!(
        got.body["config"]["allow_prerelease"], true,
        "an earlier patch is kept"
    );
    assert_eq!(got.body["config"]["min_version"], "1.0.0");
    assert_eq!(got.body["name"], "App crud", "omitted fields are kept");

    let empty = call(
        &app,
        "PUT",
        "/api/v1/applications/crud",
        Some(ADMIN_KEY),
        Some(json!({})),
    )
    .await;
    assert_error(&empty, 422, "VALIDATION_ERROR");
    let missing = call(
        &app,
        "PUT",
        "/api/v1/applications/ghost",
        Some(ADMIN_KEY),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_error(&missing, 404, "APPLICATION_NOT_FOUND");
    let deleted = call(
        &app,
        "DELETE",
        "/api/v1/applications/crud",
        Some(ADMIN_KEY),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
}

#[tokio::test]
async fn error_responses_share_one_envelope() {
    let app = router().await;
    let unknown = call(&app, "GET", "/no/such/route", None, None).await;
    assert_error(&unknown, 404, "NOT_FOUND");

    let wrong_method = call(&app, "PATCH", "/api/v1/check", None, None).await;
    assert_error(&wrong_method, 405, "INVALID_REQUEST");
    let allow = wrong_method
        .headers
        .get("allow")
        .expect("405 carries Allow")
        .to_str()
        .unwrap();
    assert!(allow.contains("POST"), "{allow}");

    let wrong_type = send(
        &app,
        Request::post("/api/v1/check")
            .header("content-type", "text/plain")
            .body(Body::from("{}"))
            .unwrap(),
    )
    .await;
    assert_error(&wrong_type, 415, "BAD_REQUEST");

    let malformed = send(
        &app,
        Request::post("/api/v1/check")
            .header("content-type", "application/json")
            .body(Body::from("{\"application_id\": "))
            .unwrap(),
    )
    .await;
    assert_error(&malformed, 400, "INVALID_REQUEST");

    let trailing = send(
        &app,
        Request::post("/api/v1/check")
            .header("content-type", "application/json")
            .body(Body::from("{} {}"))
            .unwrap(),
    )
    .await;
    assert_error(&trailing, 400, "INVALID_REQUEST");

    let not_utf8 = send(
        &app,
        Request::post("/api/v1/check")
            .header("content-type", "application/json")
            .body(Body::from(vec![b'{', 0xff, 0xfe, b'}']))
            .unwrap(),
    )
    .await;
    assert_error(&not_utf8, 400, "INVALID_REQUEST");

    let wrong_shape = call(
        &app,
        "POST",
        "/api/v1/check",
        None,
        Some(json!({"application_id": 5})),
    )
    .await;
    assert_error(&wrong_shape, 422, "VALIDATION_ERROR");
    assert!(
        wrong_shape.body["details"]["application_id"].is_string(),
        "{}",
        wrong_shape.text
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = router().await;
    let big = vec![b' '; 2 * 1024 * 1024];
    let with_length = send(
        &app,
        Request::post("/api/v1/applications")
            .header("authorization", format!("Bearer {WRITE_KEY}"))
            .header("content-type", "application/json")
            .header("content-length", big.len())
            .body(Body::from(big.clone()))
            .unwrap(),
    )
    .await;
    assert_error(&with_length, 413, "BAD_REQUEST");
    let stream = futures_stream(big);
    let chunked = send(
        &app,
        Request::post("/api/v1/applications")
            .header("authorization", format!("Bearer {WRITE_KEY}"))
            .header("content-type", "application/json")
            .body(stream)
            .unwrap(),
    )
    .await;
    assert_error(&chunked, 413, "BAD_REQUEST");
}

fn futures_stream(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn request_ids_are_kept_when_valid_and_replaced_otherwise() {
    let app = router().await;
    let kept = send(
        &app,
        Request::get("/health")
            .header("x-request-id", "trace-abc.123")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(kept.headers["x-request-id"], "trace-abc.123");
    for bad in ["has space", "a\"quote", &"x".repeat(200)] {
        let replaced = send(
            &app,
            Request::get("/health")
                .header("x-request-id", bad)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        let id = replaced.headers["x-request-id"].to_str().unwrap();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 36, "a fresh UUID");
    }
}

#[tokio::test]
async fn security_headers_and_cors() {
    let app = router().await;
    let reply = send(
        &app,
        Request::get("/health")
            .header("origin", "https://evil.example")
            .body(Body::empty())
            .unwrap(),
    )
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
    let cors = router_with(settings).await;
    let allowed = send(
        &cors,
        Request::get("/health")
            .header("origin", "https://app.example.com")
            .body(Body::empty())
            .unwrap(),
    )
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
    let other = send(
        &cors,
        Request::get("/health")
            .header("origin", "https://evil.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(other.headers.get("access-control-allow-origin").is_none());
}

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

fn allowed(key: &str, needed: &str) -> bool {
    matches!(
        (key, needed),
        ("admin", _) | ("write", "read" | "write") | ("read", "read") | ("monitor", "monitor")
    )
}

#[tokio::test]
async fn auth_matrix() {
    let keys = [
        ("admin", ADMIN_KEY),
        ("write", WRITE_KEY),
        ("read", READ_KEY),
        ("monitor", MONITOR_KEY),
    ];
    for (method, uri, body, needed) in protected_routes() {
        for (key_name, key) in keys {
            let app = router().await;
            seed(&app, "matrix", &["1.0.0"]).await;
            seed(&app, "matrix-victim", &[]).await;
            let reply = call(&app, method, uri, Some(key), body.clone()).await;
            if allowed(key_name, needed) {
                assert!(
                    reply.status < 300,
                    "{method} {uri} with {key_name}: {} {}",
                    reply.status,
                    reply.text
                );
            } else {
                assert_error(&reply, 403, "FORBIDDEN");
            }
        }
        let app = router().await;
        let none = call(&app, method, uri, None, body.clone()).await;
        assert_error(&none, 401, "UNAUTHORIZED");
        assert!(
            none.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        let wrong = call(
            &app,
            method,
            uri,
            Some("not-a-configured-key-0000000000000000"),
            body.clone(),
        )
        .await;
        assert_error(&wrong, 401, "UNAUTHORIZED");
        let basic = send(
            &app,
            Request::builder()
                .method(method)
                .uri(uri)
                .header("authorization", "Basic YWRtaW46YWRtaW4=")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_error(&basic, 401, "UNAUTHORIZED");
        let binary = send(
            &app,
            Request::builder()
                .method(method)
                .uri(uri)
                .header("authorization", &b"Bearer \xff\xfe"[..])
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_error(&binary, 401, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn public_routes_need_no_key() {
    let app = router().await;
    seed(&app, "pub", &["1.0.0"]).await;
    for uri in [
        "/health",
        "/api/v1/health",
        "/health/ready",
        "/api/v1/openapi.json",
        "/api/v1/updates/pub/check?current_version=0.1.0&platform=linux&architecture=amd64",
        "/api/v1/updates/pub/latest?platform=linux&architecture=amd64",
        "/api/v1/latest?app_id=pub&platform=linux&architecture=amd64",
    ] {
        let reply = call(&app, "GET", uri, None, None).await;
        assert_eq!(reply.status, 200, "{uri}: {}", reply.text);
    }
}

#[tokio::test]
async fn health_adds_detail_only_for_read_or_monitor_keys() {
    let app = router().await;
    let plain = call(&app, "GET", "/health", None, None).await;
    let keys: Vec<&String> = plain.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["status", "timestamp", "version"]);
    assert_eq!(plain.body["status"], "healthy");
    assert_eq!(plain.body["version"], env!("CARGO_PKG_VERSION"));
    for key in [READ_KEY, MONITOR_KEY, ADMIN_KEY] {
        let detailed = call(&app, "GET", "/health", Some(key), None).await;
        assert_eq!(
            detailed.body["components"]["storage"]["status"], "healthy",
            "{}",
            detailed.text
        );
        assert!(detailed.body["uptime_seconds"].is_u64());
        assert_eq!(detailed.body["build"]["version"], env!("CARGO_PKG_VERSION"));
    }
    let bogus = call(
        &app,
        "GET",
        "/health",
        Some("wrong-key-000000000000000000000000000"),
        None,
    )
    .await;
    assert_eq!(bogus.status, 200);
    assert!(bogus.body.get("components").is_none());
    let ready = call(&app, "GET", "/health/ready", None, None).await;
    assert_eq!(ready.body["status"], "ready");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_checks_by_outcome() {
    let app = router().await;
    seed(&app, "metered", &["2.0.0"]).await;
    call(
        &app,
        "GET",
        "/api/v1/updates/metered/check?current_version=1.0.0&platform=linux&architecture=amd64",
        None,
        None,
    )
    .await;
    call(&app, "GET", "/api/v1/updates/unseen-app-xyz/check?current_version=1.0.0&platform=linux&architecture=amd64", None, None).await;
    let metrics = call(&app, "GET", "/metrics", Some(MONITOR_KEY), None).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text;
    assert!(
        text.contains(
            r#"updater_update_checks_total{application="metered",outcome="update_available"}"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"route="/api/v1/updates/{app_id}/check""#));
    assert!(text.contains("updater_http_request_duration_seconds_bucket"));
    assert!(
        !text.contains("unseen-app-xyz"),
        "unknown ids never become labels"
    );
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_and_spares_probes() {
    let mut settings = test_settings();
    settings.security.rate_limit.enabled = true;
    settings.security.rate_limit.requests_per_minute = 1;
    settings.security.rate_limit.burst = 2;
    let app = router_with(settings).await;
    let uri = "/api/v1/updates/x/check?current_version=1.0.0&platform=linux&architecture=amd64";
    assert_eq!(call(&app, "GET", uri, None, None).await.status, 404);
    assert_eq!(call(&app, "GET", uri, None, None).await.status, 404);
    let limited = call(&app, "GET", uri, None, None).await;
    assert_error(&limited, 429, "RATE_LIMIT_EXCEEDED");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        call(&app, "GET", "/health", None, None).await.status,
        200,
        "probes are exempt"
    );
}

#[tokio::test]
async fn repeated_failed_authentication_locks_the_client_out() {
    let mut settings = test_settings();
    settings.security.auth_failure_limit.failures_per_minute = 3;
    let app = router_with(settings).await;
    for _ in 0..3 {
        let reply = call(
            &app,
            "GET",
            "/api/v1/applications",
            Some("guess-000000000000000000000000000000"),
            None,
        )
        .await;
        assert_eq!(reply.status, 401);
    }
    let locked = call(
        &app,
        "GET",
        "/api/v1/applications",
        Some("guess-000000000000000000000000000000"),
        None,
    )
    .await;
    assert_error(&locked, 429, "RATE_LIMIT_EXCEEDED");
    let valid = call(&app, "GET", "/api/v1/applications", Some(READ_KEY), None).await;
    assert_eq!(
        valid.status, 429,
        "even a right key is refused while locked out"
    );
}

#[tokio::test]
async fn hostile_ids_and_parameters_never_cause_500() {
    let app = router().await;
    seed(&app, "target", &["1.0.0"]).await;
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
        for (method, uri, key) in [
            ("GET", format!("/api/v1/applications/{id}"), Some(READ_KEY)),
            (
                "DELETE",
                format!("/api/v1/applications/{id}"),
                Some(ADMIN_KEY),
            ),
            (
                "GET",
                format!(
                    "/api/v1/updates/{id}/check?current_version=1.0.0&platform=linux&architecture=amd64"
                ),
                None,
            ),
            (
                "GET",
                format!("/api/v1/updates/{id}/releases"),
                Some(READ_KEY),
            ),
            (
                "DELETE",
                format!("/api/v1/updates/target/releases/{id}/linux/amd64"),
                Some(ADMIN_KEY),
            ),
        ] {
            let reply = call(&app, method, &uri, key, None).await;
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
    let traversal = call(&app, "GET", "/api/v1/../../etc/passwd", None, None).await;
    assert_eq!(traversal.status, 404);
    let control = call(&app, "GET", "/api/v1/updates/target/check?current_version=1.0.0%0a&platform=linux%00&architecture=amd64", None, None).await;
    assert_error(&control, 422, "VALIDATION_ERROR");
    let long_query = format!(
        "/api/v1/updates/target/check?current_version={}&platform=linux&architecture=amd64",
        "9".repeat(5000)
    );
    let long = call(&app, "GET", &long_query, None, None).await;
    assert_error(&long, 422, "VALIDATION_ERROR");
    let huge_offset = call(
        &app,
        "GET",
        "/api/v1/applications?offset=18446744073709551616",
        Some(READ_KEY),
        None,
    )
    .await;
    assert_error(&huge_offset, 422, "VALIDATION_ERROR");
}

#[test]
fn a_panic_becomes_a_json_500_without_internals() {
    let response =
        updater::http::error::panic_response(Box::new("secret detail in panic".to_string()));
    assert_eq!(response.status(), 500);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let bytes = runtime.block_on(async {
        use http_body_util::BodyExt;
        response.into_body().collect().await.unwrap().to_bytes()
    });
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["code"], "INTERNAL_ERROR");
    assert!(!String::from_utf8_lossy(&bytes).contains("secret detail"));
}

#[tokio::test]
async fn openapi_document_matches_the_snapshot() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    let current = updater::http::openapi().to_pretty_json().unwrap();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{current}\n")).unwrap();
    }
    let stored =
        std::fs::read_to_string(&path).expect("run with UPDATE_SNAPSHOTS=1 to create the snapshot");
    assert_eq!(
        stored.trim_end(),
        current,
        "the OpenAPI document changed; review and rerun with UPDATE_SNAPSHOTS=1"
    );

    let app = router().await;
    let served = call(&app, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(
        served.body,
        serde_json::from_str::<Value>(&current).unwrap()
    );
    let paths = served.body["paths"].as_object().unwrap();
    for route in [
        "/api/v1/updates/{app_id}/check",
        "/api/v1/check",
        "/api/v1/updates/{app_id}/latest",
        "/api/v1/latest",
        "/api/v1/updates/{app_id}/releases",
        "/api/v1/updates/{app_id}/register",
        "/api/v1/updates/{app_id}/releases/{version}/{platform}/{arch}",
        "/api/v1/applications",
        "/api/v1/applications/{app_id}",
        "/health",
        "/api/v1/health",
        "/health/ready",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(route),
            "{route} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn register_reports_every_problem_and_bounds_file_size() {
    let app = router().await;
    seed(&app, "bounds", &[]).await;
    let mut body = release_body("1.0.0");
    body["platform"] = json!("ios");
    body["architecture"] = json!("mips");
    body["file_size"] = json!(u64::MAX);
    let reply = call(
        &app,
        "POST",
        "/api/v1/updates/bounds/register",
        Some(WRITE_KEY),
        Some(body),
    )
    .await;
    assert_error(&reply, 422, "VALIDATION_ERROR");
    for field in ["platform", "architecture", "file_size"] {
        assert!(
            reply.body["details"][field].is_string(),
            "{field}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn rate_limited_answers_carry_the_security_headers() {
    let mut settings = test_settings();
    settings.security.rate_limit.enabled = true;
    settings.security.rate_limit.requests_per_minute = 1;
    settings.security.rate_limit.burst = 1;
    let app = router_with(settings).await;
    call(&app, "GET", "/api/v1/openapi.json", None, None).await;
    let limited = call(&app, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.headers["x-content-type-options"], "nosniff");
    assert_eq!(limited.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn hsts_is_sent_when_serving_tls() {
    let mut settings = test_settings();
    settings.server.tls.cert_file = "cert.pem".into();
    settings.server.tls.key_file = "key.pem".into();
    let app = router_with(settings).await;
    let reply = call(&app, "GET", "/health", None, None).await;
    assert_eq!(
        reply.headers["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
}

#[tokio::test]
async fn staged_rollout_pause_resume_and_yank_through_the_api() {
    let app = router().await;
    seed(&app, "staged", &["1.0.0"]).await;
    let mut body = release_body("1.1.0");
    body["rollout_percentage"] = json!(10);
    let created = call(
        &app,
        "POST",
        "/api/v1/updates/staged/register",
        Some(WRITE_KEY),
        Some(body),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);

    let check = |id: String| {
        let app = app.clone();
        async move {
            let request = Request::get("/api/v1/updates/staged/check?current_version=1.0.0&platform=linux&architecture=amd64")
                .header("x-install-id", id)
                .body(Body::empty())
                .unwrap();
            send(&app, request).await.body["update_available"] == true
        }
    };
    let mut admitted = Vec::new();
    for i in 0..400 {
        if check(format!("install-{i}")).await {
            admitted.push(format!("install-{i}"));
        }
    }
    assert!(
        (15..=70).contains(&admitted.len()),
        "about 10% of 400: {}",
        admitted.len()
    );
    let by_query = call(&app, "GET", &format!("/api/v1/updates/staged/check?current_version=1.0.0&platform=linux&architecture=amd64&install_id={}", admitted[0]), None, None).await;
    assert_eq!(
        by_query.body["latest_version"], "1.1.0",
        "the query parameter works too"
    );
    let electron = send(
        &app,
        Request::get(
            "/api/v1/updates/staged/check?current_version=1.0.0&platform=linux&architecture=amd64",
        )
        .header("x-user-staging-id", admitted[0].as_str())
        .body(Body::empty())
        .unwrap(),
    )
    .await;
    assert_eq!(
        electron.body["latest_version"], "1.1.0",
        "electron-updater's header works too"
    );
    let anonymous = call(
        &app,
        "GET",
        "/api/v1/updates/staged/check?current_version=1.0.0&platform=linux&architecture=amd64",
        None,
        None,
    )
    .await;
    assert_eq!(
        anonymous.body["update_available"], false,
        "no id: only complete rollouts"
    );
    let bad = call(&app, "GET", "/api/v1/updates/staged/check?current_version=1.0.0&platform=linux&architecture=amd64&install_id=has%20space", None, None).await;
    assert_error(&bad, 422, "VALIDATION_ERROR");

    let uri = "/api/v1/updates/staged/releases/1.1.0/linux/amd64";
    let paused = call(
        &app,
        "PATCH",
        uri,
        Some(ADMIN_KEY),
        Some(json!({"rollout_paused": true})),
    )
    .await;
    assert_eq!(paused.status, 200, "{}", paused.text);
    assert_eq!(paused.body["rollout_paused"], true);
    assert!(
        !check(admitted[0].clone()).await,
        "paused: offered to no one"
    );
    let resumed = call(
        &app,
        "PATCH",
        uri,
        Some(ADMIN_KEY),
        Some(json!({"rollout_paused": false, "rollout_percentage": 100})),
    )
    .await;
    assert_eq!(resumed.body["rollout_percentage"], 100);
    let everyone = call(
        &app,
        "GET",
        "/api/v1/updates/staged/check?current_version=1.0.0&platform=linux&architecture=amd64",
        None,
        None,
    )
    .await;
    assert_eq!(
        everyone.body["latest_version"], "1.1.0",
        "complete rollout reaches installs without an id"
    );

    let yanked = call(
        &app,
        "PATCH",
        uri,
        Some(ADMIN_KEY),
        Some(json!({"yanked": true, "yank_reason": "crashes on start"})),
    )
    .await;
    assert_eq!(yanked.body["yanked"], true);
    assert_eq!(yanked.body["yank_reason"], "crashes on start");
    let after = call(
        &app,
        "GET",
        "/api/v1/updates/staged/check?current_version=1.0.0&platform=linux&architecture=amd64",
        None,
        None,
    )
    .await;
    assert_eq!(
        after.body["update_available"], false,
        "a yanked release is never offered"
    );
    let latest = call(
        &app,
        "GET",
        "/api/v1/updates/staged/latest?platform=linux&architecture=amd64",
        None,
        None,
    )
    .await;
    assert_eq!(latest.body["version"], "1.0.0");

    for (body, field) in [
        (json!({}), "body"),
        (json!({"rollout_percentage": 101}), "rollout_percentage"),
        (json!({"rollout_percentage": 300}), "rollout_percentage"),
    ] {
        let reply = call(&app, "PATCH", uri, Some(ADMIN_KEY), Some(body)).await;
        assert_error(&reply, 422, "VALIDATION_ERROR");
        assert!(reply.body["details"][field].is_string(), "{}", reply.text);
    }
    let unknown = call(
        &app,
        "PATCH",
        "/api/v1/updates/staged/releases/9.9.9/linux/amd64",
        Some(ADMIN_KEY),
        Some(json!({"yanked": true})),
    )
    .await;
    assert_error(&unknown, 404, "NOT_FOUND");
    let forbidden = call(
        &app,
        "PATCH",
        uri,
        Some(WRITE_KEY),
        Some(json!({"yanked": false})),
    )
    .await;
    assert_error(&forbidden, 403, "FORBIDDEN");
    let mut over = release_body("1.2.0");
    over["rollout_percentage"] = json!(150);
    let refused = call(
        &app,
        "POST",
        "/api/v1/updates/staged/register",
        Some(WRITE_KEY),
        Some(over),
    )
    .await;
    assert_error(&refused, 422, "VALIDATION_ERROR");
}
