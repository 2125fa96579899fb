//! The process's life: SIGTERM draining an in-flight request, refusing to
//! start without keys in production, JSON logs without secrets.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::*;
use crate::durability::{blocking_client, create_durable_app, releases};

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
