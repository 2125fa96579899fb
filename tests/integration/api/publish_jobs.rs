//! `verify_on_register` for a multi-target publish: every file of every new
//! target is verified before anything is stored, and a publish whose
//! verification outlasts the request becomes a job polled through
//! `GET /api/v1/jobs/{id}`.

use std::time::Duration;

use serde_json::{Value, json};

use super::publish::{pairs, publish_body, release_ids, statuses, target};
use crate::common::{ArtifactServer, TestApp, app_body, sha256_hex, sha512_hex, test_settings};

/// An application with `verify_on_register`, with downloads from loopback
/// allowed and the request deadline short, so a held download outlasts it.
async fn verifying(request_timeout: Duration) -> (TestApp, ArtifactServer) {
    let mut settings = test_settings();
    settings.server.request_timeout = request_timeout;
    settings
        .security
        .artifact_verification
        .allow_private_addresses = true;
    let app = TestApp::with_settings(settings).await;
    app.admin()
        .create_app(
            &json!({"id": "demo", "name": "Demo", "platforms": ["linux", "darwin"],
                            "config": {"verify_on_register": true}}),
        )
        .await
        .assert_status(201);
    (app, ArtifactServer::start().await)
}

fn served(artifacts: &ArtifactServer, name: &str, bytes: &[u8]) -> Value {
    json!({"url": artifacts.put(name, bytes), "size": bytes.len(),
           "sha256": sha256_hex(bytes), "sha512": sha512_hex(bytes)})
}

#[tokio::test]
async fn every_file_is_verified_before_anything_is_stored() {
    let (app, artifacts) = verifying(Duration::from_secs(30)).await;
    let good = |version: &str| {
        publish_body(
            version,
            vec![
                target(
                    "linux",
                    "amd64",
                    vec![
                        served(&artifacts, "demo.AppImage", b"appimage bytes"),
                        served(&artifacts, "demo.deb", b"deb bytes"),
                    ],
                ),
                target(
                    "darwin",
                    "arm64",
                    vec![served(&artifacts, "demo.app.tar.gz", b"app bytes")],
                ),
            ],
        )
    };
    let reply = app.publisher().publish("demo", &good("1.0.0")).await;
    reply.assert_status(201);
    assert_eq!(reply.body["verified"], true);

    // The second target's file is not what the CDN serves.
    let mut tampered = good("1.1.0");
    tampered["targets"][1]["files"][0]["sha256"] = json!(sha256_hex(b"other bytes"));
    let reply = app.publisher().publish("demo", &tampered).await;
    assert!(
        reply
            .field_error("targets[1].files[0].sha256")
            .contains("does not match"),
        "{}",
        reply.text
    );
    assert_eq!(reply.body["details"].as_object().unwrap().len(), 1);
    assert_eq!(
        release_ids(&app).await,
        ["demo-1.0.0-darwin-arm64", "demo-1.0.0-linux-amd64"],
        "no target of 1.1.0 is stored"
    );
}

#[tokio::test]
async fn a_slow_download_turns_the_publish_into_a_job_that_succeeds() {
    let (app, artifacts) = verifying(Duration::from_millis(400)).await;
    let bytes = b"a large installer".to_vec();
    let gate = artifacts.hold("demo.AppImage");
    let body = publish_body(
        "1.0.0",
        vec![
            target(
                "linux",
                "amd64",
                vec![served(&artifacts, "demo.AppImage", &bytes)],
            ),
            target(
                "darwin",
                "arm64",
                vec![served(&artifacts, "demo.zip", b"zip")],
            ),
        ],
    );
    let reply = app.publisher().publish("demo", &body).await;
    reply.assert_status(202);
    let job = reply.body["job"]["id"].as_str().unwrap().to_string();
    assert_eq!(reply.body["job"]["status"], "running");
    assert_eq!(reply.header("location"), format!("/api/v1/jobs/{job}"));
    assert_eq!(reply.body["job"]["url"], format!("/api/v1/jobs/{job}"));

    let running = app.publisher().job(&job).await;
    running.assert_status(200);
    assert_eq!(running.body["status"], "running");
    assert_eq!(running.body["application_id"], "demo");
    assert_eq!(running.body["version"], "1.0.0");
    assert!(running.body.get("finished_at").is_none());
    assert!(
        release_ids(&app).await.is_empty(),
        "nothing appears before every file passed"
    );

    app.admin()
        .create_app(&app_body("other"))
        .await
        .assert_status(201);
    let scoped = app.key_for(&["publish"], Some(&["other"])).await;
    app.with_key(&scoped.token)
        .job(&job)
        .await
        .assert_error(403, "FORBIDDEN");
    app.reader().job(&job).await.assert_error(403, "FORBIDDEN");
    app.publisher()
        .job("job_unknown")
        .await
        .assert_error(404, "NOT_FOUND");

    gate.release();
    let done = app.publisher().await_job(&job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(done["finished_at"].is_string());
    assert_eq!(done["result"]["status"], "published");
    assert_eq!(done["result"]["verified"], true);
    assert_eq!(
        statuses(&done["result"]),
        pairs(&[("linux/amd64", "published"), ("darwin/arm64", "published")])
    );
    assert_eq!(release_ids(&app).await.len(), 2);

    // Re-running the same publish is a plain 200: nothing new to download.
    let rerun = app.publisher().publish("demo", &body).await;
    rerun.assert_status(200);
}

#[tokio::test]
async fn a_tampered_file_behind_a_slow_download_fails_its_job_naming_the_file() {
    let (app, artifacts) = verifying(Duration::from_millis(400)).await;
    let gate = artifacts.hold("demo.zip");
    let mut lie = served(&artifacts, "demo.zip", b"the real zip");
    lie["sha512"] = json!(sha512_hex(b"what the build made"));
    let body = publish_body(
        "1.0.0",
        vec![
            target(
                "linux",
                "amd64",
                vec![served(&artifacts, "demo.AppImage", b"appimage")],
            ),
            target(
                "darwin",
                "arm64",
                vec![served(&artifacts, "demo.dmg", b"dmg"), lie],
            ),
        ],
    );
    let reply = app.publisher().publish("demo", &body).await;
    reply.assert_status(202);
    let job = reply.body["job"]["id"].as_str().unwrap().to_string();
    gate.release();
    let done = app.publisher().await_job(&job).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "VALIDATION_ERROR");
    let problem = done["error"]["details"]["targets[1].files[1].sha512"]
        .as_str()
        .unwrap_or_else(|| panic!("{done}"));
    assert!(problem.contains("does not match"), "{problem}");
    assert!(done.get("result").is_none());
    assert!(release_ids(&app).await.is_empty(), "no target is stored");
}
