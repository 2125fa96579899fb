//! Drives the real `tauri-plugin-updater` 2.14.1 (hosted by `tauri` 2.12.5's headless
//! `MockRuntime`) against the real `updater` binary's Tauri dynamic endpoint.
//!
//! Needs env `UPDATER_BIN` = path to the `updater` binary. Each test starts its own server
//! (temp config, temp SQLite dir, free port) and its own local artifact server.
//!
//! Nothing here calls `Update::install()`: `download()` already fetches the artifact and verifies
//! its minisign signature against the app's `pubkey`, which is what we want to prove.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tauri_plugin_updater::UpdaterExt;

const ADMIN_KEY: &str = "test-admin-key-0123456789abcdef0123456789";
const APP_ID: &str = "demo";
const NEW_VERSION: &str = "1.1.0";
const ARTIFACT_NAME: &str = "demo-1.1.0.AppImage";
const RELEASE_NOTES: &str = "Tauri client test release";
const RELEASE_DATE: &str = "2026-01-02T03:04:05Z";
const PLUGIN_UA: &str = "tauri-plugin-updater/2.14.1";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

// ---------------------------------------------------------------------------------------------
// Minimal blocking HTTP/1.1 client (Connection: close), enough for seeding and raw checks.
// ---------------------------------------------------------------------------------------------

struct RawResponse {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl RawResponse {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response body is not JSON ({e}): {}", self.text()))
    }
}

fn http_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> std::io::Result<RawResponse> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let body_bytes = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if body.is_some() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body_bytes.len()));
    stream.write_all(req.as_bytes())?;
    stream.write_all(&body_bytes)?;

    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap(), 16)
                .map_err(std::io::Error::other)?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------------------------
// The real updater server
// ---------------------------------------------------------------------------------------------

struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let bin = match std::env::var_os("UPDATER_BIN") {
            Some(v) if !v.is_empty() => PathBuf::from(v),
            _ => panic!(
                "UPDATER_BIN is not set: point it at the updater binary, e.g. \
                 UPDATER_BIN=/work/main/target/debug/updater cargo test (or use run.sh)"
            ),
        };
        assert!(bin.is_file(), "UPDATER_BIN={} is not a file", bin.display());
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let data = dir.path().join("data");
        let config = dir.path().join("config.yaml");
        std::fs::write(
            &config,
            format!(
                "test:\n  server:\n    host: 127.0.0.1\n    port: {port}\n    drain_delay: 0s\n  \
                 storage:\n    type: sqlite\n    data_dir: {}\n  security:\n    \
                 allow_http_download_urls: true\n    rate_limit:\n      enabled: false\n    \
                 api_keys:\n      - name: admin\n        key: {ADMIN_KEY}\n        \
                 permissions: [admin]\n  logging:\n    level: info\n    format: json\n",
                data.display()
            ),
        )
        .unwrap();
        let log = dir.path().join("server.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(&bin);
        // The server rejects every unknown `UPDATER_*` variable (our own UPDATER_BIN included)
        // and UPDATER_CONFIG_SECTION would override `--section`: hand it none of them.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("UPDATER_") {
                cmd.env_remove(&key);
            }
        }
        let child = cmd
            .arg("--config")
            .arg(&config)
            .args(["--section", "test", "serve"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut server = Server {
            child,
            port,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http_request(port, "GET", "/health", &[], None) {
                if r.status == 200 {
                    break;
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "updater exited early ({status}); log:\n{}",
                    server.log_text()
                );
            }
            if Instant::now() > deadline {
                panic!("updater not healthy after 30s; log:\n{}", server.log_text());
            }
            thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn admin(&self, method: &str, path: &str, body: &Value) -> RawResponse {
        let auth = format!("Bearer {ADMIN_KEY}");
        http_request(
            self.port,
            method,
            path,
            &[("Authorization", &auth)],
            Some(body),
        )
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    fn get(&self, path: &str) -> RawResponse {
        http_request(self.port, "GET", path, &[], None)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    fn tauri_endpoint(&self) -> String {
        format!(
            "http://127.0.0.1:{}/tauri/{APP_ID}/stable/{{{{target}}}}/{{{{arch}}}}/{{{{current_version}}}}",
            self.port
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("---- updater server log ----\n{}", self.log_text());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Local artifact server: serves `bytes` for any GET, records every request.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct SeenRequest {
    path: String,
    headers: HashMap<String, String>,
}

struct ArtifactServer {
    port: u16,
    bytes: Arc<Mutex<Vec<u8>>>,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
}

impl ArtifactServer {
    fn start(bytes: Vec<u8>) -> ArtifactServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bytes = Arc::new(Mutex::new(bytes));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (b, s) = (bytes.clone(), seen.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (b, s) = (b.clone(), s.clone());
                thread::spawn(move || {
                    let _ = serve_one(stream, &b, &s);
                });
            }
        });
        ArtifactServer { port, bytes, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/{ARTIFACT_NAME}", self.port)
    }

    fn set_bytes(&self, bytes: Vec<u8>) {
        *self.bytes.lock().unwrap() = bytes;
    }

    fn seen(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve_one(
    stream: TcpStream,
    bytes: &Mutex<Vec<u8>>,
    seen: &Mutex<Vec<SeenRequest>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    seen.lock().unwrap().push(SeenRequest {
        path: path.clone(),
        headers,
    });
    let mut stream = stream;
    if path == format!("/{ARTIFACT_NAME}") {
        let body = bytes.lock().unwrap().clone();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        stream.write_all(&body)?;
    } else {
        stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
    }
    stream.flush()
}

// ---------------------------------------------------------------------------------------------
// Signing (what `tauri signer generate` / `tauri signer sign` would produce)
// ---------------------------------------------------------------------------------------------

struct Signer {
    /// base64 of the minisign public key file text: the `pubkey` of tauri.conf.json
    tauri_pubkey: String,
    pk: minisign::PublicKey,
    sk: minisign::SecretKey,
}

impl Signer {
    fn new() -> Signer {
        let minisign::KeyPair { pk, sk } =
            minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let tauri_pubkey = b64(&pk.to_box().unwrap().to_string());
        Signer {
            tauri_pubkey,
            pk,
            sk,
        }
    }

    /// base64 of the `.sig` file text, as `tauri signer sign` writes it.
    fn tauri_signature(&self, data: &[u8], file: &str, version: &str) -> String {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let trusted = format!("timestamp:{ts}\tfile:{file}\tversion:{version}");
        let sig = minisign::sign(Some(&self.pk), &self.sk, data, Some(&trusted), None).unwrap();
        b64(&sig.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Fixture: server + artifact server + app `demo` + release 1.1.0 linux/amd64 appimage
// ---------------------------------------------------------------------------------------------

struct Fixture {
    server: Server,
    artifacts: ArtifactServer,
    signer: Signer,
    artifact: Vec<u8>,
    signature: String,
}

fn artifact_bytes() -> Vec<u8> {
    // A fake AppImage: ELF magic plus deterministic filler (content is irrelevant to download()).
    let mut v = b"\x7fELF\x02\x01\x01\x00AI\x02".to_vec();
    v.extend((0..64 * 1024u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    v
}

fn fixture() -> Fixture {
    let server = Server::start();
    let artifact = artifact_bytes();
    let artifacts = ArtifactServer::start(artifact.clone());
    let signer = Signer::new();
    let signature = signer.tauri_signature(&artifact, ARTIFACT_NAME, NEW_VERSION);

    let created = server.admin(
        "POST",
        "/api/v1/applications",
        &json!({
            "id": APP_ID,
            "name": "Demo",
            "platforms": ["linux", "darwin", "windows"],
            "config": {"tauri_public_key": signer.tauri_pubkey},
        }),
    );
    assert_eq!(created.status, 201, "create app: {}", created.text());

    let registered = server.admin(
        "POST",
        &format!("/api/v1/updates/{APP_ID}/register"),
        &json!({
            "version": NEW_VERSION,
            "platform": "linux",
            "architecture": "amd64",
            "channel": "stable",
            "release_notes": RELEASE_NOTES,
            "release_date": RELEASE_DATE,
            "files": [{
                "kind": "appimage",
                "url": artifacts.url(),
                "size": artifact.len(),
                "sha256": hex::encode(Sha256::digest(&artifact)),
                "signature": signature,
            }],
        }),
    );
    assert_eq!(
        registered.status,
        201,
        "register release: {}",
        registered.text()
    );

    Fixture {
        server,
        artifacts,
        signer,
        artifact,
        signature,
    }
}

/// A headless Tauri app (MockRuntime) with the updater plugin configured as in tauri.conf.json.
fn mock_app(
    current_version: &str,
    endpoint: &str,
    pubkey: &str,
) -> tauri::App<tauri::test::MockRuntime> {
    let mut ctx = tauri::test::mock_context(tauri::test::noop_assets());
    ctx.config_mut().plugins.0.insert(
        "updater".into(),
        json!({
            "pubkey": pubkey,
            "endpoints": [endpoint],
            "dangerousInsecureTransportProtocol": true,
        }),
    );
    ctx.config_mut().version = Some(current_version.into());
    ctx.package_info_mut().version = current_version.parse().unwrap();
    tauri::test::mock_builder()
        .plugin(tauri_plugin_updater::Builder::new().build())
        .build(ctx)
        .expect("build mock tauri app")
}

fn check(app: &tauri::App<tauri::test::MockRuntime>) -> Option<tauri_plugin_updater::Update> {
    let updater = app
        .updater_builder()
        .timeout(Duration::from_secs(20))
        .no_proxy()
        .build()
        .expect("build updater");
    tauri::async_runtime::block_on(updater.check()).expect("updater.check()")
}

fn download(
    update: &tauri_plugin_updater::Update,
) -> (tauri_plugin_updater::Result<Vec<u8>>, usize, bool) {
    let mut chunks_total = 0usize;
    let mut finished = false;
    let res = tauri::async_runtime::block_on(
        update.download(|n, _len| chunks_total += n, || finished = true),
    );
    (res, chunks_total, finished)
}

fn assert_download_request(seen: &[SeenRequest]) {
    let downloads: Vec<_> = seen
        .iter()
        .filter(|r| r.path == format!("/{ARTIFACT_NAME}"))
        .collect();
    assert_eq!(
        downloads.len(),
        1,
        "expected exactly one artifact download, saw {seen:?}"
    );
    let h = &downloads[0].headers;
    assert_eq!(
        h.get("user-agent").map(String::as_str),
        Some(PLUGIN_UA),
        "download headers {h:?}"
    );
    assert_eq!(
        h.get("accept").map(String::as_str),
        Some("application/octet-stream"),
        "download headers {h:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// (1) An app at 1.0.0 is offered 1.1.0, and the real plugin downloads it and accepts the
/// minisign signature stored by the server.
#[test]
fn update_found_and_signature_verifies() {
    let fx = fixture();

    // Wire level first: what the plugin is about to parse.
    let raw = fx
        .server
        .get(&format!("/tauri/{APP_ID}/stable/linux/x86_64/1.0.0"));
    assert_eq!(raw.status, 200, "dynamic endpoint: {}", raw.text());
    let ctype = raw.headers.get("content-type").cloned().unwrap_or_default();
    assert!(
        ctype.starts_with("application/json"),
        "content-type {ctype:?}"
    );
    let body = raw.json();
    eprintln!("dynamic endpoint answered: {body}");
    assert_eq!(body["version"], NEW_VERSION, "{body}");
    assert_eq!(body["url"], fx.artifacts.url(), "{body}");
    assert_eq!(
        body["signature"],
        fx.signature.as_str(),
        "signature must be the .sig text verbatim: {body}"
    );
    assert_eq!(body["notes"], RELEASE_NOTES, "{body}");
    let pub_date = body["pub_date"]
        .as_str()
        .unwrap_or_else(|| panic!("pub_date missing: {body}"));
    assert!(
        time_is_rfc3339(pub_date),
        "pub_date {pub_date:?} is not RFC 3339 (the plugin would reject the whole response)"
    );
    assert_eq!(body["format"], "appimage", "{body}");

    // The real client.
    let app = mock_app(
        "1.0.0",
        &fx.server.tauri_endpoint(),
        &fx.signer.tauri_pubkey,
    );
    let update = check(&app).expect("1.0.0 must be offered an update");
    assert_eq!(update.current_version, "1.0.0");
    assert_eq!(update.version, NEW_VERSION);
    assert_eq!(update.target, "linux");
    assert_eq!(update.download_url.as_str(), fx.artifacts.url());
    assert_eq!(update.signature, fx.signature);
    assert_eq!(update.body.as_deref(), Some(RELEASE_NOTES));
    let date = update.date.expect("pub_date parsed by the plugin");
    assert_eq!(
        date.unix_timestamp(),
        1_767_323_045,
        "pub_date {date} != {RELEASE_DATE}"
    );

    let (res, chunk_bytes, finished) = download(&update);
    let bytes = res.expect("download() must fetch the artifact and verify its signature");
    assert_eq!(
        bytes, fx.artifact,
        "downloaded bytes differ from the artifact"
    );
    assert_eq!(
        chunk_bytes,
        fx.artifact.len(),
        "on_chunk saw {chunk_bytes} bytes"
    );
    assert!(finished, "on_download_finish was not called");
    assert_download_request(&fx.artifacts.seen());
}

/// (2) An app already at 1.1.0 gets 204 and the plugin reports no update.
#[test]
fn up_to_date_gets_204_and_no_update() {
    let fx = fixture();

    let raw = fx
        .server
        .get(&format!("/tauri/{APP_ID}/stable/linux/x86_64/1.1.0"));
    assert_eq!(
        raw.status,
        204,
        "current version must get 204, got body {}",
        raw.text()
    );
    assert!(raw.body.is_empty(), "204 with a body: {}", raw.text());

    let app = mock_app(
        NEW_VERSION,
        &fx.server.tauri_endpoint(),
        &fx.signer.tauri_pubkey,
    );
    let update = check(&app);
    assert!(
        update.is_none(),
        "1.1.0 must not be offered an update, got {:?}",
        update.map(|u| u.version)
    );
    assert!(
        fx.artifacts.seen().is_empty(),
        "nothing must be downloaded: {:?}",
        fx.artifacts.seen()
    );

    // Control: the same server and app setup does offer the release to 1.0.0, so the `None`
    // above is the server's answer and not a broken endpoint (which would be an error anyway).
    let older = mock_app(
        "1.0.0",
        &fx.server.tauri_endpoint(),
        &fx.signer.tauri_pubkey,
    );
    assert!(
        check(&older).is_some(),
        "control: 1.0.0 must be offered 1.1.0"
    );
}

/// (3) The artifact host serves other bytes than were signed: the plugin's download() fails
/// with a minisign error, so a tampered artifact can never reach install().
#[test]
fn tampered_artifact_fails_signature_check() {
    let fx = fixture();
    let mut tampered = fx.artifact.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x01;
    fx.artifacts.set_bytes(tampered.clone());

    let app = mock_app(
        "1.0.0",
        &fx.server.tauri_endpoint(),
        &fx.signer.tauri_pubkey,
    );
    let update = check(&app).expect("1.0.0 must be offered an update");
    assert_eq!(update.signature, fx.signature);

    let (res, chunk_bytes, _) = download(&update);
    match res {
        Err(tauri_plugin_updater::Error::Minisign(e)) => {
            eprintln!("tampered download rejected as expected: {e}");
        }
        Err(other) => panic!("expected a minisign signature error, got: {other} ({other:?})"),
        Ok(_) => panic!("tampered artifact was accepted by download()"),
    }
    // The failure happened after the bytes arrived (not a network error) ...
    assert_eq!(chunk_bytes, tampered.len());
    assert_download_request(&fx.artifacts.seen());
    // ... and the same signature does accept the genuine bytes.
    update
        .verify(&fx.artifact)
        .expect("signature must verify the genuine artifact");
}

/// (4) A .deb install (`bundle_type=deb`) must never be offered the AppImage
/// (client-protocols.md §3.4): with only an AppImage registered the answer is "no update".
#[test]
fn deb_install_is_not_offered_an_appimage() {
    let fx = fixture();

    let raw = fx.server.get(&format!(
        "/tauri/{APP_ID}/stable/linux/x86_64/1.0.0?bundle_type=deb"
    ));
    assert_eq!(
        raw.status,
        204,
        "bundle_type=deb with only an AppImage: {}",
        raw.text()
    );

    let endpoint = format!("{}?bundle_type=deb", fx.server.tauri_endpoint());
    let app = mock_app("1.0.0", &endpoint, &fx.signer.tauri_pubkey);
    let update = check(&app);
    assert!(
        update.is_none(),
        "deb install offered {:?}",
        update.map(|u| u.download_url.to_string())
    );

    // Control: bundle_type=appimage is offered the AppImage.
    let raw = fx.server.get(&format!(
        "/tauri/{APP_ID}/stable/linux/x86_64/1.0.0?bundle_type=appimage"
    ));
    assert_eq!(raw.status, 200, "bundle_type=appimage: {}", raw.text());
    assert_eq!(raw.json()["url"], fx.artifacts.url());
}

/// (5) The plugin percent-encodes `+` in `{{current_version}}` (`1.0.0+build.7` is sent as
/// `1.0.0%2Bbuild.7`): the server must decode it and still offer 1.1.0.
#[test]
fn build_metadata_in_current_version_is_understood() {
    let fx = fixture();

    let raw = fx.server.get(&format!(
        "/tauri/{APP_ID}/stable/linux/x86_64/1.0.0%2Bbuild.7"
    ));
    assert_eq!(raw.status, 200, "1.0.0%2Bbuild.7: {}", raw.text());
    assert_eq!(raw.json()["version"], NEW_VERSION);

    let app = mock_app(
        "1.0.0+build.7",
        &fx.server.tauri_endpoint(),
        &fx.signer.tauri_pubkey,
    );
    let update = check(&app).expect("1.0.0+build.7 must be offered 1.1.0");
    assert_eq!(update.current_version, "1.0.0+build.7");
    assert_eq!(update.version, NEW_VERSION);
}

fn time_is_rfc3339(s: &str) -> bool {
    // Same check as the plugin: `time::OffsetDateTime::parse(s, &Rfc3339)`.
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}
