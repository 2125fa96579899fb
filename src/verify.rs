//! Verification at registration: each file is downloaded once and its size,
//! digests and signatures are checked as the bytes stream past. The files of
//! a registration or publish are verified concurrently, a bounded number at
//! a time, under one deadline.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::config::ArtifactVerificationSettings;
use crate::domain::signing::{EdSignature, MinisignSignature, SigningKeys};
use crate::domain::validate::check_download_url;
use crate::domain::{Artifact, Release};

const MAX_REDIRECTS: usize = 5;

pub struct Downloader {
    client: reqwest::Client,
    max_bytes: u64,
    timeout: Duration,
    concurrency: usize,
    allow_private: bool,
}

/// What does not match in one file: `file` of `releases[release]`, and the
/// file field the problem is about (`url`, `size`, `sha256`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub release: usize,
    pub file: usize,
    pub field: &'static str,
    pub message: String,
}

impl Downloader {
    /// Redirects are followed only to URLs registration would accept, and
    /// never from `https` down to `http`. Unless private addresses are
    /// allowed, no request reaches a loopback, private, link-local or other
    /// non-public address, whether named by the URL, a redirect or DNS: a
    /// publisher must not be able to probe the server's own network.
    pub fn new(settings: &ArtifactVerificationSettings, allow_http: bool) -> anyhow::Result<Self> {
        let allow_private = settings.allow_private_addresses;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if !allow_private && !host_allowed(attempt.url()) {
                return attempt.error("redirect target is not a public address");
            }
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            let downgrade = attempt.previous().iter().any(|u| u.scheme() == "https")
                && attempt.url().scheme() != "https";
            if downgrade {
                return attempt.error("redirected from https to plain http");
            }
            match check_download_url(attempt.url().as_str(), allow_http) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(format!("redirect target {e}")),
            }
        });
        // No proxy: a proxy would resolve names itself, past the public-address rule.
        let mut builder = reqwest::Client::builder().no_proxy();
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let client = builder
            .redirect(policy)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!(
                "updater/",
                env!("CARGO_PKG_VERSION"),
                " (artifact verification)"
            ))
            .build()?;
        Ok(Self {
            client,
            max_bytes: settings.max_bytes,
            timeout: settings.timeout,
            concurrency: settings.concurrency.max(1),
            allow_private,
        })
    }

    /// Downloads every file of `releases`, `concurrency` at a time, and
    /// returns what does not match, in release and file order. Empty when
    /// everything verified. A file not verified by the deadline is a problem
    /// of its `url`.
    pub async fn verify(&self, releases: &[Release], keys: &SigningKeys) -> Vec<Problem> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut checks = Vec::new();
        for (release, r) in releases.iter().enumerate() {
            for (file, artifact) in r.files.iter().enumerate() {
                checks.push(self.check(release, file, artifact, keys, deadline));
            }
        }
        let outcomes: Vec<Option<Problem>> = futures_util::stream::iter(checks)
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut problems: Vec<Problem> = outcomes.into_iter().flatten().collect();
        problems.sort_by_key(|p| (p.release, p.file));
        problems
    }

    async fn check(
        &self,
        release: usize,
        file: usize,
        artifact: &Artifact,
        keys: &SigningKeys,
        deadline: tokio::time::Instant,
    ) -> Option<Problem> {
        let outcome = tokio::time::timeout_at(deadline, self.verify_file(artifact, keys)).await;
        let (field, message) = match outcome {
            Ok(Ok(())) => return None,
            Ok(Err(problem)) => problem,
            Err(_) => (
                "url",
                format!(
                    "verification did not finish within {} (security.artifact_verification.timeout)",
                    humantime::format_duration(self.timeout)
                ),
            ),
        };
        Some(Problem {
            release,
            file,
            field,
            message,
        })
    }

    /// The verification deadline (`security.artifact_verification.timeout`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    async fn verify_file(
        &self,
        file: &Artifact,
        keys: &SigningKeys,
    ) -> Result<(), (&'static str, String)> {
        if file.size > self.max_bytes {
            return Err((
                "size",
                format!(
                    "is larger than the verification limit of {} bytes",
                    self.max_bytes
                ),
            ));
        }
        let minisign = match (&file.signature, &keys.tauri) {
            (Some(sig), Some(_)) => {
                Some(MinisignSignature::parse(sig).map_err(|e| ("signature", e))?)
            }
            _ => None,
        };
        let ed = match (&file.ed_signature, &keys.sparkle) {
            (Some(sig), Some(_)) => Some(EdSignature::parse(sig).map_err(|e| ("ed_signature", e))?),
            _ => None,
        };
        let mut minisign_verifier = match (&minisign, &keys.tauri) {
            (Some(sig), Some(key)) => Some(sig.verifier(key).map_err(|e| ("signature", e))?),
            _ => None,
        };
        let mut ed_verifier = match (&ed, &keys.sparkle) {
            (Some(sig), Some(key)) => Some(sig.verifier(key).map_err(|e| ("ed_signature", e))?),
            _ => None,
        };

        let url = reqwest::Url::parse(&file.url).map_err(|e| ("url", e.to_string()))?;
        if !self.allow_private && !host_allowed(&url) {
            return Err(("url", NOT_PUBLIC.to_string()));
        }
        let mut response = self.client.get(url).send().await.map_err(|e| {
            (
                "url",
                format!("could not be downloaded: {}", describe_error(&e)),
            )
        })?;
        if !response.status().is_success() {
            return Err((
                "url",
                format!("could not be downloaded: HTTP {}", response.status()),
            ));
        }
        if let Some(length) = response.content_length()
            && length != file.size
        {
            return Err((
                "size",
                format!("is {} but the server sends {length} bytes", file.size),
            ));
        }
        let mut sha256 = file.sha256.as_ref().map(|_| Sha256::new());
        let mut sha512 = file.sha512.as_ref().map(|_| Sha512::new());
        let mut sha1 = file.sha1.as_ref().map(|_| Sha1::new());
        let mut received: u64 = 0;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ("url", format!("download failed: {}", describe_error(&e))))?
        {
            received += chunk.len() as u64;
            if received > file.size {
                return Err((
                    "size",
                    format!("is {} but the download is longer", file.size),
                ));
            }
            if let Some(h) = &mut sha256 {
                h.update(&chunk);
            }
            if let Some(h) = &mut sha512 {
                h.update(&chunk);
            }
            if let Some(h) = &mut sha1 {
                h.update(&chunk);
            }
            if let Some(v) = &mut minisign_verifier {
                v.update(&chunk);
            }
            if let Some(v) = &mut ed_verifier {
                v.update(&chunk);
            }
        }
        if received != file.size {
            return Err((
                "size",
                format!("is {} but the download has {received} bytes", file.size),
            ));
        }
        let digests = [
            (
                "sha256",
                sha256.map(|h| hex::encode(h.finalize())),
                &file.sha256,
            ),
            (
                "sha512",
                sha512.map(|h| hex::encode(h.finalize())),
                &file.sha512,
            ),
            ("sha1", sha1.map(|h| hex::encode(h.finalize())), &file.sha1),
        ];
        for (field, actual, expected) in digests {
            if let (Some(actual), Some(expected)) = (actual, expected)
                && &actual != expected
            {
                return Err((
                    field,
                    format!("does not match the downloaded file (its {field} is {actual})"),
                ));
            }
        }
        if let Some(v) = minisign_verifier {
            v.finish().map_err(|e| ("signature", e))?;
        }
        if let Some(v) = ed_verifier {
            v.finish().map_err(|e| ("ed_signature", e))?;
        }
        Ok(())
    }
}

/// The error and its causes, so a refused redirect says why.
pub fn describe_error(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

const NOT_PUBLIC: &str = "does not resolve to a public address; outbound requests never reach loopback, private or link-local addresses";

/// Whether a URL's host may be contacted: names are checked when resolved
/// ([`PublicOnly`]); IP literals here.
pub fn host_allowed(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => !name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Addresses on the public internet: not loopback, private, shared,
/// link-local, multicast, documentation or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// A resolver that drops every non-public address, so a name pointing at
/// the internal network fails instead of being fetched.
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| is_public(addr.ip()))
                .collect();
            if resolved.is_empty() {
                return Err(format!("`{host}` {NOT_PUBLIC}").into());
            }
            let addrs: Addrs = Box::new(resolved.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn names_of_internal_hosts_do_not_resolve() {
        let name: Name = "localhost".parse().unwrap();
        let error = match PublicOnly.resolve(name).await {
            Ok(_) => panic!("localhost resolved"),
            Err(e) => e.to_string(),
        };
        assert!(error.contains("public address"), "{error}");
    }
}
