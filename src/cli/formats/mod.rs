//! Update feeds as the build tools write them, read into one neutral shape:
//! Tauri's `latest.json` ([`tauri`]), electron-builder's `latest*.yml`
//! ([`electron`]), Velopack's `releases.<channel>.json` and legacy `RELEASES`
//! ([`velopack`]) and Sparkle's `appcast.xml` ([`sparkle`]). `updater
//! publish` and `updater import feed` both read feeds through [`parse`].

pub mod electron;
pub mod sparkle;
pub mod tauri;
pub mod velopack;

use chrono::{DateTime, Utc};

use crate::domain::{ArtifactKind, normalize_architecture, normalize_platform, parse_version};

/// The feed formats [`parse`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Tauri's static `latest.json` (as tauri-action writes it).
    TauriLatest,
    /// electron-builder's `latest.yml`, `latest-mac.yml`, `latest-linux*.yml`.
    ElectronYml,
    /// Velopack's `releases.<channel>.json`.
    VelopackJson,
    /// Squirrel/Velopack `RELEASES` lines.
    VelopackReleases,
    /// A Sparkle `appcast.xml`.
    SparkleAppcast,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TauriLatest => "tauri latest.json",
            Self::ElectronYml => "electron-builder yml",
            Self::VelopackJson => "velopack releases.json",
            Self::VelopackReleases => "RELEASES",
            Self::SparkleAppcast => "sparkle appcast",
        }
    }

    /// The format a feed's file name implies, if any.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        if lower == "latest.json" {
            Some(Self::TauriLatest)
        } else if lower.starts_with("releases.") && lower.ends_with(".json") {
            Some(Self::VelopackJson)
        } else if lower == "releases" || lower.starts_with("releases-") {
            Some(Self::VelopackReleases)
        } else if lower.ends_with(".yml") || lower.ends_with(".yaml") {
            Some(Self::ElectronYml)
        } else if lower.ends_with(".xml") || lower.ends_with(".rss") {
            Some(Self::SparkleAppcast)
        } else {
            None
        }
    }

    /// The format a feed's content looks like.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let text = text.trim_start_matches('\u{feff}').trim_start();
        if text.starts_with('<') {
            return Some(Self::SparkleAppcast);
        }
        if text.starts_with('{') {
            let value: serde_json::Value = serde_json::from_str(text).ok()?;
            let object = value.as_object()?;
            return if object.keys().any(|k| k.eq_ignore_ascii_case("assets")) {
                Some(Self::VelopackJson)
            } else {
                object.contains_key("version").then_some(Self::TauriLatest)
            };
        }
        if text.lines().next().is_some_and(velopack::is_releases_line) {
            return Some(Self::VelopackReleases);
        }
        let yaml: serde_norway::Value = serde_norway::from_str(text).ok()?;
        let mapping = yaml.as_mapping()?;
        (mapping.contains_key("version")
            && (mapping.contains_key("files") || mapping.contains_key("path")))
        .then_some(Self::ElectronYml)
    }
}

/// What [`parse`] knows about a feed besides its bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct FormatHint<'a> {
    /// The format, when the caller knows it; else told from the file name or the content.
    pub format: Option<Format>,
    /// The feed's file name (`latest-mac.yml`, `releases.win.json`): it names
    /// the platform of electron-builder and Velopack feeds.
    pub file_name: Option<&'a str>,
}

impl<'a> FormatHint<'a> {
    pub fn file_name(name: &'a str) -> Self {
        Self {
            format: None,
            file_name: Some(name),
        }
    }
}

/// One version of a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRelease {
    /// Normalised SemVer (`v1.2` → `1.2.0`).
    pub version: String,
    pub notes: Option<String>,
    pub date: Option<DateTime<Utc>>,
    /// The feed's channel when it names one other than the default.
    pub channel: Option<String>,
    /// electron-builder `stagingPercentage`, RELEASES `# NN%`.
    pub rollout_percentage: Option<u8>,
    pub targets: Vec<FeedTarget>,
}

/// One platform and architecture of a version. Either is `None` when the feed
/// does not say (a Velopack channel named `stable`, a Tauri v1 `Demo.app.tar.gz`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedTarget {
    pub platform: Option<&'static str>,
    pub architecture: Option<&'static str>,
    pub minimum_system_version: Option<String>,
    pub files: Vec<FeedFile>,
}

/// One file as the feed names it. Digests are lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedFile {
    /// The file name or URL exactly as the feed gives it.
    pub location: String,
    pub kind: ArtifactKind,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub sha512: Option<String>,
    pub sha1: Option<String>,
    /// Minisign signature: the `.sig` file's content (base64).
    pub signature: Option<String>,
    /// Sparkle EdDSA signature, base64.
    pub ed_signature: Option<String>,
    /// electron-builder `blockMapSize`.
    pub blockmap_size: Option<u64>,
}

