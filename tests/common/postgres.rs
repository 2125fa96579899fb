//! Throwaway PostgreSQL clusters for the store and replica tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::child::free_port;

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
