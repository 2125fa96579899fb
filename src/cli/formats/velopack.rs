//! Velopack feeds: `releases.<channel>.json` (`{"Assets": [{PackageId,
//! Version, Type, FileName, SHA1, SHA256, Size, NotesMarkdown}]}`, keys in
//! any case) and the legacy Squirrel `RELEASES[-<channel>]` lines
//! (`SHA1 file size [# NN%]`, the version from `<Id>-<version>-full.nupkg`).
//!
//! The channel names the platform only when it is one of Velopack's
//! defaults (`win`, `osx`, `linux`, which are our `stable`) or contains a
//! platform or architecture (`win-arm64`); otherwise the target's platform
//! and architecture are `None` for the caller to supply.

use serde_json::Value;

use super::{
    FeedFile, FeedRelease, FeedTarget, FormatError, file_name, invalid, name_hints,
    normalise_version,
};
use crate::domain::validate::{check_checksum, check_sha1};
use crate::domain::{ArtifactKind, ChecksumType};

/// What a feed's channel says: our channel (None for Velopack's
/// per-OS defaults) and any platform and architecture.
struct Channel {
    channel: Option<String>,
    platform: Option<&'static str>,
    architecture: Option<&'static str>,
}

fn channel_of(velopack_channel: Option<&str>) -> Channel {
    let Some(name) = velopack_channel.filter(|c| !c.is_empty()) else {
        return Channel {
            channel: None,
            platform: None,
            architecture: None,
        };
    };
    let hints = name_hints(name);
    let is_default = matches!(name, "win" | "osx" | "linux");
    Channel {
        channel: (!is_default).then(|| name.to_string()),
        platform: hints.platform,
        architecture: hints.architectures.first().copied(),
    }
}

/// One package line or asset, before grouping by version.
struct Package {
    version: String,
    notes: Option<String>,
    rollout_percentage: Option<u8>,
    file: FeedFile,
}

fn releases_by_version(packages: Vec<Package>, channel: Channel) -> Vec<FeedRelease> {
    let mut releases: Vec<FeedRelease> = Vec::new();
    for package in packages {
        let position = releases.iter().position(|r| r.version == package.version);
        let release = match position {
            Some(i) => &mut releases[i],
            None => {
                releases.push(FeedRelease {
                    version: package.version.clone(),
                    notes: None,
                    date: None,
                    channel: channel.channel.clone(),
                    rollout_percentage: None,
                    targets: vec![FeedTarget {
                        platform: channel.platform,
                        architecture: channel.architecture,
                        minimum_system_version: None,
                        files: Vec::new(),
                    }],
                });
                releases.last_mut().expect("just pushed")
            }
        };
        if release.notes.is_none() {
            release.notes = package.notes;
        }
        release.rollout_percentage = release.rollout_percentage.or(package.rollout_percentage);
        release.targets[0].files.push(package.file);
    }
    releases
}

/// `releases.<channel>.json` → `<channel>`; `RELEASES-<channel>` → `<channel>`.
fn feed_channel(feed_name: Option<&str>) -> Option<&str> {
    let name = feed_name?;
    name.strip_prefix("releases.")
        .and_then(|rest| rest.strip_suffix(".json"))
        .or_else(|| name.strip_prefix("RELEASES-"))
}

fn text_field<'a>(asset: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a str> {
    asset
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .and_then(|(_, value)| value.as_str())
        .filter(|text| !text.is_empty())
}

