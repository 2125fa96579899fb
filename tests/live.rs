//! Real sockets and the real binary: HTTP over TCP, the -health-check probe,
//! restart persistence, kill -9 durability and SIGTERM draining.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

async fn post(client: &reqwest::Client, url: &str, body: Value) -> reqwest::Response {
    client
        .post(url)
        .bearer_auth(ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn serves_the_api_over_a_real_socket() {
    let server = LiveServer::start(test_settings()).await;
    let client = http();
    let created = post(
        &client,
        &format!("{}/api/v1/applications", server.base),
        app_body("sock"),
    )
    .await;
    assert_eq!(created.status(), 201);
    let registered = post(
        &client,
        &format!("{}/api/v1/updates/sock/register", server.base),
        release_body("1.5.0"),
    )
    .await;
    assert_eq!(registered.status(), 201);
    let check = client
        .get(format!(
            "{}/api/v1/updates/sock/check?current_version=1.0.0&platform=linux&architecture=amd64",
            server.base
        ))
        .header("x-request-id", "live-test-1")
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 200);
    assert_eq!(check.headers()["x-request-id"], "live-test-1");
    let body: Value = check.json().await.unwrap();
    assert_eq!(body["latest_version"], "1.5.0");
    server.stop().await;
}

fn raw_exchange(addr: std::net::SocketAddr, request: &[u8], timeout: Duration) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    let _ = stream.write_all(request);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let server = LiveServer::start(test_settings()).await;
    let addr = server.addr;
    let huge = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    let reply = tokio::task::spawn_blocking(move || {
        raw_exchange(addr, huge.as_bytes(), Duration::from_secs(5))
    })
    .await
    .unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 431"),
        "expected 431, got {:?}",
        reply.lines().next()
    );
    server.stop().await;
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let mut settings = test_settings();
    settings.server.header_read_timeout = Duration::from_millis(500);
    let server = LiveServer::start(settings).await;
    let addr = server.addr;
    let (elapsed, reply) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let reply = raw_exchange(
            addr,
            b"GET /health HTTP/1.1\r\nHost: x\r\n",
            Duration::from_secs(10),
        );
        (started.elapsed(), reply)
    })
    .await
    .unwrap();
    assert!(
        elapsed < Duration::from_secs(5),
        "the connection was held for {elapsed:?}"
    );
    assert!(
        !reply.contains("200 OK"),
        "an incomplete request must not be served: {reply}"
    );
    server.stop().await;
}

fn probe(config: &Path, port: u16, flag: &str) -> (i32, String) {
    probe_with_env(config, port, flag, &[])
}

fn probe_with_env(config: &Path, port: u16, flag: &str, env: &[(&str, &str)]) -> (i32, String) {
    let output = Command::new(binary())
        .args([
            flag,
            "--config",
            config.to_str().unwrap(),
            "--section",
            "test",
        ])
        .env("UPDATER_SERVER__PORT", port.to_string())
        .env_remove("UPDATER_CONFIG_SECTION")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn health_check_probe_reports_live_and_stopped_servers() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let port = free_port();
    let mut server = ChildServer::spawn(dir.path(), port);
    for flag in ["-health-check", "--health-check"] {
        let (code, out) = probe(&config, port, flag);
        assert_eq!(code, 0, "{flag}: {out}");
        assert!(out.starts_with("healthy:"), "{out}");
        assert_eq!(out.lines().count(), 1, "one line: {out}");
    }

    // The probe reads only the server keys: an unresolvable secret elsewhere
    // does not stop it.
    let broken = dir.path().join("probe-only.yaml");
    std::fs::write(
        &broken,
        "test:\n  server:\n    host: 127.0.0.1\n  security:\n    api_keys:\n      - {name: x, key: \"${SECRET_THAT_IS_NOT_SET}\", permissions: [admin]}\n  not_a_key: 1\n",
    )
    .unwrap();
    let (code, out) = probe(&broken, port, "-health-check");
    assert_eq!(code, 0, "{out}");

    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(20)), Some(0));
    let (code, out) = probe(&config, port, "-health-check");
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("unhealthy:"), "{out}");
}

#[test]
fn health_check_probe_fails_on_a_frozen_server() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let port = free_port();
    let server = ChildServer::spawn(dir.path(), port);
    server.signal("STOP");
    let started = Instant::now();
    let (code, out) = probe(&config, port, "-health-check");
    server.signal("CONT");
    assert_eq!(code, 1, "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the probe gives up after its 2 s timeout"
    );
    let (code, out) = probe(&config, port, "-health-check");
    assert_eq!(code, 0, "healthy again after SIGCONT: {out}");
}

fn blocking_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn create_durable_app(client: &reqwest::blocking::Client, base: &str) {
    let created = client
        .post(format!("{base}/api/v1/applications"))
        .bearer_auth(ADMIN_KEY)
        .json(&app_body("durable"))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
}

