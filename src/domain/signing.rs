//! Release signatures: Tauri's minisign and Sparkle's EdDSA (Ed25519).
//!
//! Keys and signatures are parsed and matched here without the file; the
//! verifiers check the file's bytes as they stream past, so a multi-gigabyte
//! artifact never has to be held in memory.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use semver::Version;

use super::ApplicationConfig;

/// A Tauri updater public key as `tauri.conf.json` holds it: base64 of the
/// minisign public key file. The file's text itself, or the bare `RW…` key
/// line, are accepted too.
#[derive(Debug, Clone)]
pub struct TauriPublicKey(minisign_verify::PublicKey);

impl TauriPublicKey {
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        let text = decode_base64_text(input).unwrap_or_else(|| input.to_string());
        let key = if text.lines().count() >= 2 {
            minisign_verify::PublicKey::decode(&text)
        } else {
            minisign_verify::PublicKey::from_base64(text.trim())
        };
        key.map(Self).map_err(|_| {
            "is not a minisign public key (expected base64 of the minisign.pub file, as tauri.conf.json holds it)"
                .to_string()
        })
    }
}

/// A minisign signature as published next to a Tauri artifact (the `.sig`
/// file: base64 of the signature text), or the signature text itself.
#[derive(Clone)]
pub struct MinisignSignature(minisign_verify::Signature);

impl MinisignSignature {
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        let text = decode_base64_text(input).unwrap_or_else(|| input.to_string());
        minisign_verify::Signature::decode(&text).map(Self).map_err(|_| {
            "is not a minisign signature (expected the .sig file's content from `tauri signer sign` or minisign)"
                .to_string()
        })
    }

    /// One `key:value` of the trusted comment, which the Tauri CLI writes as
    /// `timestamp:<unix>\tfile:<name>`, with `\tversion:<version>` when it
    /// knows the app's version.
    fn trusted(&self, key: &str) -> Option<&str> {
        self.0
            .trusted_comment()
            .split('\t')
            .find_map(|part| part.strip_prefix(key)?.strip_prefix(':'))
    }

    /// Checks everything that can be checked without the file: the signing
    /// key, the algorithm, and the signed version and file name when the
    /// trusted comment names them. `file_name` is the registered URL's last
    /// path segment, percent-decoded.
    pub fn check_against(
        &self,
        key: &TauriPublicKey,
        version: &Version,
        file_name: &str,
    ) -> Result<(), String> {
        key.0.verify_stream(&self.0).map_err(|e| match e {
            minisign_verify::Error::UnexpectedKeyId => {
                "was made with a different key than the application's tauri_public_key".to_string()
            }
            minisign_verify::Error::UnsupportedLegacyMode => {
                "is a legacy (non-prehashed) minisign signature; sign with `tauri signer sign` or minisign 0.8 or later".to_string()
            }
            other => format!("cannot be checked: {other}"),
        })?;
        if let Some(signed) = self.trusted("version") {
            let matches = super::parse_version(signed).is_ok_and(|v| &v == version);
            if !matches {
                return Err(format!(
                    "was made for version {signed}, not {version} (trusted comment `version:`)"
                ));
            }
        }
        if let Some(signed) = self.trusted("file")
            && !is_signed_file(signed, file_name)
        {
            return Err(format!(
                "was made for the file {signed}, not {file_name} (trusted comment `file:`)"
            ));
        }
        Ok(())
    }

    /// A streaming verifier of the file's bytes; call [`Self::check_against`] first.
    pub fn verifier<'a>(&'a self, key: &'a TauriPublicKey) -> Result<MinisignVerifier<'a>, String> {
        key.0
            .verify_stream(&self.0)
            .map(MinisignVerifier)
            .map_err(|e| e.to_string())
    }
}

pub struct MinisignVerifier<'a>(minisign_verify::StreamVerifier<'a>);

impl MinisignVerifier<'_> {
    pub fn update(&mut self, chunk: &[u8]) {
        self.0.update(chunk);
    }

    pub fn finish(mut self) -> Result<(), String> {
        self.0
            .finalize()
            .map_err(|_| "does not verify against the downloaded file with the application's tauri_public_key".to_string())
    }
}

