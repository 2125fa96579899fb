//! `updater publish --upload s3://…` against a real S3 implementation:
//! moto's server (PyPI `moto[server]`) on loopback, started here. The
//! objects are read back (signed, with object_store) and compared byte for
//! byte with the local files.
//! Without `moto_server` on PATH the test is skipped, except under CI=true.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::durability::blocking_client;

struct Moto {
    child: Child,
    base: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Option<Moto> {
    let port = free_port();
    let spawned = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match spawned {
        Ok(child) => child,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("moto_server is required under CI=true (.ci/run installs it): {e}")
        }
        Err(e) => {
            eprintln!("skipped: moto_server not runnable ({e}); pip install 'moto[server]'");
            return None;
        }
    };
    let moto = Moto {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(moto)
}

#[test]
fn upload_then_register_and_the_objects_are_the_files() {
    let Some(moto) = start_moto() else { return };
    let http = blocking_client();
    let created = http.put(format!("{}/updates", moto.base)).send().unwrap();
    assert!(created.status().is_success(), "{}", created.text().unwrap());

    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let server = ChildServer::spawn(dir.path(), free_port());
    let app = http
        .post(format!("{}/api/v1/applications", server.base))
        .bearer_auth(ADMIN_KEY)
        .json(&app_body("demo"))
        .send()
        .unwrap();
    assert!(app.status().is_success());

    let electron = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/build-outputs/1.2.0/electron");
    let output = Command::new(binary())
        .args([
            "publish",
            "--server",
            &server.base,
            "--app",
            "demo",
            "--version",
            "1.2.0",
        ])
        .args([
            "--upload",
            "s3://updates/{app}/{version}",
            "--s3-endpoint",
            &moto.base,
        ])
        .args([
            "--base-url",
            "https://cdn.example.com/{app}/{version}/",
            "--json",
        ])
        .arg(&electron)
        .env("UPDATER_TOKEN", ADMIN_KEY)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing-secret")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("testing-secret") && !stderr.contains(ADMIN_KEY));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["status"], "published", "{report}");

    // Read back with credentials, as a CDN in front of the bucket would.
    let store = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&moto.base)
        .with_allow_http(true)
        .with_bucket_name("updates")
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing-secret")
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for name in [
        "Demo-1.2.0.AppImage",
        "Demo-1.2.0-arm64-mac.zip",
        "Demo-1.2.0-arm64-mac.zip.blockmap",
        "Demo Setup 1.2.0.exe",
        "Demo Setup 1.2.0.exe.blockmap",
    ] {
        use object_store::ObjectStore;
        let path = object_store::path::Path::from(format!("demo/1.2.0/{name}"));
        let bytes = runtime
            .block_on(async { store.get(&path).await?.bytes().await })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            bytes.as_ref(),
            std::fs::read(electron.join(name)).unwrap(),
            "{name}"
        );
    }
}