fn register(client: &reqwest::blocking::Client, base: &str, version: &str) -> u16 {
    client
        .post(format!("{base}/api/v1/updates/durable/register"))
        .bearer_auth(ADMIN_KEY)
        .json(&release_body(version))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn releases(client: &reqwest::blocking::Client, base: &str) -> Vec<String> {
    let body: Value = client
        .get(format!(
            "{base}/api/v1/updates/durable/releases?limit=1000&sort_by=version&sort_order=asc"
        ))
        .bearer_auth(ADMIN_KEY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let port = free_port();
    let client = blocking_client();
    let mut server = ChildServer::spawn(dir.path(), port);
    create_durable_app(&client, &server.base);
    assert_eq!(register(&client, &server.base, "1.0.0"), 201);
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(20)), Some(0));
    drop(server);

    let server = ChildServer::spawn(dir.path(), port);
    assert_eq!(releases(&client, &server.base), ["1.0.0"]);
    let check: Value = client
        .get(format!(
            "{}/api/v1/updates/durable/check?current_version=0.5.0&platform=linux&architecture=amd64",
            server.base
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        check["latest_version"], "1.0.0",
        "the catalog is rebuilt from the store"
    );
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let port = free_port();
    let client = blocking_client();
    let server = ChildServer::spawn(dir.path(), port);
    create_durable_app(&client, &server.base);
    let mut acknowledged = Vec::new();
    for minor in 0..40 {
        let version = format!("1.{minor}.0");
        if register(&client, &server.base, &version) == 201 {
            acknowledged.push(version);
        }
    }
    assert_eq!(acknowledged.len(), 40);
    server.signal("KILL");
    drop(server);

    let server = ChildServer::spawn(dir.path(), port);
    let mut expected = acknowledged.clone();
    expected.sort_by_key(|v| common::sut::parse_version(v).unwrap());
    assert_eq!(releases(&client, &server.base), expected);
}

#[test]
fn postgres_backed_server_keeps_acknowledged_writes_across_kill_9() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("live");
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let env = [
        ("UPDATER_STORAGE__TYPE", "postgres"),
        ("UPDATER_STORAGE__POSTGRES__URL", url.as_str()),
    ];
    let port = free_port();
    let client = blocking_client();
    let server = ChildServer::spawn_with_env(dir.path(), port, &env);
    let health: Value = client
        .get(format!("{}/health", server.base))
        .bearer_auth(ADMIN_KEY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(health.to_string().contains("postgres"), "{health}");
    create_durable_app(&client, &server.base);
    let acknowledged: Vec<String> = (0..20)
        .map(|minor| format!("1.{minor}.0"))
        .filter(|version| register(&client, &server.base, version) == 201)
        .collect();
    assert_eq!(acknowledged.len(), 20);
    server.signal("KILL");
    drop(server);

    let server = ChildServer::spawn_with_env(dir.path(), port, &env);
    let mut listed = releases(&client, &server.base);
    listed.sort();
    let mut expected = acknowledged.clone();
    expected.sort();
    assert_eq!(listed, expected);
    let log = std::fs::read_to_string(dir.path().join(format!("server-{port}.log"))).unwrap();
    assert!(
        !log.contains(&cluster.password),
        "the database password reached the log"
    );
}

#[test]
fn sigterm_drains_an_in_flight_request() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    std::fs::write(
        dir.path().join("config.yaml"),
        std::fs::read_to_string(dir.path().join("config.yaml"))
            .unwrap()
            .replace("drain_delay: 0s", "drain_delay: 1s"),
    )
    .unwrap();
    let port = free_port();
    let client = blocking_client();
    let mut server = ChildServer::spawn(dir.path(), port);
    create_durable_app(&client, &server.base);

    let body = release_body("7.0.0").to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    write!(
        stream,
        "POST /api/v1/updates/durable/register HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));

    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    let ready = client
        .get(format!("{}/health/ready", server.base))
        .send()
        .unwrap();
    assert_eq!(ready.status(), 503, "readiness turns 503 while draining");
    assert_eq!(
        ready.headers()["connection"],
        "close",
        "keep-alive connections are closed while draining"
    );
    let ready_body: Value = ready.json().unwrap();
    assert_eq!(ready_body["reason"], "draining");
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "still serving the in-flight request"
    );

    stream.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "the in-flight request completes: {response}"
    );
    assert_eq!(
        server.wait(Duration::from_secs(20)),
        Some(0),
        "exit 0 after draining"
    );
    drop(server);

    let server = ChildServer::spawn(dir.path(), port);
    assert_eq!(releases(&client, &server.base), ["7.0.0"]);
}