impl FeedFile {
    pub fn new(location: impl Into<String>, kind: ArtifactKind) -> Self {
        Self {
            location: location.into(),
            kind,
            size: None,
            sha256: None,
            sha512: None,
            sha1: None,
            signature: None,
            ed_signature: None,
            blockmap_size: None,
        }
    }

    /// The last path segment of the location, percent-decoded.
    pub fn file_name(&self) -> String {
        file_name(&self.location)
    }
}

/// The last path segment of a name or URL, without query or fragment, percent-decoded.
pub fn file_name(location: &str) -> String {
    let path = location.split(['?', '#']).next().unwrap_or_default();
    let last = path.rsplit('/').next().unwrap_or_default();
    percent_encoding::percent_decode_str(last)
        .decode_utf8_lossy()
        .into_owned()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    #[error(
        "not a feed this version reads (latest.json, latest*.yml, releases.<channel>.json, RELEASES or appcast.xml)"
    )]
    Unrecognised,
    #[error("{0}")]
    Invalid(String),
}

pub(crate) fn invalid(message: impl Into<String>) -> FormatError {
    FormatError::Invalid(message.into())
}

/// An optional RFC 3339 date of a feed; `field` and `standard` name it
/// and its standard in the error (e.g. `pub_date`, `RFC 3339`).
fn rfc3339_date(
    value: Option<&str>,
    field: &str,
    standard: &str,
) -> Result<Option<DateTime<Utc>>, FormatError> {
    value
        .map(|d| {
            DateTime::parse_from_rfc3339(d)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| {
                    invalid(format!(
                        "{field} `{}` is not {standard}: {e}",
                        d.escape_debug()
                    ))
                })
        })
        .transpose()
}

/// Reads every version a feed holds.
pub fn parse(bytes: &[u8], hint: FormatHint<'_>) -> Result<Vec<FeedRelease>, FormatError> {
    let format = hint
        .format
        .or_else(|| hint.file_name.and_then(Format::from_file_name))
        .or_else(|| Format::sniff(bytes))
        .ok_or(FormatError::Unrecognised)?;
    let text = std::str::from_utf8(bytes)
        .map_err(|e| invalid(format!("is not UTF-8 text: {e}")))?
        .trim_start_matches('\u{feff}');
    match format {
        Format::TauriLatest => tauri::parse(text).map(|release| vec![release]),
        Format::ElectronYml => electron::parse(text, hint.file_name).map(|release| vec![release]),
        Format::VelopackJson => velopack::parse_json(text, hint.file_name),
        Format::VelopackReleases => velopack::parse_releases(text, hint.file_name),
        Format::SparkleAppcast => sparkle::parse(text),
    }
}

/// A version as the server will store it.
pub(crate) fn normalise_version(input: &str) -> Result<String, FormatError> {
    parse_version(input)
        .map(|v| v.to_string())
        .map_err(|e| invalid(format!("version `{}` {e}", input.escape_debug())))
}

/// What a file name says about its platform and architectures: tokens such
/// as `_amd64`, `x86_64`, `-arm64-mac`, `_universal` (a macOS universal build).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NameHints {
    pub platform: Option<&'static str>,
    pub architectures: Vec<&'static str>,
}

pub fn name_hints(name: &str) -> NameHints {
    let lower = name.to_ascii_lowercase().replace("x86_64", "amd64");
    let mut hints = NameHints::default();
    for token in lower.split(|c: char| !c.is_ascii_alphanumeric()) {
        if let Some(arch) = normalize_architecture(token)
            && !hints.architectures.contains(&arch)
        {
            hints.architectures.push(arch);
        }
        if hints.platform.is_none() {
            hints.platform = normalize_platform(token).filter(|p| *p != "ios" && *p != "android");
        }
    }
    if hints.platform.is_none() {
        hints.platform = platform_of_kind(&lower);
    }
    hints
}

/// The platform an installer kind only exists on.
fn platform_of_kind(lower_name: &str) -> Option<&'static str> {
    match ArtifactKind::from_url(lower_name)? {
        ArtifactKind::Appimage | ArtifactKind::Deb | ArtifactKind::Rpm => Some("linux"),
        ArtifactKind::App | ArtifactKind::Dmg => Some("darwin"),
        ArtifactKind::Msi | ArtifactKind::Nsis => Some("windows"),
        _ => None,
    }
}