/// Sparkle's `SUPublicEDKey`: a base64 Ed25519 public key.
#[derive(Debug, Clone)]
pub struct SparklePublicKey(ed25519_dalek::VerifyingKey);

impl SparklePublicKey {
    pub fn parse(input: &str) -> Result<Self, String> {
        let bytes: [u8; 32] = STANDARD
            .decode(input.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("must be base64 of a 32-byte Ed25519 public key (SUPublicEDKey)")?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|_| "is not a valid Ed25519 public key".to_string())
    }
}

/// A Sparkle `sparkle:edSignature`: base64 of a 64-byte Ed25519 signature.
#[derive(Debug, Clone)]
pub struct EdSignature(ed25519_dalek::Signature);

impl EdSignature {
    pub fn parse(input: &str) -> Result<Self, String> {
        let bytes: [u8; 64] = STANDARD
            .decode(input.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("must be base64 of a 64-byte Ed25519 signature (sparkle:edSignature)")?;
        Ok(Self(ed25519_dalek::Signature::from_bytes(&bytes)))
    }

    pub fn verifier(&self, key: &SparklePublicKey) -> Result<EdVerifier, String> {
        key.0
            .verify_stream(&self.0)
            .map(EdVerifier)
            .map_err(|_| "is not a valid Ed25519 signature".to_string())
    }
}

pub struct EdVerifier(ed25519_dalek::StreamVerifier);

impl EdVerifier {
    pub fn update(&mut self, chunk: &[u8]) {
        self.0.update(chunk);
    }

    pub fn finish(self) -> Result<(), String> {
        self.0.finalize_and_verify().map_err(|_| {
            "does not verify against the downloaded file with the application's sparkle_public_key"
                .to_string()
        })
    }
}

/// Whether `registered` is the `signed` file under the names publishing
/// renames it to: GitHub release assets (and tauri-action) turn every
/// character but letters, digits, `_` and `-` into `.`, and tauri-action
/// inserts `_<version>_<arch>` into macOS `<name>.app.tar.gz`.
fn is_signed_file(signed: &str, registered: &str) -> bool {
    const MACOS_BUNDLE: &str = ".app.tar.gz";
    let (signed, registered) = (asset_name(signed), asset_name(registered));
    if signed == registered {
        return true;
    }
    signed.strip_suffix(MACOS_BUNDLE).is_some_and(|stem| {
        registered
            .strip_suffix(MACOS_BUNDLE)
            .and_then(|r| r.strip_prefix(stem))
            .is_some_and(|inserted| inserted.starts_with('_'))
    })
}

/// A file name as a GitHub release asset name: characters other than ASCII
/// letters, digits, `_` and `-` become `.`, and runs of `.` one `.`.
fn asset_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            c
        } else {
            '.'
        };
        if !(c == '.' && out.ends_with('.')) {
            out.push(c);
        }
    }
    out
}

/// Base64 that decodes to UTF-8 text, as Tauri wraps keys and signatures.
fn decode_base64_text(input: &str) -> Option<String> {
    let bytes = STANDARD.decode(input).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.contains('\n').then_some(text)
}

/// The minisign signature a Tauri client receives: base64 of the signature
/// text, whichever form it was published in.
pub fn tauri_signature_field(stored: &str) -> String {
    let stored = stored.trim();
    if decode_base64_text(stored).is_some() {
        stored.to_string()
    } else {
        STANDARD.encode(stored)
    }
}

/// The signing keys a release's files are checked against.
#[derive(Default)]
pub struct SigningKeys {
    pub tauri: Option<TauriPublicKey>,
    pub sparkle: Option<SparklePublicKey>,
}

impl SigningKeys {
    /// The application's keys, parsed (they were validated when stored).
    pub fn of(config: &ApplicationConfig) -> Self {
        Self {
            tauri: config
                .tauri_public_key
                .as_deref()
                .and_then(|k| TauriPublicKey::parse(k).ok()),
            sparkle: config
                .sparkle_public_key
                .as_deref()
                .and_then(|k| SparklePublicKey::parse(k).ok()),
        }
    }
}