#[test]
fn production_refuses_to_start_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .args([
            "--config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config.yaml"),
            "--section",
            "production",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ADMIN_API_KEY"), "{stderr}");
    assert!(
        stderr.contains("MONITORING_API_KEY"),
        "all errors at once: {stderr}"
    );
}

#[test]
fn logs_are_json_lines_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let port = free_port();
    let client = blocking_client();
    let mut server = ChildServer::spawn(dir.path(), port);
    let denied = client
        .get(format!("{}/api/v1/applications", server.base))
        .bearer_auth("wrong-key-that-must-not-be-logged-0000")
        .send()
        .unwrap();
    assert_eq!(denied.status(), 401);
    let ok = client
        .get(format!("{}/api/v1/applications", server.base))
        .bearer_auth(ADMIN_KEY)
        .send()
        .unwrap();
    assert_eq!(ok.status(), 200);
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(20)), Some(0));
    let log = std::fs::read_to_string(dir.path().join(format!("server-{port}.log"))).unwrap();
    assert!(!log.contains("wrong-key-that-must-not-be-logged"));
    assert!(!log.contains(ADMIN_KEY));
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let failure = lines
        .iter()
        .find(|l| l["event"] == "auth_failure")
        .expect("failed auth is logged");
    assert_eq!(failure["reason"], "invalid_key");
    let request = lines
        .iter()
        .find(|l| l["message"] == "request" && l["status"] == 200)
        .expect("an access-log line");
    assert_eq!(request["route"], "/api/v1/applications");
    for field in ["request_id", "method", "latency_ms", "client_ip"] {
        assert!(
            request.get(field).is_some(),
            "access log has {field}: {request}"
        );
    }
}

#[test]
fn serves_tls_with_hsts_and_the_probe_speaks_tls() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let certified =
        rcgen::generate_simple_self_signed(vec!["updater.internal".to_string()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.key_pair.serialize_pem()).unwrap();
    let env = [
        (
            "UPDATER_SERVER__TLS__CERT_FILE",
            cert_path.to_str().unwrap(),
        ),
        ("UPDATER_SERVER__TLS__KEY_FILE", key_path.to_str().unwrap()),
    ];
    let port = free_port();
    let _server = ChildServer::spawn_with_env(dir.path(), port, &env);

    let (code, out) = probe_with_env(&config, port, "-health-check", &env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("https://"), "{out}");
    let (code, out) = probe(&config, port, "-health-check");
    assert_eq!(
        code, 1,
        "plain HTTP to a TLS listener is not healthy: {out}"
    );

    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("updater.internal").unwrap();
    let connection = rustls::ClientConnection::new(std::sync::Arc::new(client), name).unwrap();
    let socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(connection, socket);
    tls.write_all(b"GET /health HTTP/1.1\r\nHost: updater.internal\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).to_ascii_lowercase();
    assert!(response.starts_with("http/1.1 200"), "{response}");
    assert!(
        response.contains("strict-transport-security: max-age=63072000"),
        "{response}"
    );
}

#[tokio::test]
async fn a_request_that_takes_too_long_gets_a_json_408() {
    let mut settings = test_settings();
    settings.server.request_timeout = Duration::from_millis(500);
    let server = LiveServer::start(settings).await;
    let addr = server.addr;
    let reply = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Promise a body and never send it.
        write!(
            stream,
            "POST /api/v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
        )
        .unwrap();
        let mut out = vec![0u8; 4096];
        let n = stream.read(&mut out).unwrap_or(0);
        String::from_utf8_lossy(&out[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("\"code\":\"REQUEST_TIMEOUT\""), "{reply}");
    server.stop().await;
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let mut settings = test_settings();
    settings.server.max_connections = 1;
    let server = LiveServer::start(settings).await;
    let addr = server.addr;
    let (waited, reply) = tokio::task::spawn_blocking(move || {
        let holder = TcpStream::connect(addr).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let mut second = TcpStream::connect(addr).unwrap();
        second
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        second
            .set_read_timeout(Some(Duration::from_millis(700)))
            .unwrap();
        let mut buffer = [0u8; 16];
        let waited = second.read(&mut buffer).is_err();
        drop(holder);
        second
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut out = Vec::new();
        let _ = second.read_to_end(&mut out);
        (waited, String::from_utf8_lossy(&out).into_owned())
    })
    .await
    .unwrap();
    assert!(
        waited,
        "the second connection is not served while the only slot is taken"
    );
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "served once the slot frees: {reply}"
    );
    server.stop().await;
}

#[test]
fn the_long_flag_honours_config_and_section() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let port = free_port();
    let _server = ChildServer::spawn(dir.path(), port);
    let output = Command::new(binary())
        .args([
            "--config",
            config.to_str().unwrap(),
            "--section",
            "test",
            "--health-check",
        ])
        .env("UPDATER_SERVER__PORT", port.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!(":{port}/health")), "{text}");
}
