//! Test helpers: the production router in-process, the server on a real
//! socket, and the real binary as a child process.
#![allow(dead_code)] // each test crate uses a different part of this module

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, Response};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use updater::config::{ApiKeySettings, Permission, Secret, Settings, StorageType};
use updater::http::AppState;
use updater::registry::Registry;
use updater::store::MemoryStore;

pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdef0123456789";
pub const WRITE_KEY: &str = "test-write-key-0123456789abcdef0123456789";
pub const READ_KEY: &str = "test-read-key-0123456789abcdef01234567890";
pub const MONITOR_KEY: &str = "test-monitor-key-0123456789abcdef012345678";
pub const SHA256: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn key(name: &str, key: &str, permission: Permission) -> ApiKeySettings {
    ApiKeySettings {
        name: name.into(),
        key: Secret::new(key),
        key_hash: String::new(),
        permissions: vec![permission],
    }
}

/// Settings for tests: memory store, the four test keys, no rate limit.
pub fn test_settings() -> Settings {
    let mut settings = Settings::default();
    settings.storage.kind = StorageType::Memory;
    settings.server.port = 0;
    settings.security.rate_limit.enabled = false;
    settings.security.auth_failure_limit.failures_per_minute = 10_000;
    settings.security.api_keys = vec![
        key("admin", ADMIN_KEY, Permission::Admin),
        key("publisher", WRITE_KEY, Permission::Write),
        key("reader", READ_KEY, Permission::Read),
        key("monitoring", MONITOR_KEY, Permission::Monitor),
    ];
    settings
}

/// The production router over a memory store, driven without sockets.
pub async fn router_with(settings: Settings) -> Router {
    let registry = Registry::open(std::sync::Arc::new(MemoryStore::new()))
        .await
        .unwrap();
    let state = AppState::new(
        settings,
        registry,
        Some(updater::telemetry::metrics_handle()),
    )
    .unwrap();
    updater::http::build_router(state)
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))))
}

pub async fn router() -> Router {
    router_with(test_settings()).await
}

