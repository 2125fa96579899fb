//! The real binary as a child process (`ChildServer`, configured by
//! `write_config`), free loopback ports, and an HTTP client for servers on
//! sockets.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::fixtures::ADMIN_KEY;

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
