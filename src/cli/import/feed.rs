//! `updater import feed URL|FILE --app ID`: an existing feed's versions,
//! read by the `cli::formats` parsers, as registrations into an existing
//! application. Relative file names resolve against the feed's URL (or
//! `--base-url`); a file the feed gives no SHA-256/SHA-512 for is refused
//! unless `--hash-files` downloads and hashes it.

use std::path::Path;

use reqwest::Url;

use crate::cli::formats::{self, FeedFile, FeedRelease, FeedTarget, Format, FormatHint};
use crate::domain::register::{FileDraft, ReleaseDraft};
use crate::domain::validate::FieldErrors;

use super::fetch::{Fetcher, MAX_FEED_BYTES};
use super::plan::ReleaseCandidate;

/// A feed as read: its bytes, where relative names resolve, its file name.
pub struct Feed {
    pub bytes: Vec<u8>,
    pub base: Option<Url>,
    pub file_name: Option<String>,
}

fn is_url(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Fetches a URL or reads a file; `base_url` serves a file's relative names.
pub async fn read(source: &str, base_url: Option<&str>, fetcher: &Fetcher) -> Result<Feed, String> {
    let base = base_url
        .map(|b| Url::parse(b).map_err(|e| format!("--base-url `{b}` is not a URL: {e}")))
        .transpose()?;
    if is_url(source) {
        let url = Url::parse(source).map_err(|e| format!("`{source}` is not a URL: {e}"))?;
        let bytes = fetcher.feed(&url).await?;
        let file_name = Some(formats::file_name(url.as_str())).filter(|n| !n.is_empty());
        return Ok(Feed {
            bytes,
            base: base.or(Some(url)),
            file_name,
        });
    }
    let path = Path::new(source);
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {source}: {e}"))?
        .len();
    if size > MAX_FEED_BYTES {
        return Err(format!(
            "{source} is larger than {MAX_FEED_BYTES} bytes; that is not a feed"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {source}: {e}"))?;
    Ok(Feed {
        bytes,
        base,
        file_name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
    })
}

/// Parses the feed; the format from `--format`, the file name or the content.
pub fn parse(feed: &Feed, format: Option<Format>) -> Result<(Format, Vec<FeedRelease>), String> {
    let hint = FormatHint {
        format,
        file_name: feed.file_name.as_deref(),
    };
    let found = format
        .or_else(|| feed.file_name.as_deref().and_then(Format::from_file_name))
        .or_else(|| Format::sniff(&feed.bytes));
    let releases = formats::parse(&feed.bytes, hint).map_err(|e| e.to_string())?;
    let format = found.ok_or_else(|| formats::FormatError::Unrecognised.to_string())?;
    Ok((format, releases))
}

/// What turns a feed's records into registrations.
pub struct Mapping<'a> {
    pub app_id: &'a str,
    pub channel: Option<&'a str>,
    pub platform: Option<&'a str>,
    pub architecture: Option<&'a str>,
    pub base: Option<&'a Url>,
    /// `Some` with `--hash-files`: the fetcher and the largest file to hash.
    pub hashing: Option<(&'a Fetcher, u64)>,
}

/// One candidate per version and target of the feed.
pub async fn candidates(
    releases: Vec<FeedRelease>,
    mapping: &Mapping<'_>,
) -> Vec<ReleaseCandidate> {
    let mut candidates = Vec::new();
    for release in releases {
        for target in &release.targets {
            candidates.push(candidate(&release, target, mapping).await);
        }
    }
    candidates
}

async fn candidate(
    release: &FeedRelease,
    target: &FeedTarget,
    mapping: &Mapping<'_>,
) -> ReleaseCandidate {
    let mut problems = FieldErrors::default();
    let platform = target.platform.or(mapping.platform).unwrap_or_else(|| {
        problems.add(
            "platform",
            "the feed does not say which platform this is; give --platform",
        );
        ""
    });
    let architecture = target
        .architecture
        .or(mapping.architecture)
        .unwrap_or_else(|| {
            problems.add(
                "architecture",
                "the feed does not say which architecture this is; give --arch",
            );
            ""
        });
    let mut files = Vec::new();
    for (index, file) in target.files.iter().enumerate() {
        files.push(file_draft(index, file, mapping, &mut problems).await);
    }
    let source = format!(
        "{} {}/{}",
        release.version,
        target.platform.unwrap_or("?"),
        target.architecture.unwrap_or("?")
    );
    ReleaseCandidate {
        source,
        draft: ReleaseDraft {
            application_id: Some(mapping.app_id.to_string()),
            version: release.version.clone(),
            platform: platform.to_string(),
            architecture: architecture.to_string(),
            channel: mapping
                .channel
                .map(str::to_string)
                .or_else(|| release.channel.clone()),
            download_url: None,
            checksum: None,
            checksum_type: None,
            file_size: None,
            signature: None,
            files: Some(files),
            release_notes: release.notes.clone(),
            release_date: release.date,
            required: false,
            minimum_version: None,
            minimum_system_version: target.minimum_system_version.clone(),
            metadata: None,
            rollout_percentage: release.rollout_percentage,
        },
        dated: release.date.is_some(),
        problems,
    }
}

/// The file's absolute URL: as given, or resolved against the base.
fn resolve(location: &str, base: Option<&Url>) -> Result<Url, String> {
    match Url::parse(location) {
        Ok(url) => Ok(url),
        Err(url::ParseError::RelativeUrlWithoutBase) => match base {
            Some(base) => base
                .join(location)
                .map_err(|e| format!("`{location}` does not resolve against {base}: {e}")),
            None => Err(format!(
                "`{location}` is a relative name; give --base-url to say where the files are"
            )),
        },
        Err(e) => Err(format!("`{location}` is not a URL: {e}")),
    }
}

async fn file_draft(
    index: usize,
    file: &FeedFile,
    mapping: &Mapping<'_>,
    problems: &mut FieldErrors,
) -> FileDraft {
    let field = |name: &str| format!("files[{index}].{name}");
    let url = resolve(&file.location, mapping.base)
        .map_err(|e| problems.add(field("url"), e))
        .ok();
    let (mut size, mut sha256, mut sha512) = (file.size, file.sha256.clone(), file.sha512.clone());
    let needs_hash = sha256.is_none() && sha512.is_none();
    match (needs_hash, mapping.hashing, &url) {
        (false, _, _) => {}
        (true, None, _) => problems.add(
            field("sha256"),
            format!(
                "the feed gives no SHA-256 or SHA-512{} for {}; re-run with --hash-files to download and hash it",
                if file.size.is_none() { " (nor a size)" } else { "" },
                file.file_name()
            ),
        ),
        (true, Some((fetcher, limit)), Some(url)) => match fetcher.hash(url, limit).await {
            Ok(hashed) if file.size.is_some_and(|s| s != hashed.size) => problems.add(
                field("size"),
                format!(
                    "the feed says {} bytes but {url} has {}",
                    file.size.unwrap_or_default(),
                    hashed.size
                ),
            ),
            Ok(hashed) => {
                size = Some(hashed.size);
                sha256 = Some(hashed.sha256);
                sha512 = Some(hashed.sha512);
            }
            Err(e) => problems.add(field("sha256"), format!("cannot hash the file: {e}")),
        },
        (true, Some(_), None) => {}
    }
    if size.is_none() && !problems.0.contains_key(&field("sha256")) {
        problems.add(
            field("size"),
            "the feed gives no size; re-run with --hash-files to download the file",
        );
    }
    let url = url
        .map(String::from)
        .unwrap_or_else(|| file.location.clone());
    let blockmap_url = file.blockmap_size.map(|_| format!("{url}.blockmap"));
    FileDraft {
        kind: Some(file.kind.as_str().to_string()),
        url,
        size: size.unwrap_or_default(),
        sha256,
        sha512,
        sha1: file.sha1.clone(),
        signature: file.signature.clone(),
        ed_signature: file.ed_signature.clone(),
        blockmap_url,
        blockmap_size: file.blockmap_size,
    }
}
