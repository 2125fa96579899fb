//! Recognising build outputs: the feeds the build tools wrote (Tauri
//! `latest.json`, electron-builder `latest*.yml`, Velopack
//! `releases.<channel>.json` / `RELEASES`, a Sparkle `appcast.xml`), the
//! files they name, and the files that speak for themselves: Tauri bundles
//! with their `.sig`, Sparkle archives with their `sign_update` output
//! (`<archive>.sign_update.txt`, or a `.sig` holding `sparkle:edSignature=`),
//! this version's `.nupkg`s, and plain files given by name.
//!
//! Files found by walking a directory that none of these claim are skipped
//! (electron-builder's `builder-debug.yml`, older versions' packages); a
//! file given by name must be claimed or described with --platform/--arch.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::inventory::Inventory;
use crate::cli::failure::Failure;
use crate::cli::formats::{self, FeedFile, FeedRelease, Format, FormatHint, name_hints};
use crate::domain::ArtifactKind;

/// --platform, --arch and --kind: what file names and feeds do not say.
#[derive(Clone, Copy, Default)]
pub struct Overrides {
    pub platform: Option<&'static str>,
    pub architecture: Option<&'static str>,
    pub kind: Option<ArtifactKind>,
}

/// A local file to publish, with what the feeds say about it.
pub struct LocalFile {
    pub entry: usize,
    pub kind: ArtifactKind,
    pub signature: Option<String>,
    pub ed_signature: Option<String>,
    /// The feeds' entries for this file (to check the file against), by feed path.
    pub claimed_by: Vec<(String, FeedFile)>,
    /// An absolute URL a feed gives, used when there is no --base-url.
    pub feed_url: Option<String>,
    pub blockmap: Option<std::path::PathBuf>,
}

pub struct LocalTarget {
    pub platform: &'static str,
    pub architecture: &'static str,
    pub minimum_system_version: Option<String>,
    /// Indices into [`Detected::files`].
    pub files: Vec<usize>,
}

#[derive(Default)]
pub struct Detected {
    pub inventory: Inventory,
    pub files: Vec<LocalFile>,
    pub targets: Vec<LocalTarget>,
    pub notes: Option<String>,
    pub date: Option<DateTime<Utc>>,
    pub rollout_percentage: Option<u8>,
    /// What was recognised, for the summary: `electron-builder yml: dist/latest.yml`.
    pub recognised: Vec<String>,
    pub skipped: usize,
    /// Feeds that list other versions only: `dist/RELEASES (1.1.0)`.
    pub other_versions: Vec<String>,
}

const TAURI_KINDS: [ArtifactKind; 6] = [
    ArtifactKind::Appimage,
    ArtifactKind::Deb,
    ArtifactKind::Rpm,
    ArtifactKind::App,
    ArtifactKind::Msi,
    ArtifactKind::Nsis,
];

fn is_side_file(name: &str) -> bool {
    name.ends_with(".sig") || name.ends_with(".blockmap") || name.ends_with(".sign_update.txt")
}

/// Canonical feed names: these must parse; other `.yml`/`.xml` files found
/// by walking may be anything (`builder-debug.yml`).
fn is_canonical_feed(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "latest.json"
        || (lower.starts_with("latest") && lower.ends_with(".yml"))
        || (lower.starts_with("releases.") && lower.ends_with(".json"))
        || lower == "releases"
        || lower.starts_with("releases-")
        || lower == "appcast.xml"
}