pub fn parse_json(text: &str, feed_name: Option<&str>) -> Result<Vec<FeedRelease>, FormatError> {
    let feed: Value = serde_json::from_str(text)
        .map_err(|e| invalid(format!("is not a Velopack releases feed: {e}")))?;
    let assets = feed
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("assets")))
        .and_then(|(_, v)| v.as_array())
        .ok_or_else(|| invalid("has no `Assets` list"))?;
    let mut packages = Vec::new();
    for (index, asset) in assets.iter().enumerate() {
        let at = |field: &str| format!("Assets[{index}].{field}");
        let asset = asset
            .as_object()
            .ok_or_else(|| invalid(format!("Assets[{index}] is not an object")))?;
        let required = |name: &str| {
            text_field(asset, name).ok_or_else(|| invalid(format!("{} is missing", at(name))))
        };
        let kind = match required("Type")?.to_ascii_lowercase().as_str() {
            "full" => ArtifactKind::Nupkg,
            "delta" => ArtifactKind::NupkgDelta,
            other => {
                return Err(invalid(format!(
                    "{} `{other}` is not Full or Delta",
                    at("Type")
                )));
            }
        };
        let mut file = FeedFile::new(required("FileName")?, kind);
        file.size = asset
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("size"))
            .and_then(|(_, v)| v.as_u64());
        file.sha1 = text_field(asset, "SHA1")
            .map(|s| check_sha1(s).map_err(|e| invalid(format!("{} {e}", at("SHA1")))))
            .transpose()?;
        file.sha256 = text_field(asset, "SHA256")
            .map(|s| {
                check_checksum(s, ChecksumType::Sha256)
                    .map_err(|e| invalid(format!("{} {e}", at("SHA256"))))
            })
            .transpose()?;
        packages.push(Package {
            version: normalise_version(required("Version")?)?,
            notes: text_field(asset, "NotesMarkdown").map(str::to_string),
            rollout_percentage: None,
            file,
        });
    }
    Ok(releases_by_version(
        packages,
        channel_of(feed_channel(feed_name)),
    ))
}

/// Whether a line looks like a `RELEASES` entry: 40 hex digits, a file and a size.
pub fn is_releases_line(line: &str) -> bool {
    let mut parts = line.split_whitespace();
    parts
        .next()
        .is_some_and(|sha| sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()))
        && parts.next().is_some()
        && parts.next().is_some_and(|size| size.parse::<u64>().is_ok())
}

/// `<Id>-<version>-full.nupkg` → version; the id may contain `-`.
fn version_in_package_name(name: &str) -> Option<String> {
    let stem = name
        .strip_suffix("-full.nupkg")
        .or_else(|| name.strip_suffix("-delta.nupkg"))?;
    stem.match_indices('-')
        .map(|(i, _)| &stem[i + 1..])
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .find_map(|rest| normalise_version(rest).ok())
}

