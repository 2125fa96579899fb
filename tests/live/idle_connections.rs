//! Connections that send nothing, or only the start of HTTP/2, must not hold
//! a connection slot past `header_read_timeout`: 1,100 of them against the
//! default 1,024 slots, then a client from another loopback address.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

use crate::common::*;

const ATTACKERS: usize = 1100;
const DEADLINE: Duration = Duration::from_secs(2);
/// The client preface plus an empty SETTINGS frame, then nothing: an HTTP/2
/// connection with no stream.
const H2C_PREFACE_AND_SETTINGS: &[u8] =
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

async fn health_from_another_address(addr: std::net::SocketAddr) -> Option<String> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    match tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await {
        Ok(Ok(_)) => Some(String::from_utf8_lossy(&reply).into_owned()),
        _ => None,
    }
}

/// Reads until the server closes the socket; returns when that happened.
async fn closed_at(mut stream: TcpStream) -> Instant {
    let mut buffer = [0u8; 256];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return Instant::now(),
            Ok(_) => {}
        }
    }
}

async fn hold_slots_with(payload: &'static [u8]) {
    let mut settings = test_settings();
    settings.server.header_read_timeout = DEADLINE;
    assert_eq!(
        settings.server.max_connections, 1024,
        "the attack runs against the default limit"
    );
    let server = LiveServer::start(settings).await;

    let connecting_started = Instant::now();
    let mut attackers = Vec::with_capacity(ATTACKERS);
    for _ in 0..ATTACKERS {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        if !payload.is_empty() {
            stream.write_all(payload).await.unwrap();
        }
        attackers.push(stream);
    }
    let attack_started = Instant::now();
    let closes: Vec<_> = attackers
        .into_iter()
        .map(|stream| tokio::spawn(closed_at(stream)))
        .collect();

    let reply = health_from_another_address(server.addr).await;
    let answered_after = attack_started.elapsed();
    let reply = reply.expect("/health got no answer while idle sockets held every slot");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        answered_after <= DEADLINE + Duration::from_secs(1),
        "/health answered {answered_after:?} into the attack; slots free at {DEADLINE:?}"
    );

    let mut first_close = None::<Instant>;
    let mut last_close = attack_started;
    for close in closes {
        let at = tokio::time::timeout_at(attack_started + 3 * DEADLINE, close)
            .await
            .expect("an idle socket was still open at twice the deadline")
            .unwrap();
        first_close = Some(first_close.map_or(at, |first| first.min(at)));
        last_close = last_close.max(at);
    }
    let first_close = first_close.unwrap() - connecting_started;
    assert!(
        first_close + Duration::from_millis(500) >= DEADLINE,
        "idle sockets are closed at the deadline, not before: the first went after {first_close:?}"
    );
    // Sockets that waited in the backlog get their own deadline from accept.
    let last_close = last_close - attack_started;
    assert!(
        last_close <= 2 * DEADLINE + Duration::from_secs(1),
        "the last idle socket closed after {last_close:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_that_send_nothing_are_closed_at_the_header_deadline() {
    hold_slots_with(b"").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_that_send_half_an_http2_preface_are_closed_at_the_header_deadline() {
    hold_slots_with(b"PRI * HTTP/2.0\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_connections_with_no_stream_are_closed_at_the_header_deadline() {
    hold_slots_with(H2C_PREFACE_AND_SETTINGS).await;
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let mut settings = test_settings();
    settings.server.idle_timeout = Duration::from_millis(800);
    let server = LiveServer::start(settings).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 4096];
    let read = stream.read(&mut buffer).await.unwrap();
    assert!(buffer[..read].starts_with(b"HTTP/1.1 200"));
    let answered = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(5), closed_at(stream))
        .await
        .expect("the idle kept-alive connection stayed open");
    let idle_for = closed - answered;
    assert!(
        idle_for >= Duration::from_millis(600),
        "closed after {idle_for:?} idle, before the idle timeout"
    );
    server.stop().await;
}

#[tokio::test]
async fn http2_advertises_the_stream_limit() {
    let mut settings = test_settings();
    settings.server.http2_max_concurrent_streams = 7;
    let server = LiveServer::start(settings).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(H2C_PREFACE_AND_SETTINGS).await.unwrap();
    let mut head = [0u8; 9];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(head[3], 0x4, "the server's first frame is SETTINGS");
    let length = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload).await.unwrap();
    let max_streams = payload.chunks(6).find_map(|setting| {
        (u16::from_be_bytes([setting[0], setting[1]]) == 0x3)
            .then(|| u32::from_be_bytes([setting[2], setting[3], setting[4], setting[5]]))
    });
    assert_eq!(max_streams, Some(7), "SETTINGS_MAX_CONCURRENT_STREAMS");
    server.stop().await;
}
