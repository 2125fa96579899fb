//! The `-health-check` probe against live, stopped and frozen servers, over
//! TLS, and with the long flag.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

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

/// `localhost` means 127.0.0.1 to the server and to its probe alike.
#[test]
fn server_and_probe_take_localhost_as_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let port = free_port();
    let localhost = [("UPDATER_SERVER__HOST", "localhost")];
    let mut server = ChildServer::spawn_with_env(dir.path(), port, &localhost);
    let (code, out) = probe_with_env(&config, port, "-health-check", &localhost);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("healthy:"), "{out}");
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(20)), Some(0));
}
