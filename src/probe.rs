//! `updater -health-check`: GET /health on loopback and exit 0 or 1.
//!
//! Runs without a shell, curl, async runtime, database or secrets, so it works
//! as a container HEALTHCHECK in a scratch image with a read-only root. Only
//! the `server` keys of the configuration are read.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::config::{LoadOptions, ServerSettings, load_server_only};

const TIMEOUT: Duration = Duration::from_secs(2);

/// `updater -health-check [--config PATH] [--section NAME]`.
pub fn run_from_args(args: &[OsString]) -> ExitCode {
    match parse_args(args) {
        Ok((config, section)) => run(config, section),
        Err(problem) => report(Err(problem)),
    }
}

pub fn run(config: Option<PathBuf>, section: Option<String>) -> ExitCode {
    report(probe(config, section))
}

fn report(result: Result<String, String>) -> ExitCode {
    match result {
        Ok(line) => {
            println!("healthy: {line}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            println!("unhealthy: {problem}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: &[OsString]) -> Result<(Option<PathBuf>, Option<String>), String> {
    let mut config = None;
    let mut section = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = || {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{} needs a value", arg.to_string_lossy()))
        };
        match arg.to_str() {
            Some("--config") => config = Some(PathBuf::from(value()?)),
            Some("--section") => section = Some(value()?.to_string_lossy().into_owned()),
            _ => return Err(format!("unexpected argument {}", arg.to_string_lossy())),
        }
    }
    Ok((config, section))
}

fn probe(config: Option<PathBuf>, section: Option<String>) -> Result<String, String> {
    let server = load_server_only(&LoadOptions::from_process(config, section)).map_err(|e| {
        format!(
            "cannot read the server configuration: {}",
            e.errors.join("; ")
        )
    })?;
    let address = SocketAddr::new(loopback_for(server.host), server.port);
    let started = Instant::now();
    let stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let request = b"GET /health HTTP/1.1\r\nHost: localhost\r\nUser-Agent: updater-health-check\r\nConnection: close\r\n\r\n";
    let status_line = if server.tls.enabled() {
        let mut tls = tls_stream(&server, stream)?;
        exchange(&mut tls, request, started)?
    } else {
        let mut plain = stream;
        exchange(&mut plain, request, started)?
    };
    let scheme = if server.tls.enabled() {
        "https"
    } else {
        "http"
    };
    let ok = status_line.starts_with("HTTP/1.1 200") || status_line.starts_with("HTTP/1.0 200");
    let summary = format!("GET {scheme}://{address}/health -> {status_line}");
    if ok { Ok(summary) } else { Err(summary) }
}

/// The address to probe: loopback of the same family for a wildcard bind,
/// else the bound address itself.
fn loopback_for(host: IpAddr) -> IpAddr {
    match host {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

fn exchange(
    stream: &mut impl ReadWrite,
    request: &[u8],
    started: Instant,
) -> Result<String, String> {
    stream
        .write_all(request)
        .map_err(|e| format!("sending the request: {e}"))?;
    let mut received = Vec::with_capacity(256);
    let mut buffer = [0u8; 256];
    while !received.windows(2).any(|w| w == b"\r\n") {
        if started.elapsed() > TIMEOUT {
            return Err("timed out waiting for the response".into());
        }
        let n = stream
            .read(&mut buffer)
            .map_err(|e| format!("reading the response: {e}"))?;
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..n]);
        if received.len() > 4096 {
            break;
        }
    }
    let text = String::from_utf8_lossy(&received);
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        return Err("the server closed the connection without answering".into());
    }
    Ok(line)
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// TLS to our own listener: the certificate is trusted because it is exactly
/// the one in `server.tls.cert_file`, whatever names it carries.
fn tls_stream(
    server: &ServerSettings,
    stream: TcpStream,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, String> {
    crate::server::install_crypto_provider();
    let pinned = CertificateDer::pem_file_iter(&server.tls.cert_file)
        .map_err(|e| format!("reading {}: {e}", server.tls.cert_file))?
        .next()
        .ok_or_else(|| format!("no certificate in {}", server.tls.cert_file))?
        .map_err(|e| format!("parsing {}: {e}", server.tls.cert_file))?;
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .ok_or("no TLS crypto provider")?;
    let config = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(pinned::PinnedCertificate {
            certificate: pinned.into_owned(),
            provider,
        }))
        .with_no_client_auth();
    let connection = rustls::ClientConnection::new(
        Arc::new(config),
        ServerName::try_from("localhost").expect("valid name"),
    )
    .map_err(|e| format!("TLS setup: {e}"))?;
    Ok(rustls::StreamOwned::new(connection, stream))
}

mod pinned {
    use std::sync::Arc;

    use rustls::DigitallySignedStruct;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

    #[derive(Debug)]
    pub struct PinnedCertificate {
        pub certificate: CertificateDer<'static>,
        pub provider: Arc<CryptoProvider>,
    }

    impl ServerCertVerifier for PinnedCertificate {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            if end_entity.as_ref() == self.certificate.as_ref() {
                Ok(ServerCertVerified::assertion())
            } else {
                Err(rustls::Error::General(
                    "certificate differs from server.tls.cert_file".into(),
                ))
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
}
