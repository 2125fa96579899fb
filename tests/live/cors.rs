//! CORS over a real socket: a browser's preflight for `PATCH` (a rollout
//! change) is answered, only for a listed origin, and the `PATCH` then works.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

const ALLOWED: &str = "https://console.example.com";
const RELEASE: &str = "/api/v1/updates/web/releases/1.5.0/linux/amd64";

async fn preflight(
    client: &reqwest::Client,
    url: &str,
    origin: &str,
    method: &str,
) -> reqwest::Response {
    client
        .request(Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-request-id",
        )
        .send()
        .await
        .unwrap()
}

fn header<'a>(reply: &'a reqwest::Response, name: &str) -> &'a str {
    reply
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_preflighted_patch_from_an_allowed_origin_changes_the_rollout() {
    let mut settings = test_settings();
    settings.server.cors.allowed_origins = vec![ALLOWED.into()];
    let server = LiveServer::start(settings).await;
    let client = http();
    for (path, body) in [
        ("/api/v1/applications", app_body("web")),
        ("/api/v1/updates/web/register", release_body("1.5.0")),
    ] {
        let created = client
            .post(format!("{}{path}", server.base))
            .bearer_auth(ADMIN_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201, "{path}");
    }
    let release = format!("{}{RELEASE}", server.base);

    let allowed = preflight(&client, &release, ALLOWED, "PATCH").await;
    assert!(
        allowed.status().is_success(),
        "preflight: {}",
        allowed.status()
    );
    assert_eq!(header(&allowed, "access-control-allow-origin"), ALLOWED);
    let methods = header(&allowed, "access-control-allow-methods");
    assert!(methods.contains("PATCH"), "allowed methods: {methods}");
    let headers = header(&allowed, "access-control-allow-headers").to_ascii_lowercase();
    for needed in ["authorization", "content-type", "x-request-id"] {
        assert!(headers.contains(needed), "allowed headers: {headers}");
    }

    // A route with only a GET handler answers the preflight too, not 405.
    let check = format!(
        "{}/api/v1/updates/web/check?current_version=1.0.0&platform=linux&architecture=amd64",
        server.base
    );
    let get_only = preflight(&client, &check, ALLOWED, "GET").await;
    assert!(
        get_only.status().is_success(),
        "preflight: {}",
        get_only.status()
    );
    assert_eq!(header(&get_only, "access-control-allow-origin"), ALLOWED);

    let other = preflight(&client, &release, "https://evil.example", "PATCH").await;
    assert!(
        other.headers().get("access-control-allow-origin").is_none(),
        "an unlisted origin is not allowed"
    );

    let patched = client
        .patch(&release)
        .header("origin", ALLOWED)
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"rollout_percentage": 25}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(header(&patched, "access-control-allow-origin"), ALLOWED);
    let body: Value = patched.json().await.unwrap();
    assert_eq!(body["rollout_percentage"], 25, "{body}");
    server.stop().await;
}
