//! Replicas of the real binary on PostgreSQL or SQLite, and the API calls the
//! fault tests make against them over real sockets.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::{APP, EVENTUALLY, LATEST};

pub fn pg_env(url: &str, drain_delay: &str) -> Vec<(String, String)> {
    [
        ("UPDATER_STORAGE__TYPE", "postgres"),
        ("UPDATER_STORAGE__POSTGRES__URL", url),
        ("UPDATER_STORAGE__POSTGRES__ACQUIRE_TIMEOUT", "1s"),
        ("UPDATER_SERVER__DRAIN_DELAY", drain_delay),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Starts the real binary on `port` (blocking; the test body runs outside
/// the runtime's worker threads, so load tasks keep running). A log left by
/// an earlier process on the same port is kept as `server-<port>.log.<n>`.
pub fn spawn(dir: &Path, port: u16, env: &[(String, String)]) -> ChildServer {
    let log = dir.join(format!("server-{port}.log"));
    if log.exists() {
        let n = (1..)
            .find(|n| !dir.join(format!("server-{port}.log.{n}")).exists())
            .unwrap();
        std::fs::rename(&log, dir.join(format!("server-{port}.log.{n}"))).unwrap();
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    ChildServer::spawn_with_env(dir, port, &env)
}

pub fn logs(dir: &Path) -> String {
    let mut out = String::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("server-"))
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let interesting: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains("\"message\":\"request\"") || l.contains("\"status\":5"))
            .collect();
        let tail = &interesting[interesting.len().saturating_sub(40)..];
        out.push_str(&format!("--- {}\n{}\n", path.display(), tail.join("\n")));
    }
    out
}

pub async fn wait_ready(base: &str) {
    let client = http();
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        let status = client
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if status == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{base} never became ready ({status})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn latest(client: &reqwest::Client, base: &str) -> Result<String, String> {
    let response = client
        .get(format!(
            "{base}/api/v1/updates/{APP}/check?current_version=0.1.0&platform=linux&architecture=amd64"
        ))
        .send()
        .await
        .map_err(|e| format!("transport: {e} ({:?})", std::error::Error::source(&e)))?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|e| format!("{status}, body unreadable: {e}"))?;
    if status != 200 {
        return Err(format!("{status} {text}"));
    }
    let body: Value = serde_json::from_str(&text).map_err(|_| format!("{status} {text}"))?;
    body["latest_version"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{status} {text}"))
}

pub async fn register(client: &reqwest::Client, base: &str, version: &str) -> Result<u16, String> {
    client
        .post(format!("{base}/api/v1/updates/{APP}/register"))
        .bearer_auth(ADMIN_KEY)
        .json(&release_body(version))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

pub async fn create_app(base: &str) {
    let created = http()
        .post(format!("{base}/api/v1/applications"))
        .bearer_auth(ADMIN_KEY)
        .json(&app_body(APP))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
}

/// Every version listed by `base`, duplicates included, paging through.
pub async fn listed_versions(client: &reqwest::Client, base: &str) -> Result<Vec<String>, String> {
    let mut versions = Vec::new();
    loop {
        let response = client
            .get(format!(
                "{base}/api/v1/updates/{APP}/releases?limit=1000&offset={}",
                versions.len()
            ))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        let short = || body.to_string().chars().take(300).collect::<String>();
        if status != 200 {
            return Err(format!("{status} {}", short()));
        }
        let page = body["releases"].as_array().ok_or_else(short)?;
        versions.extend(
            page.iter()
                .map(|r| r["version"].as_str().unwrap_or_default().to_string()),
        );
        let has_more = body["has_more"].as_bool().ok_or_else(short)?;
        if page.is_empty() || !has_more {
            return Ok(versions);
        }
    }
}

pub fn duplicates(versions: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    versions
        .iter()
        .filter(|v| !seen.insert(v.as_str()))
        .cloned()
        .collect()
}

/// Three PostgreSQL replicas in `dir`, `demo` created with `LATEST`, and
/// every replica offering it.
pub async fn three_replicas(dir: &Path, env: &[(String, String)]) -> Vec<ChildServer> {
    write_config(dir, "");
    let replicas: Vec<ChildServer> = (0..3).map(|_| spawn(dir, free_port(), env)).collect();
    create_app(&replicas[0].base).await;
    assert_eq!(register(&http(), &replicas[0].base, LATEST).await, Ok(201));
    let client = http();
    for replica in &replicas {
        wait_ready(&replica.base).await;
        let deadline = Instant::now() + EVENTUALLY;
        while latest(&client, &replica.base).await.as_deref() != Ok(LATEST) {
            assert!(
                Instant::now() < deadline,
                "{} never saw {LATEST}",
                replica.base
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    replicas
}
