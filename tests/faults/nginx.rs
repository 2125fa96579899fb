//! nginx from Debian's package as a child process balancing over replicas,
//! and digests of its error log.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::{EVENTUALLY, NGINX};

/// `true` when nginx is installed; otherwise prints SKIPPED, or panics under
/// `CI=true`.
pub fn nginx_available() -> bool {
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
pub struct Nginx {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub base: String,
}

impl Nginx {
    /// `fail_timeout`: how long nginx leaves a replica out after one failure.
    pub fn start(upstreams: &[u16], fail_timeout: &str) -> Self {
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

    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// Waits until nginx has served a request from the replica on `port`
    /// alone (first try) after `offset` bytes of access log: it is back in
    /// rotation, as a rolling restart must wait for before the next step.
    pub async fn wait_in_rotation(&self, port: u16, offset: usize) {
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

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx's `[error]`/`[warn]` lines, each distinct message once with a count.
pub fn nginx_errors(nginx: &Nginx) -> String {
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

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