pub fn detect(
    inventory: Inventory,
    version: &str,
    overrides: Overrides,
) -> Result<Detected, Failure> {
    let mut detected = Detected {
        inventory,
        ..Detected::default()
    };
    let mut claimed = vec![false; detected.inventory.entries.len()];
    read_feeds(&mut detected, version, overrides, &mut claimed)?;
    let unclaimed: Vec<usize> = (0..claimed.len()).filter(|&i| !claimed[i]).collect();
    for index in unclaimed {
        let entry = &detected.inventory.entries[index];
        if is_side_file(&entry.name)
            || Format::from_file_name(&entry.name).is_some() && !entry.explicit
        {
            continue;
        }
        match speaks_for_itself(&detected, index, version, overrides)? {
            Some((platform, architectures, file)) => {
                detected
                    .recognised
                    .push(describe_file(&file, entry.path.as_path()));
                place(&mut detected, platform, &architectures, None, file)?;
            }
            None if entry.explicit => {
                return Err(Failure::new(format!(
                    "{}: not a build output this version recognises; describe it with --platform, --arch and --kind",
                    entry.path.display()
                )));
            }
            None => detected.skipped += 1,
        }
    }
    if detected.targets.is_empty() {
        let mut message = format!(
            "nothing to publish for version {version}: no Tauri bundle, electron-builder yml, Velopack feed, Sparkle appcast or plain file of it under the given paths"
        );
        if !detected.other_versions.is_empty() {
            message.push_str(&format!(
                "; these feeds list other versions only: {}",
                detected.other_versions.join(", ")
            ));
        }
        return Err(Failure::new(message));
    }
    Ok(detected)
}

fn describe_file(file: &LocalFile, path: &Path) -> String {
    let how = if file.signature.is_some() {
        "tauri bundle (.sig)"
    } else if file.ed_signature.is_some() {
        "sparkle archive (sign_update)"
    } else {
        "file"
    };
    format!("{how}: {}", path.display())
}

fn read_feeds(
    detected: &mut Detected,
    version: &str,
    overrides: Overrides,
    claimed: &mut [bool],
) -> Result<(), Failure> {
    let feeds: Vec<(usize, Format)> = detected
        .inventory
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, entry)| Some((i, Format::from_file_name(&entry.name)?)))
        .collect();
    // With both, releases.<channel>.json says more than RELEASES.
    let has_velopack_json = feeds
        .iter()
        .any(|&(_, format)| format == Format::VelopackJson);
    for (feed, format) in feeds {
        let entry = &detected.inventory.entries[feed];
        if has_velopack_json && format == Format::VelopackReleases {
            claimed[feed] = true;
            continue;
        }
        let path = entry.path.clone();
        let shown = path.display().to_string();
        let bytes =
            std::fs::read(&path).map_err(|e| Failure::new(format!("cannot read {shown}: {e}")))?;
        let releases = match formats::parse(&bytes, FormatHint::file_name(&entry.name)) {
            Ok(releases) => releases,
            Err(e) if entry.explicit || is_canonical_feed(&entry.name) => {
                return Err(Failure::new(format!("{shown}: {e}")));
            }
            Err(_) => {
                claimed[feed] = true;
                detected.skipped += 1;
                continue;
            }
        };
        claimed[feed] = true;
        let single = matches!(format, Format::TauriLatest | Format::ElectronYml);
        let feed_versions: Vec<String> = releases.iter().map(|r| r.version.clone()).collect();
        let Some(release) = releases.into_iter().find(|r| r.version == version) else {
            if single {
                return Err(Failure::new(format!(
                    "{shown} is for version {}, not {version}",
                    feed_versions.join(", ")
                )));
            }
            // An appcast or Velopack feed lists older versions too; this
            // version's archives may come with their own signatures.
            detected
                .other_versions
                .push(format!("{shown} ({})", feed_versions.join(", ")));
            continue;
        };
        detected
            .recognised
            .push(format!("{}: {shown}", format.as_str()));
        claim_release(detected, &path, release, overrides, claimed)?;
    }
    Ok(())
}

