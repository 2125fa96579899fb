//! Verification at registration: each file is downloaded once and its size,
//! digests and signatures are checked as the bytes stream past.

use std::time::Duration;

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::config::ArtifactVerificationSettings;
use crate::domain::signing::{EdSignature, MinisignSignature, SparklePublicKey, TauriPublicKey};
use crate::domain::validate::check_download_url;
use crate::domain::{Artifact, Release};

const MAX_REDIRECTS: usize = 5;

/// The signing keys a release's files are checked against.
#[derive(Default)]
pub struct SigningKeys {
    pub tauri: Option<TauriPublicKey>,
    pub sparkle: Option<SparklePublicKey>,
}

pub struct Downloader {
    client: reqwest::Client,
    max_bytes: u64,
    timeout: Duration,
}

impl Downloader {
    /// Redirects are followed only to URLs registration would accept, and
    /// never from `https` down to `http`.
    pub fn new(settings: &ArtifactVerificationSettings, allow_http: bool) -> anyhow::Result<Self> {
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
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
        let client = reqwest::Client::builder()
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
        })
    }

    /// Downloads every file of `release` and returns, per file index, what
    /// does not match. Empty when everything verified.
    pub async fn verify(
        &self,
        release: &Release,
        keys: &SigningKeys,
    ) -> Vec<(usize, String, String)> {
        let mut problems = Vec::new();
        for (index, file) in release.files.iter().enumerate() {
            let outcome = tokio::time::timeout(self.timeout, self.verify_file(file, keys)).await;
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err((field, message))) => problems.push((index, field.to_string(), message)),
                Err(_) => problems.push((
                    index,
                    "url".to_string(),
                    format!(
                        "download did not finish within {}",
                        humantime::format_duration(self.timeout)
                    ),
                )),
            }
        }
        problems
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

        let mut response = self
            .client
            .get(&file.url)
            .send()
            .await
            .map_err(|e| ("url", format!("could not be downloaded: {}", describe(&e))))?;
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
            .map_err(|e| ("url", format!("download failed: {}", describe(&e))))?
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
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
