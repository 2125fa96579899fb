//! From detected files to the publish request: digests computed and checked
//! against what the feeds say, URLs from --base-url (or the feeds' own
//! absolute URLs), and the `POST /api/v1/applications/{app}/releases` body.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::detect::Detected;
use super::digest::{Digests, Progress, digest};
use super::{Exit, PublishOptions};
use crate::cli::failure::Failure;
use crate::domain::ArtifactKind;

/// One file of one target, ready to register.
pub struct PreparedFile {
    pub path: PathBuf,
    pub name: String,
    pub kind: ArtifactKind,
    pub url: String,
    pub digests: Digests,
    pub signature: Option<String>,
    pub ed_signature: Option<String>,
    /// The `.blockmap` beside the file: path, URL, size.
    pub blockmap: Option<(PathBuf, String, u64)>,
}

pub struct PreparedTarget {
    pub platform: &'static str,
    pub architecture: &'static str,
    pub minimum_system_version: Option<String>,
    pub files: Vec<PreparedFile>,
}

pub struct Prepared {
    pub targets: Vec<PreparedTarget>,
    pub body: Value,
}

/// `{version} {app} {channel} {platform} {arch} {file}`; without `{file}` the
/// (percent-encoded) file name is appended.
pub fn render(
    template: &str,
    options: &PublishOptions,
    platform: &str,
    arch: &str,
    file: &str,
) -> String {
    let encoded: String =
        percent_encoding::utf8_percent_encode(file, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
            .replace("%2E", ".")
            .replace("%2D", "-")
            .replace("%5F", "_");
    let rendered = template
        .replace("{version}", &options.version)
        .replace("{app}", &options.app)
        .replace("{channel}", &options.channel)
        .replace("{platform}", platform)
        .replace("{arch}", arch);
    if rendered.contains("{file}") {
        rendered.replace("{file}", &encoded)
    } else if rendered.ends_with('/') {
        format!("{rendered}{encoded}")
    } else {
        format!("{rendered}/{encoded}")
    }
}

fn mismatch(path: &str, field: &str, local: &str, feed: &str, said: &str) -> Exit {
    Exit::usage(Failure::new(format!(
        "{path} does not match {feed}: its {field} is {local}, {feed} says {said} (was it rebuilt or altered after {feed} was written?)"
    )))
}

/// Every feed's size and digests for a file must be the file's own.
fn check_against_feeds(
    path: &str,
    digests: &Digests,
    claims: &[(String, crate::cli::formats::FeedFile)],
) -> Result<(), Exit> {
    for (feed, said) in claims {
        if let Some(size) = said.size
            && size != digests.size
        {
            return Err(mismatch(
                path,
                "size",
                &digests.size.to_string(),
                feed,
                &size.to_string(),
            ));
        }
        let pairs = [
            ("sha512", &said.sha512, &digests.sha512),
            ("sha256", &said.sha256, &digests.sha256),
            ("sha1", &said.sha1, &digests.sha1),
        ];
        for (field, said, local) in pairs {
            if let Some(said) = said
                && !said.eq_ignore_ascii_case(local)
            {
                return Err(mismatch(path, field, local, feed, said));
            }
        }
    }
    Ok(())
}

pub fn prepare(detected: &Detected, options: &PublishOptions) -> Result<Prepared, Exit> {
    let entry_path = |file: usize| {
        detected.inventory.entries[detected.files[file].entry]
            .path
            .clone()
    };
    let total: u64 = (0..detected.files.len())
        .filter_map(|f| std::fs::metadata(entry_path(f)).ok())
        .map(|m| m.len())
        .sum();
    let progress = Progress::new(total, "hashing");
    let mut digests: HashMap<usize, Digests> = HashMap::new();
    for (index, file) in detected.files.iter().enumerate() {
        let path = entry_path(index);
        let computed = digest(&path, &progress).map_err(Exit::usage)?;
        check_against_feeds(&path.display().to_string(), &computed, &file.claimed_by)?;
        digests.insert(index, computed);
    }
    progress.finish();
    let mut targets = Vec::new();
    for target in &detected.targets {
        let mut files = Vec::new();
        for &index in &target.files {
            let file = &detected.files[index];
            let entry = &detected.inventory.entries[file.entry];
            let url = match (&options.base_url, &file.feed_url) {
                (Some(template), _) => render(
                    template,
                    options,
                    target.platform,
                    target.architecture,
                    &entry.name,
                ),
                (None, Some(url)) => url.clone(),
                (None, None) => {
                    return Err(Exit::usage(Failure::new(format!(
                        "{}: give --base-url: nothing says where this file is downloaded from",
                        entry.path.display()
                    ))));
                }
            };
            let blockmap = match &file.blockmap {
                Some(path) => {
                    let size = std::fs::metadata(path)
                        .map_err(|e| {
                            Exit::usage(Failure::new(format!(
                                "cannot read {}: {e}",
                                path.display()
                            )))
                        })?
                        .len();
                    let declared = file
                        .claimed_by
                        .iter()
                        .find_map(|(feed, f)| f.blockmap_size.map(|s| (feed, s)));
                    if let Some((feed, declared)) = declared
                        && declared != size
                    {
                        return Err(mismatch(
                            &path.display().to_string(),
                            "size",
                            &size.to_string(),
                            feed,
                            &declared.to_string(),
                        ));
                    }
                    Some((path.clone(), format!("{url}.blockmap"), size))
                }
                None => None,
            };
            files.push(PreparedFile {
                path: entry.path.clone(),
                name: entry.name.clone(),
                kind: file.kind,
                url,
                digests: digests[&index].clone(),
                signature: file.signature.clone(),
                ed_signature: file.ed_signature.clone(),
                blockmap,
            });
        }
        targets.push(PreparedTarget {
            platform: target.platform,
            architecture: target.architecture,
            minimum_system_version: target.minimum_system_version.clone(),
            files,
        });
    }
    let body = request_body(&targets, detected, options);
    Ok(Prepared { targets, body })
}

fn request_body(
    targets: &[PreparedTarget],
    detected: &Detected,
    options: &PublishOptions,
) -> Value {
    let targets: Vec<Value> = targets
        .iter()
        .map(|target| {
            let files: Vec<Value> = target.files.iter().map(file_body).collect();
            let mut value = json!({
                "platform": target.platform,
                "architecture": target.architecture,
                "files": files,
            });
            if let Some(minimum) = &target.minimum_system_version {
                value["minimum_system_version"] = json!(minimum);
            }
            value
        })
        .collect();
    let mut body = json!({
        "version": options.version,
        "channel": options.channel,
        "required": options.required,
        "targets": targets,
    });
    let notes = options.notes.clone().or_else(|| detected.notes.clone());
    let optional = [
        ("release_notes", notes.map(Value::from)),
        ("release_date", detected.date.map(|d| json!(d))),
        (
            "minimum_version",
            options.minimum_version.clone().map(Value::from),
        ),
        (
            "rollout_percentage",
            options
                .rollout
                .or(detected.rollout_percentage)
                .map(Value::from),
        ),
    ];
    for (field, value) in optional {
        if let Some(value) = value {
            body[field] = value;
        }
    }
    body
}

fn file_body(file: &PreparedFile) -> Value {
    let mut value = json!({
        "kind": file.kind.as_str(),
        "url": file.url,
        "size": file.digests.size,
        "sha256": file.digests.sha256,
        "sha512": file.digests.sha512,
    });
    if matches!(file.kind, ArtifactKind::Nupkg | ArtifactKind::NupkgDelta) {
        value["sha1"] = json!(file.digests.sha1);
    }
    if let Some(signature) = &file.signature {
        value["signature"] = json!(signature);
    }
    if let Some(signature) = &file.ed_signature {
        value["ed_signature"] = json!(signature);
    }
    if let Some((_, url, size)) = &file.blockmap {
        value["blockmap_url"] = json!(url);
        value["blockmap_size"] = json!(size);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let options = PublishOptions {
            app: "demo".into(),
            version: "1.2.0".into(),
            channel: "beta".into(),
            ..PublishOptions::default()
        };
        let render = |t: &str| render(t, &options, "darwin", "arm64", "Demo Setup 1.2.0.exe");
        assert_eq!(
            render("https://cdn.example.com/{app}/{version}/"),
            "https://cdn.example.com/demo/1.2.0/Demo%20Setup%201.2.0.exe"
        );
        assert_eq!(
            render("https://cdn.example.com/{channel}/{platform}-{arch}/{file}?dl=1"),
            "https://cdn.example.com/beta/darwin-arm64/Demo%20Setup%201.2.0.exe?dl=1"
        );
        assert_eq!(
            render("https://x/y"),
            "https://x/y/Demo%20Setup%201.2.0.exe"
        );
    }
}
