//! Readiness follows the SQLite file itself: `SELECT 1` keeps answering
//! from open descriptors after the file is removed or made unwritable, so
//! `/health/ready` checks the file too (as it checks a PostgreSQL server).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::sut::StorageType;
use crate::common::*;

/// Readiness is re-checked every 5 s.
const NOTICED_WITHIN: Duration = Duration::from_secs(15);

async fn sqlite_server(dir: &Path) -> LiveServer {
    let mut settings = test_settings();
    settings.storage.kind = StorageType::Sqlite;
    settings.storage.data_dir = dir.to_path_buf();
    let server = LiveServer::start(settings).await;
    ready_becomes(&server.base, 200).await;
    server
}

async fn ready_becomes(base: &str, status: u16) {
    let deadline = Instant::now() + NOTICED_WITHIN;
    loop {
        let seen = http()
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if seen == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{base}/health/ready stayed {seen}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn database_file(dir: &Path) -> std::path::PathBuf {
    let settings = test_settings();
    dir.join(&settings.storage.sqlite.file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_database_file_makes_the_service_unready() {
    let dir = tempfile::tempdir().unwrap();
    let server = sqlite_server(dir.path()).await;
    let file = database_file(dir.path());
    std::fs::remove_file(&file).unwrap();
    ready_becomes(&server.base, 503).await;
    // Writes would land in a file nobody can open again: refused.
    let created = http()
        .post(format!("{}/api/v1/applications", server.base))
        .bearer_auth(ADMIN_KEY)
        .json(&app_body("lost"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 503, "{}", created.text().await.unwrap());
    server.stop().await;
}

/// Root ignores file modes, so the file is made immutable (`chattr +i`)
/// when running as root, read-only otherwise.
fn make_unwritable(file: &Path, unwritable: bool) -> bool {
    let as_root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    if as_root {
        let flag = if unwritable { "+i" } else { "-i" };
        return Command::new("chattr")
            .arg(flag)
            .arg(file)
            .status()
            .is_ok_and(|s| s.success());
    }
    let mut permissions = std::fs::metadata(file).unwrap().permissions();
    permissions.set_readonly(unwritable);
    std::fs::set_permissions(file, permissions).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_database_file_makes_the_service_unready_until_it_is_writable_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = sqlite_server(dir.path()).await;
    let file = database_file(dir.path());
    if !make_unwritable(&file, true) {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "cannot make {} unwritable (chattr +i needs a file system that supports it)",
            file.display()
        );
        eprintln!("skipping: cannot make {} unwritable here", file.display());
        server.stop().await;
        return;
    }
    ready_becomes(&server.base, 503).await;
    assert!(make_unwritable(&file, false));
    ready_becomes(&server.base, 200).await;
    server.stop().await;
}