pub struct Reply {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response: Response<Body> = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

pub fn request(method: &str, uri: &str, key: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(key) = key {
        builder = builder.header("authorization", format!("Bearer {key}"));
    }
    match body {
        Some(json) => builder
            .header("content-type", "application/json")
            .body(Body::from(json.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

pub async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Reply {
    send(router, request(method, uri, key, body)).await
}

pub fn app_body(id: &str) -> Value {
    serde_json::json!({"id": id, "name": format!("App {id}"), "platforms": ["linux", "windows", "darwin"]})
}

pub fn release_body(version: &str) -> Value {
    serde_json::json!({
        "version": version,
        "platform": "linux",
        "architecture": "amd64",
        "download_url": format!("https://cdn.example.com/app-{version}.tar.gz"),
        "checksum": SHA256,
        "file_size": 1024
    })
}

/// Creates `app` and registers each version for linux/amd64.
pub async fn seed(router: &Router, app: &str, versions: &[&str]) {
    let created = call(
        router,
        "POST",
        "/api/v1/applications",
        Some(ADMIN_KEY),
        Some(app_body(app)),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    for version in versions {
        let uri = format!("/api/v1/updates/{app}/register");
        let reply = call(
            router,
            "POST",
            &uri,
            Some(WRITE_KEY),
            Some(release_body(version)),
        )
        .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
}

/// The server in-process on a real ephemeral port.
pub struct LiveServer {
    pub base: String,
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl LiveServer {
    pub async fn start(settings: Settings) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(updater::app::run(settings, listener, None, async move {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{addr}"),
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_updater"))
}

/// The real binary, configured by a YAML file in `dir`, on `port`.
pub struct ChildServer {
    pub child: Child,
    pub port: u16,
    pub base: String,
}

pub fn write_config(dir: &Path, extra_yaml: &str) -> PathBuf {
    let data = dir.join("data");
    let config = format!(
        r#"test:
  server:
    host: 127.0.0.1
    drain_delay: 0s
  storage:
    type: sqlite
    data_dir: {data}
  security:
    rate_limit:
      enabled: false
    api_keys:
      - name: admin
        key: {ADMIN_KEY}
        permissions: [admin]
  logging:
    level: info
    format: json
{extra_yaml}"#,
        data = data.display()
    );
    let path = dir.join("config.yaml");
    std::fs::write(&path, config).unwrap();
    path
}

impl ChildServer {
    pub fn spawn(dir: &Path, port: u16) -> Self {
        Self::spawn_with_env(dir, port, &[])
    }

    pub fn spawn_with_env(dir: &Path, port: u16, env: &[(&str, &str)]) -> Self {
        let config = dir.join("config.yaml");
        let log = std::fs::File::create(dir.join(format!("server-{port}.log"))).unwrap();
        let child = Command::new(binary())
            .args([
                "--config",
                config.to_str().unwrap(),
                "--section",
                "test",
                "serve",
            ])
            .env("UPDATER_SERVER__PORT", port.to_string())
            .env_remove("UPDATER_CONFIG_SECTION")
            .envs(env.iter().copied())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let server = Self {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
        };
        server.wait_healthy(dir);
        server
    }

    fn wait_healthy(&self, dir: &Path) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(dir.join(format!("server-{}.log", self.port)))
            .unwrap_or_default();
        panic!("server did not start on port {}:\n{log}", self.port);
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for exit and returns the exit code.
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        None
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

type ArtifactFiles = std::sync::Arc<parking_lot::Mutex<std::collections::HashMap<String, Vec<u8>>>>;

/// Artifacts served over real HTTP on loopback, as a CDN would; the bytes
/// behind a path can be swapped to simulate tampering.
pub struct ArtifactServer {
    pub base: String,
    files: ArtifactFiles,
    task: tokio::task::JoinHandle<()>,
}

impl ArtifactServer {
    pub async fn start() -> Self {
        use axum::extract::{Path as UrlPath, State};
        let files: ArtifactFiles = Default::default();
        let app = Router::new()
            .route(
                "/files/{name}",
                axum::routing::get(
                    |State(files): State<ArtifactFiles>,
                     UrlPath(name): UrlPath<String>| async move {
                        match files.lock().get(&name) {
                            Some(bytes) => (axum::http::StatusCode::OK, bytes.clone()),
                            None => (axum::http::StatusCode::NOT_FOUND, Vec::new()),
                        }
                    },
                ),
            )
            .with_state(files.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, files, task }
    }

    /// Serves `bytes` at `/files/<name>` and returns the URL.
    pub fn put(&self, name: &str, bytes: &[u8]) -> String {
        self.files.lock().insert(name.to_string(), bytes.to_vec());
        format!("{}/files/{name}", self.base)
    }
}

impl Drop for ArtifactServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

pub fn sha512_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha512::digest(bytes))
}

/// A minisign key pair as Tauri uses it.
pub struct TauriKeys {
    pub public: minisign::PublicKey,
    pub secret: minisign::SecretKey,
}

impl TauriKeys {
    pub fn generate() -> Self {
        let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        Self {
            public: pair.pk,
            secret: pair.sk,
        }
    }

    /// `tauri.conf.json`'s `pubkey`: base64 of the public key file.
    pub fn tauri_public_key(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.public.to_box().unwrap().to_string())
    }

    /// The `.sig` file `tauri signer sign` writes: base64 of the signature text.
    pub fn sign(&self, bytes: &[u8], file: &str, version: &str) -> String {
        use base64::Engine;
        let comment = format!("timestamp:1700000000\tfile:{file}\tversion:{version}");
        let signature = minisign::sign(
            Some(&self.public),
            &self.secret,
            std::io::Cursor::new(bytes),
            Some(&comment),
            None,
        )
        .unwrap();
        base64::engine::general_purpose::STANDARD.encode(signature.to_string())
    }
}

/// A throwaway PostgreSQL cluster from Debian's `postgresql` binaries:
/// `initdb` in a temporary directory, a free loopback port, password
/// authentication. Dropped, it stops and disappears. As root, the server
/// runs as the `postgres` user (PostgreSQL refuses to run as root).
pub struct PgCluster {
    pub port: u16,
    pub password: String,
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    /// Extra `postgres` options (TLS).
    options: String,
}

impl PgCluster {
    /// `None` (with the reason printed) when PostgreSQL is not installed and
    /// `CI` is not `true`; under CI a missing server is a failure.
    pub fn start() -> Option<Self> {
        Self::start_with(|_| String::new())
    }

    /// A cluster that speaks TLS with a certificate for `localhost` and
    /// `127.0.0.1`, signed by a fresh CA; returns the CA certificate's path.
    pub fn start_tls() -> Option<(Self, PathBuf)> {
        let mut ca_path = PathBuf::new();
        let cluster = Self::start_with(|dir| {
            let ca_key = rcgen::KeyPair::generate().unwrap();
            let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            let ca = ca_params.self_signed(&ca_key).unwrap();
            let server_key = rcgen::KeyPair::generate().unwrap();
            let server = rcgen::CertificateParams::new(vec![
                "localhost".to_string(),
                "127.0.0.1".to_string(),
            ])
            .unwrap()
            .signed_by(&server_key, &ca, &ca_key)
            .unwrap();
            ca_path = dir.join("ca.pem");
            std::fs::write(&ca_path, ca.pem()).unwrap();
            std::fs::write(dir.join("server.pem"), server.pem()).unwrap();
            std::fs::write(dir.join("server.key"), server_key.serialize_pem()).unwrap();
            std::fs::set_permissions(
                dir.join("server.key"),
                std::os::unix::fs::PermissionsExt::from_mode(0o600),
            )
            .unwrap();
            format!(
                " -c ssl=on -c ssl_cert_file={0}/server.pem -c ssl_key_file={0}/server.key",
                dir.display()
            )
        })?;
        Some((cluster, ca_path))
    }

    fn start_with(prepare: impl FnOnce(&Path) -> String) -> Option<Self> {
        let Some(bin) = Self::binaries() else {
            let message = "PostgreSQL binaries not found (install Debian's `postgresql` package)";
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{message}; CI=true requires them");
            }
            eprintln!("SKIPPED: {message}");
            return None;
        };
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let dir = tempfile::tempdir().unwrap();
        let password = "pw-9f1c2e7a-do-not-log".to_string();
        std::fs::write(dir.path().join("pwfile"), &password).unwrap();
        let options = prepare(dir.path());
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres", dir.path().to_str().unwrap()])
                .status()
                .unwrap();
            assert!(status.success());
        }
        let cluster = Self {
            port: free_port(),
            password,
            bin,
            as_postgres,
            dir,
            options,
        };
        let data = cluster.dir.path().join("data");
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "updater",
                "--auth=scram-sha-256",
                "--pwfile",
                cluster.dir.path().join("pwfile").to_str().unwrap(),
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.pg_ctl("start");
        Some(cluster)
    }

    fn binaries() -> Option<PathBuf> {
        let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path().join("bin"))
            .filter(|bin| bin.join("initdb").exists())
            .collect();
        candidates.sort();
        candidates.pop()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .env("PGPASSWORD", &self.password)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub fn pg_ctl(&self, action: &str) {
        let data = self.dir.path().join("data");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off{}",
            self.port,
            self.dir.path().display(),
            self.options
        );
        let log = self.dir.path().join("server.log");
        let mut args = vec![
            action,
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "30",
        ];
        if action != "stop" {
            args.extend(["-o", options.as_str()]);
        } else {
            args.extend(["-m", "fast"]);
        }
        self.run("pg_ctl", &args);
    }

    /// A URL to a new, empty database named `name`.
    pub fn database(&self, name: &str) -> String {
        self.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "updater",
                name,
            ],
        );
        self.url(name)
    }

    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://updater:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        if data.join("postmaster.pid").exists() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.pg_ctl("stop")));
        }
    }
}