fn claim_release(
    detected: &mut Detected,
    feed: &Path,
    release: FeedRelease,
    overrides: Overrides,
    claimed: &mut [bool],
) -> Result<(), Failure> {
    let shown = feed.display().to_string();
    detected.notes = detected.notes.take().or(release.notes);
    detected.date = detected.date.or(release.date);
    detected.rollout_percentage = detected.rollout_percentage.or(release.rollout_percentage);
    for target in release.targets {
        let platform = target.platform.or(overrides.platform).ok_or_else(|| {
            Failure::new(format!(
                "{shown} does not say which platform its files are for: give --platform"
            ))
        })?;
        let architecture = target
            .architecture
            .or(overrides.architecture)
            .ok_or_else(|| {
                Failure::new(format!(
                    "{shown} does not say which architecture its files are for: give --arch"
                ))
            })?;
        for feed_file in target.files {
            let name = feed_file.file_name();
            let index = detected.inventory.find(&name, feed).ok_or_else(|| {
                Failure::new(format!(
                    "{shown} names {name}, which is not among the given files"
                ))
            })?;
            claimed[index] = true;
            let signature = sig_file(detected, index)?;
            if let (Some(local), Some(feed_signature)) = (&signature, &feed_file.signature)
                && local != feed_signature
            {
                return Err(Failure::new(format!(
                    "{}.sig differs from the signature {shown} gives for it",
                    detected.inventory.entries[index].path.display()
                )));
            }
            let file = LocalFile {
                entry: index,
                kind: feed_file.kind,
                signature: feed_file.signature.clone().or(signature),
                ed_signature: feed_file.ed_signature.clone(),
                feed_url: is_absolute(&feed_file.location).then(|| feed_file.location.clone()),
                blockmap: detected.inventory.sibling(index, ".blockmap"),
                claimed_by: vec![(shown.clone(), feed_file)],
            };
            place(
                detected,
                platform,
                &[architecture],
                target.minimum_system_version.clone(),
                file,
            )?;
        }
    }
    Ok(())
}

fn is_absolute(location: &str) -> bool {
    location.starts_with("https://") || location.starts_with("http://")
}

/// A minisign `.sig` beside the file (base64 text, as the Tauri CLI writes it).
fn sig_file(detected: &Detected, index: usize) -> Result<Option<String>, Failure> {
    let Some(path) = detected.inventory.sibling(index, ".sig") else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    Ok((!text.contains("sparkle:edSignature")).then(|| text.trim().to_string()))
}

