//! HTTP over TCP: the API on a real socket, oversized and slow headers, a
//! JSON 408, and the connection limit.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

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

/// The verification download has its own budget; everything else, such as
/// a register whose body never arrives, is held to `server.request_timeout`.
#[tokio::test]
async fn a_register_that_stalls_outside_verification_gets_408_at_the_request_timeout() {
    let mut settings = test_settings();
    settings.server.request_timeout = Duration::from_millis(500);
    settings.security.artifact_verification.timeout = Duration::from_secs(10);
    let server = LiveServer::start(settings).await;
    let addr = server.addr;
    let (reply, took) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        write!(
            stream,
            "POST /api/v1/updates/sock/register HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
        )
        .unwrap();
        let mut out = vec![0u8; 4096];
        let n = stream.read(&mut out).unwrap_or(0);
        (String::from_utf8_lossy(&out[..n]).into_owned(), started.elapsed())
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(
        took < Duration::from_secs(3),
        "the register was cut after {took:?}, not at the 500 ms request timeout"
    );
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
