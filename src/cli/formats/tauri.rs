//! Tauri's static `latest.json`, as tauri-action writes it:
//! `{version, notes?, pub_date?, platforms: {"<os>-<arch>[-<bundle>]": {url, signature}}}`.
//! The `<os>-<arch>` key repeats one of the bundle keys; files are told apart
//! by URL. The dynamic form (top-level `url`, no `platforms`) names no
//! platform and is refused.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    FeedFile, FeedRelease, FormatError, group_targets, invalid, normalise_version, rfc3339_date,
};
use crate::domain::{ArtifactKind, normalize_architecture, normalize_platform};

#[derive(Deserialize)]
struct LatestJson {
    version: String,
    notes: Option<String>,
    pub_date: Option<String>,
    platforms: Option<BTreeMap<String, PlatformEntry>>,
}

#[derive(Deserialize)]
struct PlatformEntry {
    url: String,
    signature: Option<String>,
}

pub fn parse(text: &str) -> Result<FeedRelease, FormatError> {
    let feed: LatestJson = serde_json::from_str(text)
        .map_err(|e| invalid(format!("is not a Tauri latest.json: {e}")))?;
    let version = normalise_version(&feed.version)?;
    let date = rfc3339_date(feed.pub_date.as_deref(), "pub_date", "RFC 3339")?;
    let platforms = feed.platforms.ok_or_else(|| {
        invalid("has no `platforms` (the dynamic form names no platform; give the files instead)")
    })?;
    // Bundle-specific keys first, so a file's kind comes from its bundle.
    let mut entries: Vec<(&String, &PlatformEntry)> = platforms.iter().collect();
    entries.sort_by_key(|(key, _)| std::cmp::Reverse(key.matches('-').count()));
    let mut files = Vec::new();
    for (key, entry) in entries {
        let mut parts = key.splitn(3, '-');
        let (os, arch, bundle) = (parts.next().unwrap_or_default(), parts.next(), parts.next());
        let platform = normalize_platform(os).ok_or_else(|| {
            invalid(format!(
                "platforms key `{}`: unknown os `{os}`",
                key.escape_debug()
            ))
        })?;
        let architecture = arch.and_then(normalize_architecture).ok_or_else(|| {
            invalid(format!(
                "platforms key `{}`: unknown or missing architecture",
                key.escape_debug()
            ))
        })?;
        let kind = bundle
            .and_then(bundle_kind)
            .or_else(|| ArtifactKind::from_url(&entry.url))
            .ok_or_else(|| {
                invalid(format!(
                    "platforms.{key}: cannot tell the installer kind of {}",
                    entry.url
                ))
            })?;
        let mut file = FeedFile::new(entry.url.clone(), kind);
        file.signature = entry.signature.as_deref().map(|s| s.trim().to_string());
        files.push((Some(platform), vec![architecture], file));
    }
    Ok(FeedRelease {
        version,
        notes: feed.notes.filter(|n| !n.is_empty()),
        date,
        channel: None,
        rollout_percentage: None,
        targets: group_targets(files, None),
    })
}