/// `sign_update` output beside a Sparkle archive:
/// `sparkle:edSignature="…" length="…"`, in `<archive>.sign_update.txt` or `<archive>.sig`.
fn sign_update_output(detected: &Detected, index: usize) -> Result<Option<String>, Failure> {
    for suffix in [".sign_update.txt", ".sig"] {
        let Some(path) = detected.inventory.sibling(index, suffix) else {
            continue;
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
        if let Some(signature) = quoted_attribute(&text, "sparkle:edSignature") {
            let size = std::fs::metadata(&detected.inventory.entries[index].path)
                .map(|m| m.len())
                .ok();
            if let Some(length) = quoted_attribute(&text, "length")
                && length.parse::<u64>().ok() != size
            {
                return Err(Failure::new(format!(
                    "{}: sign_update signed {length} bytes, but the file has {} bytes (signed another build?)",
                    detected.inventory.entries[index].path.display(),
                    size.unwrap_or_default()
                )));
            }
            return Ok(Some(signature));
        }
    }
    Ok(None)
}

fn quoted_attribute(text: &str, name: &str) -> Option<String> {
    let start = text.find(&format!("{name}=\""))? + name.len() + 2;
    let end = text[start..].find('"')? + start;
    Some(text[start..end].to_string())
}

type Placement = (&'static str, Vec<&'static str>, LocalFile);

/// Tauri bundles with their `.sig`, Sparkle archives with `sign_update`
/// output, this version's `.nupkg`s, and files given by name.
fn speaks_for_itself(
    detected: &Detected,
    index: usize,
    version: &str,
    overrides: Overrides,
) -> Result<Option<Placement>, Failure> {
    let entry = &detected.inventory.entries[index];
    let shown = entry.path.display();
    let mut hints = name_hints(&entry.name);
    for dir in entry.within.iter().rev() {
        let dir_hints = name_hints(dir);
        if hints.architectures.is_empty() {
            hints.architectures = dir_hints.architectures;
        }
        hints.platform = hints.platform.or(dir_hints.platform);
    }
    let mut kind = ArtifactKind::from_url(&entry.name);
    let mut file = LocalFile {
        entry: index,
        kind: ArtifactKind::Other,
        signature: None,
        ed_signature: None,
        claimed_by: Vec::new(),
        feed_url: None,
        blockmap: detected.inventory.sibling(index, ".blockmap"),
    };
    let recognised = if let Some(signature) = sig_file(detected, index)?
        && kind.is_some_and(|k| TAURI_KINDS.contains(&k))
    {
        file.signature = Some(signature);
        true
    } else if let Some(signature) = sign_update_output(detected, index)? {
        file.ed_signature = Some(signature);
        hints.platform = hints.platform.or(Some("darwin"));
        if hints.architectures.is_empty() && hints.platform == Some("darwin") {
            // A Sparkle archive is for every Mac unless its name says otherwise.
            hints.architectures = vec!["amd64", "arm64"];
        }
        true
    } else if matches!(kind, Some(ArtifactKind::Nupkg | ArtifactKind::NupkgDelta)) {
        let own_version = entry.name.contains(&format!("-{version}-"));
        if !own_version && !entry.explicit {
            return Ok(None);
        }
        true
    } else {
        entry.explicit
    };
    if !recognised {
        return Ok(None);
    }
    if entry.explicit && overrides.kind.is_some() {
        kind = overrides.kind;
    }
    file.kind = kind.ok_or_else(|| {
        Failure::new(format!(
            "{shown}: cannot tell the installer kind from the name; give --kind"
        ))
    })?;
    let platform = hints.platform.or(overrides.platform).ok_or_else(|| {
        Failure::new(format!(
            "{shown}: the name does not say which platform it is for; give --platform"
        ))
    })?;
    let architectures = if hints.architectures.is_empty() {
        vec![overrides.architecture.ok_or_else(|| {
            Failure::new(format!(
                "{shown}: the name does not say which architecture it is for; give --arch"
            ))
        })?]
    } else {
        hints.architectures
    };
    Ok(Some((platform, architectures, file)))
}

/// Adds a file to its targets; a file both a feed and its `.sig` speak for
/// is one file, and two files of one kind in one target are refused.
fn place(
    detected: &mut Detected,
    platform: &'static str,
    architectures: &[&'static str],
    minimum_system_version: Option<String>,
    file: LocalFile,
) -> Result<(), Failure> {
    let existing = detected.files.iter().position(|f| f.entry == file.entry);
    let index = match existing {
        Some(i) => {
            let known = &mut detected.files[i];
            known.claimed_by.extend(file.claimed_by);
            known.signature = known.signature.take().or(file.signature);
            known.ed_signature = known.ed_signature.take().or(file.ed_signature);
            known.feed_url = known.feed_url.take().or(file.feed_url);
            i
        }
        None => {
            detected.files.push(file);
            detected.files.len() - 1
        }
    };
    for &architecture in architectures {
        let position = detected
            .targets
            .iter()
            .position(|t| t.platform == platform && t.architecture == architecture);
        let target = match position {
            Some(i) => &mut detected.targets[i],
            None => {
                detected.targets.push(LocalTarget {
                    platform,
                    architecture,
                    minimum_system_version: None,
                    files: Vec::new(),
                });
                detected.targets.last_mut().expect("just pushed")
            }
        };
        target.minimum_system_version = target
            .minimum_system_version
            .take()
            .or(minimum_system_version.clone());
        if target.files.contains(&index) {
            continue;
        }
        let kind = detected.files[index].kind;
        if let Some(&other) = target
            .files
            .iter()
            .find(|&&f| detected.files[f].kind == kind)
        {
            let path = |f: usize| {
                detected.inventory.entries[detected.files[f].entry]
                    .path
                    .display()
                    .to_string()
            };
            return Err(Failure::new(format!(
                "two {} files for {platform}/{architecture}: {} and {}; give one per kind",
                kind.as_str(),
                path(other),
                path(index)
            )));
        }
        target.files.push(index);
    }
    Ok(())
}