pub fn parse_releases(
    text: &str,
    feed_name: Option<&str>,
) -> Result<Vec<FeedRelease>, FormatError> {
    let mut packages = Vec::new();
    for (number, raw) in text.lines().enumerate() {
        let at = |problem: String| invalid(format!("line {}: {problem}", number + 1));
        let (entry, comment) = raw.split_once('#').unwrap_or((raw, ""));
        if entry.trim().is_empty() {
            continue;
        }
        let mut parts = entry.split_whitespace();
        let (Some(sha1), Some(location), Some(size), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(at("is not `SHA1 file size`".into()));
        };
        let name = file_name(location);
        let kind = ArtifactKind::from_url(&name)
            .filter(|k| matches!(k, ArtifactKind::Nupkg | ArtifactKind::NupkgDelta))
            .ok_or_else(|| at(format!("`{name}` is not a .nupkg")))?;
        let version = version_in_package_name(&name)
            .ok_or_else(|| at(format!("`{name}` is not <Id>-<semver>-full|delta.nupkg")))?;
        let mut file = FeedFile::new(location, kind);
        file.sha1 = Some(check_sha1(sha1).map_err(|e| at(format!("SHA1 {e}")))?);
        file.size = Some(size.parse().map_err(|e| at(format!("size: {e}")))?);
        let rollout_percentage = comment
            .trim()
            .strip_suffix('%')
            .and_then(|p| p.trim().parse::<u8>().ok())
            .filter(|p| *p <= 100);
        packages.push(Package {
            version,
            notes: None,
            rollout_percentage,
            file,
        });
    }
    Ok(releases_by_version(
        packages,
        channel_of(feed_channel(feed_name)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"Assets": [
      {"PackageId":"Demo","Version":"1.2.0","Type":"Full","FileName":"Demo-1.2.0-full.nupkg",
       "SHA1":"CDB304E482327F5480B809AE460A0B0F9422C226",
       "SHA256":"824BA9C0266C35EFBB645D0AC2CEABCED5A568CA2830D107E70FA296102750A9",
       "Size":8341,"NotesMarkdown":"Fixes","NotesHTML":"<p>Fixes</p>"},
      {"packageId":"Demo","version":"1.2.0","type":"Delta","fileName":"Demo-1.2.0-delta.nupkg",
       "sha1":"3E24B1DD9AC4FDA0184BD0C5C87DA2C78F108166","size":2562},
      {"PackageId":"Demo","Version":"1.1.0","Type":"Full","FileName":"https://cdn.example.com/Demo-1.1.0-full.nupkg",
       "SHA1":"3E24B1DD9AC4FDA0184BD0C5C87DA2C78F108166","Size":8000}
    ]}"#;

    #[test]
    fn json_assets_grouped_by_version() {
        let releases = parse_json(JSON, Some("releases.win.json")).unwrap();
        assert_eq!(releases.len(), 2);
        let newest = &releases[0];
        assert_eq!(newest.version, "1.2.0");
        assert_eq!(newest.channel, None);
        assert_eq!(newest.notes.as_deref(), Some("Fixes"));
        let target = &newest.targets[0];
        assert_eq!(
            (target.platform, target.architecture),
            (Some("windows"), None)
        );
        let kinds: Vec<_> = target.files.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [ArtifactKind::Nupkg, ArtifactKind::NupkgDelta]);
        assert_eq!(
            target.files[0].sha1.as_deref(),
            Some("cdb304e482327f5480b809ae460a0b0f9422c226")
        );
        assert_eq!(target.files[0].sha256.as_deref().map(str::len), Some(64));
        assert_eq!(target.files[1].size, Some(2562));
        assert_eq!(
            releases[1].targets[0].files[0].file_name(),
            "Demo-1.1.0-full.nupkg"
        );

        let custom = parse_json(JSON, Some("releases.stable.json")).unwrap();
        assert_eq!(custom[0].channel.as_deref(), Some("stable"));
        assert_eq!(custom[0].targets[0].platform, None);
        let arm = parse_json(JSON, Some("releases.linux-arm64.json")).unwrap();
        assert_eq!(
            (arm[0].targets[0].platform, arm[0].targets[0].architecture),
            (Some("linux"), Some("arm64"))
        );
    }

    #[test]
    fn legacy_releases_lines() {
        let text = "\u{feff}CDB304E482327F5480B809AE460A0B0F9422C226 My-App-1.2.0-full.nupkg 8341\r\n\
                    # a comment\n\
                    3E24B1DD9AC4FDA0184BD0C5C87DA2C78F108166 My-App-1.3.0-beta.1-delta.nupkg 2562 # 20%\n";
        let releases =
            parse_releases(text.trim_start_matches('\u{feff}'), Some("RELEASES")).unwrap();
        let versions: Vec<&str> = releases.iter().map(|r| r.version.as_str()).collect();
        assert_eq!(versions, ["1.2.0", "1.3.0-beta.1"]);
        assert_eq!(releases[1].rollout_percentage, Some(20));
        assert_eq!(releases[0].targets[0].files[0].size, Some(8341));
        assert!(is_releases_line(
            "CDB304E482327F5480B809AE460A0B0F9422C226 a-1.0.0-full.nupkg 1"
        ));
    }

    #[test]
    fn refuses_malformed_entries() {
        let bad = parse_releases(
            "CDB304E482327F5480B809AE460A0B0F9422C226 Demo.nupkg 1\n",
            None,
        );
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("line 1: `Demo.nupkg` is not <Id>-<semver>")
        );
        let bad = parse_releases("xyz Demo-1.0.0-full.nupkg 1\n", None);
        assert!(bad.unwrap_err().to_string().starts_with("line 1: SHA1"));
        let bad = parse_json(
            r#"{"Assets":[{"Version":"1.0.0","Type":"Patch","FileName":"a"}]}"#,
            None,
        );
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("Assets[0].Type `patch`")
        );
        assert!(
            parse_json("{}", None)
                .unwrap_err()
                .to_string()
                .contains("no `Assets`")
        );
    }
}