/// Files grouped into targets, in first-seen order; a file named for several
/// architectures goes into each.
pub(crate) fn group_targets(
    files: Vec<(Option<&'static str>, Vec<&'static str>, FeedFile)>,
    minimum_system_version: Option<&str>,
) -> Vec<FeedTarget> {
    let mut targets: Vec<FeedTarget> = Vec::new();
    for (platform, architectures, file) in files {
        let architectures: Vec<Option<&'static str>> = if architectures.is_empty() {
            vec![None]
        } else {
            architectures.into_iter().map(Some).collect()
        };
        for architecture in architectures {
            let position = targets
                .iter()
                .position(|t| t.platform == platform && t.architecture == architecture);
            let target = match position {
                Some(i) => &mut targets[i],
                None => {
                    targets.push(FeedTarget {
                        platform,
                        architecture,
                        minimum_system_version: minimum_system_version.map(str::to_string),
                        files: Vec::new(),
                    });
                    targets.last_mut().expect("just pushed")
                }
            };
            if !target.files.iter().any(|f| f.location == file.location) {
                target.files.push(file.clone());
            }
        }
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_say_platform_and_architecture() {
        let cases: [(&str, Option<&str>, &[&str]); 9] = [
            ("Demo_1.2.0_amd64.AppImage", Some("linux"), &["amd64"]),
            ("Demo-1.2.0-1.x86_64.rpm", Some("linux"), &["amd64"]),
            ("Demo_1.2.0_x64_en-US.msi", Some("windows"), &["amd64"]),
            ("Demo_1.2.0_x64-setup.exe", Some("windows"), &["amd64"]),
            ("Demo_1.2.0_aarch64.app.tar.gz", Some("darwin"), &["arm64"]),
            ("Demo-1.2.0-arm64-mac.zip", Some("darwin"), &["arm64"]),
            ("Demo_1.2.0_universal.dmg", Some("darwin"), &["universal"]),
            ("Demo.app.tar.gz", Some("darwin"), &[]),
            ("Demo-1.2.0-full.nupkg", None, &[]),
        ];
        for (name, platform, architectures) in cases {
            let hints = name_hints(name);
            assert_eq!(hints.platform, platform, "{name}");
            assert_eq!(hints.architectures, architectures, "{name}");
        }
    }

    #[test]
    fn formats_from_names_and_content() {
        assert_eq!(
            Format::from_file_name("latest-mac.yml"),
            Some(Format::ElectronYml)
        );
        assert_eq!(
            Format::from_file_name("releases.win.json"),
            Some(Format::VelopackJson)
        );
        assert_eq!(
            Format::from_file_name("RELEASES"),
            Some(Format::VelopackReleases)
        );
        assert_eq!(
            Format::from_file_name("appcast.xml"),
            Some(Format::SparkleAppcast)
        );
        assert_eq!(
            Format::from_file_name("latest.json"),
            Some(Format::TauriLatest)
        );
        assert_eq!(
            Format::sniff(b"{\"Assets\":[]}"),
            Some(Format::VelopackJson)
        );
        assert_eq!(
            Format::sniff(b"{\"version\":\"1\"}"),
            Some(Format::TauriLatest)
        );
        assert_eq!(
            Format::sniff(b"<?xml version=\"1.0\"?><rss/>"),
            Some(Format::SparkleAppcast)
        );
        assert_eq!(
            Format::sniff(b"version: 1.0.0\nfiles: []\n"),
            Some(Format::ElectronYml)
        );
        assert_eq!(
            Format::sniff(format!("{} App-1.0.0-full.nupkg 10\n", "a".repeat(40)).as_bytes()),
            Some(Format::VelopackReleases)
        );
        assert_eq!(Format::sniff(b"hello"), None);
        assert_eq!(
            parse(b"hello", FormatHint::default()),
            Err(FormatError::Unrecognised)
        );
    }

    #[test]
    fn file_names_are_decoded() {
        assert_eq!(
            file_name("https://x/a/Demo%20Setup%201.2.0.exe?x=1"),
            "Demo Setup 1.2.0.exe"
        );
        assert_eq!(file_name("Demo Setup 1.2.0.exe"), "Demo Setup 1.2.0.exe");
    }

    /// The feeds the build tools wrote (tests/fixtures/build-outputs), read by file name.
    #[test]
    fn reads_the_build_tools_own_feeds() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/build-outputs/1.2.0");
        let cases = [
            ("tauri-action/latest.json", 1, 3),
            ("electron/latest.yml", 1, 1),
            ("electron/latest-mac.yml", 1, 1),
            ("electron/latest-linux.yml", 1, 1),
            ("velopack/releases.stable.json", 1, 1),
            ("velopack/RELEASES", 1, 1),
            ("sparkle/appcast.xml", 2, 2),
        ];
        for (path, releases, targets) in cases {
            let bytes = std::fs::read(root.join(path)).unwrap();
            let name = path.rsplit('/').next().unwrap();
            let parsed = parse(&bytes, FormatHint::file_name(name)).unwrap();
            assert_eq!(parsed.len(), releases, "{path}");
            assert_eq!(parsed[0].version, "1.2.0", "{path}");
            assert_eq!(parsed[0].targets.len(), targets, "{path}");
            let sniffed = parse(&bytes, FormatHint::default()).unwrap();
            assert_eq!(sniffed[0].version, "1.2.0", "{path} by content");
        }
    }
}
