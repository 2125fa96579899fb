//! electron-builder's `latest.yml` (Windows), `latest-mac.yml` and
//! `latest-linux[-<arch>].yml` (or `<channel>[-mac|-linux…].yml`), as
//! app-builder-lib writes them: `version`, `files[]` with `url`, base64
//! `sha512`, `size`, `blockMapSize`; the legacy top-level `path`/`sha512`
//! only when `files` is absent.

use serde::Deserialize;

use super::{
    FeedFile, FeedRelease, FormatError, group_targets, invalid, name_hints, normalise_version,
    rfc3339_date,
};
use crate::domain::validate::check_sha512;
use crate::domain::{ArtifactKind, normalize_architecture};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelFile {
    version: String,
    #[serde(default)]
    files: Vec<YmlFile>,
    path: Option<String>,
    sha512: Option<String>,
    release_date: Option<String>,
    release_notes: Option<Notes>,
    staging_percentage: Option<f64>,
    minimum_system_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct YmlFile {
    url: String,
    sha512: Option<String>,
    size: Option<u64>,
    block_map_size: Option<u64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Notes {
    Text(String),
    PerVersion(Vec<VersionNote>),
}

#[derive(Deserialize)]
struct VersionNote {
    version: String,
    note: Option<String>,
}

/// What the channel file's name says: channel, platform and architecture.
struct ChannelName {
    channel: Option<String>,
    platform: Option<&'static str>,
    architecture: Option<&'static str>,
}

fn channel_name(file_name: Option<&str>) -> ChannelName {
    let stem = file_name
        .map(|n| n.trim_end_matches(".yml").trim_end_matches(".yaml"))
        .unwrap_or_default();
    let (channel, platform, architecture) = if let Some((channel, rest)) = stem.split_once("-linux")
    {
        let arch = rest.strip_prefix('-').and_then(normalize_architecture);
        (channel, Some("linux"), Some(arch.unwrap_or("amd64")))
    } else if let Some(channel) = stem.strip_suffix("-mac") {
        (channel, Some("darwin"), None)
    } else if stem.is_empty() {
        ("latest", None, None)
    } else {
        (stem, Some("windows"), None)
    };
    ChannelName {
        channel: (channel != "latest" && !channel.is_empty()).then(|| channel.to_string()),
        platform,
        architecture,
    }
}

pub fn parse(text: &str, file_name: Option<&str>) -> Result<FeedRelease, FormatError> {
    let feed: ChannelFile = serde_norway::from_str(text)
        .map_err(|e| invalid(format!("is not an electron-builder channel file: {e}")))?;
    let version = normalise_version(&feed.version)?;
    let named = channel_name(file_name);
    let mut entries = feed.files;
    if entries.is_empty() {
        let path = feed
            .path
            .ok_or_else(|| invalid("names no file (neither `files` nor `path`)"))?;
        entries.push(YmlFile {
            url: path,
            sha512: feed.sha512,
            size: None,
            block_map_size: None,
        });
    }
    let mut files = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let field = |name: &str| format!("files[{index}].{name}");
        let kind = ArtifactKind::from_url(&entry.url).ok_or_else(|| {
            invalid(format!(
                "{}: cannot tell the installer kind of `{}`",
                field("url"),
                entry.url
            ))
        })?;
        let mut file = FeedFile::new(entry.url.clone(), kind);
        file.sha512 = entry
            .sha512
            .as_deref()
            .map(|s| check_sha512(s).map_err(|e| invalid(format!("{} {e}", field("sha512")))))
            .transpose()?;
        file.size = entry.size;
        file.blockmap_size = entry.block_map_size;
        let hints = name_hints(&file.file_name());
        let platform = hints.platform.or(named.platform);
        let mut architectures = hints.architectures;
        if architectures.is_empty() && platform.is_some() {
            // electron-builder leaves x64 out of file names.
            architectures.push(named.architecture.unwrap_or("amd64"));
        }
        files.push((platform, architectures, file));
    }
    let notes = feed.release_notes.and_then(|notes| match notes {
        Notes::Text(text) => Some(text),
        Notes::PerVersion(list) => {
            let joined: Vec<String> = list
                .into_iter()
                .filter_map(|n| n.note.map(|note| format!("{}: {note}", n.version)))
                .collect();
            (!joined.is_empty()).then(|| joined.join("\n\n"))
        }
    });
    let date = rfc3339_date(feed.release_date.as_deref(), "releaseDate", "ISO 8601")?;
    let rollout_percentage = feed
        .staging_percentage
        .map(|p| {
            if (0.0..=100.0).contains(&p) {
                Ok(p.round() as u8)
            } else {
                Err(invalid(format!(
                    "stagingPercentage {p} is not between 0 and 100"
                )))
            }
        })
        .transpose()?;
    Ok(FeedRelease {
        version,
        notes: notes.filter(|n| !n.is_empty()),
        date,
        channel: named.channel,
        rollout_percentage,
        targets: group_targets(files, feed.minimum_system_version.as_deref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: &str = "version: 1.2.0
files:
  - url: Demo-1.2.0-arm64-mac.zip
    sha512: M++FagIohBnkD1/rBa20UuYYDozZ8/VsTgzF58WjFaZNuBoyrHf+957ORlRaAalsboZbIYs4paj/09E5oONFMQ==
    size: 5380
    blockMapSize: 120
  - url: Demo-1.2.0-mac.zip
    sha512: W5dKSFqUTHsrWbr12oV0g+2BfBx8bJnLLXfN0dckMEDgRfve5pWhSqpda5aUeGI7qx0SGgRwalrZEhzmT/foeA==
    size: 6144
path: Demo-1.2.0-arm64-mac.zip
sha512: M++FagIohBnkD1/rBa20UuYYDozZ8/VsTgzF58WjFaZNuBoyrHf+957ORlRaAalsboZbIYs4paj/09E5oONFMQ==
releaseNotes: 'Demo 1.2.0: bug fixes.'
releaseDate: '2026-12-03T16:32:32.220Z'
minimumSystemVersion: '10.15'
stagingPercentage: 25
";

    #[test]
    fn mac_files_by_architecture() {
        let release = parse(MAC, Some("beta-mac.yml")).unwrap();
        assert_eq!(release.version, "1.2.0");
        assert_eq!(release.channel.as_deref(), Some("beta"));
        assert_eq!(release.rollout_percentage, Some(25));
        assert_eq!(release.notes.as_deref(), Some("Demo 1.2.0: bug fixes."));
        let targets: Vec<_> = release
            .targets
            .iter()
            .map(|t| {
                (
                    t.platform,
                    t.architecture,
                    t.files.len(),
                    t.minimum_system_version.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            targets,
            [
                (Some("darwin"), Some("arm64"), 1, Some("10.15")),
                (Some("darwin"), Some("amd64"), 1, Some("10.15"))
            ]
        );
        let zip = &release.targets[0].files[0];
        assert_eq!(zip.kind, ArtifactKind::Zip);
        assert_eq!(zip.size, Some(5380));
        assert_eq!(zip.blockmap_size, Some(120));
        assert_eq!(zip.sha512.as_deref().map(str::len), Some(128));
        assert!(zip.sha512.as_deref().unwrap().starts_with("33ef856a"));
    }

    #[test]
    fn windows_and_linux_by_file_name() {
        let windows = "version: 1.2.0\nfiles:\n  - url: Demo Setup 1.2.0.exe\n    sha512: 9TO5zPka6bTEhHtM6c62XDj9EYrm+ubO+Lzfpvfb1QER3vMi8525kooJ881cpha56Nn3kjd8i5jg+cW5zl8vdg==\n    size: 6144\n";
        let release = parse(windows, Some("latest.yml")).unwrap();
        assert_eq!(release.channel, None);
        let target = &release.targets[0];
        assert_eq!(
            (target.platform, target.architecture),
            (Some("windows"), Some("amd64"))
        );
        assert_eq!(target.files[0].kind, ArtifactKind::Nsis);
        assert_eq!(target.files[0].file_name(), "Demo Setup 1.2.0.exe");

        let legacy = "version: 2.0.0\npath: Demo-2.0.0.AppImage\nsha512: 9TO5zPka6bTEhHtM6c62XDj9EYrm+ubO+Lzfpvfb1QER3vMi8525kooJ881cpha56Nn3kjd8i5jg+cW5zl8vdg==\nreleaseNotes:\n  - version: 2.0.0\n    note: New\n";
        let release = parse(legacy, Some("latest-linux-arm64.yml")).unwrap();
        let target = &release.targets[0];
        assert_eq!(
            (target.platform, target.architecture),
            (Some("linux"), Some("arm64"))
        );
        assert_eq!(release.notes.as_deref(), Some("2.0.0: New"));
    }

    #[test]
    fn refuses_bad_digests_and_unknown_files() {
        let bad = "version: 1.0.0\nfiles:\n  - url: a.exe\n    sha512: nope\n    size: 1\n";
        let error = parse(bad, Some("latest.yml")).unwrap_err().to_string();
        assert!(
            error.starts_with("files[0].sha512 must be a SHA-512"),
            "{error}"
        );
        let unknown = "version: 1.0.0\nfiles:\n  - url: a.bin\n    size: 1\n";
        assert!(
            parse(unknown, None)
                .unwrap_err()
                .to_string()
                .contains("installer kind of `a.bin`")
        );
        assert!(
            parse("version: 1.0.0\n", None)
                .unwrap_err()
                .to_string()
                .contains("names no file")
        );
    }
}