/// Tauri's `{{bundle_type}}` names.
fn bundle_kind(bundle: &str) -> Option<ArtifactKind> {
    match bundle.to_ascii_lowercase().as_str() {
        "appimage" => Some(ArtifactKind::Appimage),
        "deb" => Some(ArtifactKind::Deb),
        "rpm" => Some(ArtifactKind::Rpm),
        "app" => Some(ArtifactKind::App),
        "msi" => Some(ArtifactKind::Msi),
        "nsis" => Some(ArtifactKind::Nsis),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "version": "v1.2.0",
      "notes": "Bug fixes",
      "pub_date": "2026-12-03T16:32:32.152Z",
      "platforms": {
        "linux-x86_64": {"signature": "c2ln", "url": "https://github.com/o/r/releases/download/v1.2.0/Demo_1.2.0_amd64.AppImage"},
        "linux-x86_64-appimage": {"signature": "c2ln", "url": "https://github.com/o/r/releases/download/v1.2.0/Demo_1.2.0_amd64.AppImage"},
        "linux-x86_64-deb": {"signature": "ZGVi", "url": "https://github.com/o/r/releases/download/v1.2.0/Demo_1.2.0_amd64.deb"},
        "darwin-aarch64": {"signature": "YXBw", "url": "https://github.com/o/r/releases/download/v1.2.0/Demo_1.2.0_aarch64.app.tar.gz"},
        "windows-x86_64-msi": {"signature": "bXNp", "url": "https://github.com/o/r/releases/download/v1.2.0/Demo_1.2.0_x64_en-US.msi"},
        "windows-x86_64-nsis": {"signature": "bnNpcw==", "url": "https://github.com/o/r/releases/download/v1.2.0/Demo_1.2.0_x64-setup.exe"}
      }
    }"#;

    #[test]
    fn reads_every_platform_once() {
        let release = parse(SAMPLE).unwrap();
        assert_eq!(release.version, "1.2.0");
        assert_eq!(release.notes.as_deref(), Some("Bug fixes"));
        assert_eq!(
            release.date.unwrap().to_rfc3339(),
            "2026-12-03T16:32:32.152+00:00"
        );
        type Summary<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Vec<(ArtifactKind, String)>,
        );
        let summary: Vec<Summary> = release
            .targets
            .iter()
            .map(|t| {
                let files = t.files.iter().map(|f| (f.kind, f.file_name())).collect();
                (t.platform, t.architecture, files)
            })
            .collect();
        let mut expected = vec![
            (
                Some("linux"),
                Some("amd64"),
                vec![
                    (
                        ArtifactKind::Appimage,
                        "Demo_1.2.0_amd64.AppImage".to_string(),
                    ),
                    (ArtifactKind::Deb, "Demo_1.2.0_amd64.deb".to_string()),
                ],
            ),
            (
                Some("windows"),
                Some("amd64"),
                vec![
                    (ArtifactKind::Msi, "Demo_1.2.0_x64_en-US.msi".to_string()),
                    (ArtifactKind::Nsis, "Demo_1.2.0_x64-setup.exe".to_string()),
                ],
            ),
            (
                Some("darwin"),
                Some("arm64"),
                vec![(
                    ArtifactKind::App,
                    "Demo_1.2.0_aarch64.app.tar.gz".to_string(),
                )],
            ),
        ];
        let mut summary_sorted = summary.clone();
        summary_sorted.sort_by_key(|t| (t.0, t.1));
        expected.sort_by_key(|t| (t.0, t.1));
        assert_eq!(summary_sorted, expected);
        let deb = &release
            .targets
            .iter()
            .find(|t| t.platform == Some("linux"))
            .unwrap()
            .files[1];
        assert_eq!(deb.signature.as_deref(), Some("ZGVi"));
    }

    #[test]
    fn refuses_what_it_cannot_place() {
        let dynamic = r#"{"version":"1.0.0","url":"https://x/a.AppImage","signature":"x"}"#;
        assert!(
            parse(dynamic)
                .unwrap_err()
                .to_string()
                .contains("no `platforms`")
        );
        let bad_os =
            r#"{"version":"1.0.0","platforms":{"beos-x86_64":{"url":"https://x/a.AppImage"}}}"#;
        assert!(
            parse(bad_os)
                .unwrap_err()
                .to_string()
                .contains("unknown os `beos`")
        );
        let bad_date = r#"{"version":"1.0.0","pub_date":"yesterday","platforms":{}}"#;
        assert!(
            parse(bad_date)
                .unwrap_err()
                .to_string()
                .contains("RFC 3339")
        );
        assert!(
            parse(r#"{"version":"one"}"#)
                .unwrap_err()
                .to_string()
                .contains("version `one`")
        );
    }
}
