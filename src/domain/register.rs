//! Registration rules: a draft as the client sent it becomes a [`Release`]
//! or the full list of what is wrong with it. Both registration forms are
//! handled here: the `/api/v1` single-file fields and the `files` list.
//!
//! Longer than 500 lines because the rules are one unit with their tests:
//! about 420 lines of rules, the rest unit tests beside them.

use std::collections::BTreeMap;

use chrono::{DateTime, SubsecRound, Utc};
use percent_encoding::percent_decode_str;

use super::signing::{EdSignature, MinisignSignature, SigningKeys};
use super::validate::{
    FieldErrors, MAX_SIGNATURE_LEN, MAX_TEXT_LEN, check_checksum, check_download_url,
    check_metadata, check_sha1, check_sha512, check_text,
};
use super::{
    Application, Artifact, ArtifactKind, ChecksumType, Release, ReleaseKey, Rollout,
    normalize_platform, parse_target, parse_version,
};

/// A registration as the client sent it, before any check.
pub struct ReleaseDraft {
    pub application_id: Option<String>,
    pub version: String,
    pub platform: String,
    pub architecture: String,
    pub channel: Option<String>,
    pub download_url: Option<String>,
    pub checksum: Option<String>,
    pub checksum_type: Option<String>,
    pub file_size: Option<u64>,
    pub signature: Option<String>,
    pub files: Option<Vec<FileDraft>>,
    pub release_notes: Option<String>,
    pub release_date: Option<DateTime<Utc>>,
    pub required: bool,
    pub minimum_version: Option<String>,
    pub minimum_system_version: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
    pub rollout_percentage: Option<u8>,
}

/// One file of a draft.
pub struct FileDraft {
    pub kind: Option<String>,
    pub url: String,
    pub size: u64,
    pub sha256: Option<String>,
    pub sha512: Option<String>,
    pub sha1: Option<String>,
    pub signature: Option<String>,
    pub ed_signature: Option<String>,
    pub blockmap_url: Option<String>,
    pub blockmap_size: Option<u64>,
}

/// Sizes up to 2^63 - 1 bytes: what every store can hold as a signed 64-bit integer.
const MAX_FILE_SIZE: u64 = i64::MAX as u64;
const MAX_FILES: usize = 32;

/// The single-file form as a one-element file list.
fn single_file(body: &mut ReleaseDraft, errors: &mut FieldErrors) -> Vec<FileDraft> {
    let (Some(url), Some(checksum), Some(size)) = (
        body.download_url.take(),
        body.checksum.take(),
        body.file_size.take(),
    ) else {
        for (field, missing) in [
            ("download_url", body.download_url.is_none()),
            ("checksum", body.checksum.is_none()),
            ("file_size", body.file_size.is_none()),
        ] {
            if missing {
                errors.add(field, "is required unless `files` is given");
            }
        }
        return Vec::new();
    };
    let (sha256, sha512) = match body.checksum_type.as_deref().map(ChecksumType::parse) {
        None | Some(Some(ChecksumType::Sha256)) => (Some(checksum), None),
        Some(Some(ChecksumType::Sha512)) => (None, Some(checksum)),
        Some(None) => {
            errors.add("checksum_type", "must be sha256 or sha512");
            return Vec::new();
        }
    };
    vec![FileDraft {
        kind: Some(
            ArtifactKind::from_url(&url)
                .unwrap_or(ArtifactKind::Other)
                .as_str()
                .to_string(),
        ),
        url,
        size,
        sha256,
        sha512,
        sha1: None,
        signature: body.signature.take(),
        ed_signature: None,
        blockmap_url: None,
        blockmap_size: None,
    }]
}

fn build_file(
    index: usize,
    file: FileDraft,
    allow_http: bool,
    single: bool,
    errors: &mut FieldErrors,
) -> Option<Artifact> {
    let name = |field: &str| file_field(single, index, field);
    let kind = match file.kind.as_deref() {
        Some(k) => ArtifactKind::parse(k).filter(|k| single || *k != ArtifactKind::Other),
        None => ArtifactKind::from_url(&file.url),
    };
    if kind.is_none() {
        let known: Vec<&str> = ArtifactKind::ALL[..ArtifactKind::ALL.len() - 1]
            .iter()
            .map(|k| k.as_str())
            .collect();
        let message = match &file.kind {
            Some(_) => format!("must be one of {}", known.join(", ")),
            None => format!(
                "cannot be told from the URL's file name; give one of {}",
                known.join(", ")
            ),
        };
        errors.add(name("kind"), message);
    }
    if let Err(e) = check_download_url(&file.url, allow_http) {
        errors.add(name("url"), e);
    }
    if file.size > MAX_FILE_SIZE {
        errors.add(
            name("size"),
            format!("must be at most {MAX_FILE_SIZE} bytes"),
        );
    }
    let sha256 = file
        .sha256
        .as_deref()
        .map(|c| check_checksum(c, ChecksumType::Sha256))
        .transpose()
        .map_err(|e| errors.add(name("sha256"), e))
        .ok()
        .flatten();
    let sha512 = file
        .sha512
        .as_deref()
        .map(check_sha512)
        .transpose()
        .map_err(|e| errors.add(name("sha512"), e))
        .ok()
        .flatten();
    let sha1 = file
        .sha1
        .as_deref()
        .map(check_sha1)
        .transpose()
        .map_err(|e| errors.add(name("sha1"), e))
        .ok()
        .flatten();
    if file.sha256.is_none() && file.sha512.is_none() {
        errors.add(name("sha256"), "give sha256, sha512 or both");
    }
    for (field, value) in [
        ("signature", &file.signature),
        ("ed_signature", &file.ed_signature),
    ] {
        match value {
            Some(v) if v.trim().is_empty() => {
                errors.add(name(field), "must not be empty when given")
            }
            Some(v) => {
                if let Err(e) = check_text(v, MAX_SIGNATURE_LEN, true) {
                    errors.add(name(field), e);
                }
            }
            None => {}
        }
    }
    if let Some(url) = &file.blockmap_url
        && let Err(e) = check_download_url(url, allow_http)
    {
        errors.add(name("blockmap_url"), e);
    }
    if file.blockmap_size.is_some() && file.blockmap_url.is_none() {
        errors.add(name("blockmap_size"), "needs blockmap_url");
    }
    Some(Artifact {
        kind: kind?,
        url: file.url,
        size: file.size,
        sha256,
        sha512,
        sha1,
        signature: file.signature,
        ed_signature: file.ed_signature,
        blockmap_url: file.blockmap_url,
        blockmap_size: file.blockmap_size,
    })
}

/// Kinds a Tauri or cargo-packager client installs, so they must be signed
/// when the application has a Tauri key.
const TAURI_KINDS: [ArtifactKind; 6] = [
    ArtifactKind::Appimage,
    ArtifactKind::App,
    ArtifactKind::Msi,
    ArtifactKind::Nsis,
    ArtifactKind::Deb,
    ArtifactKind::Rpm,
];
/// Kinds Sparkle installs on macOS.
const SPARKLE_KINDS: [ArtifactKind; 3] = [ArtifactKind::Zip, ArtifactKind::Dmg, ArtifactKind::App];

/// Checks signatures against the application's keys as far as possible
/// without the file: presence, key id, algorithm, signed version and
/// signed file name.
fn check_signatures(release: &Release, keys: &SigningKeys, single: bool, errors: &mut FieldErrors) {
    for (index, file) in release.files.iter().enumerate() {
        let field = |name: &str| file_field(single, index, name);
        if let Some(key) = &keys.tauri {
            match &file.signature {
                Some(sig) => {
                    let file_name = percent_decode_str(file.file_name()).decode_utf8_lossy();
                    let checked = MinisignSignature::parse(sig)
                        .and_then(|s| s.check_against(key, release.version(), &file_name));
                    if let Err(e) = checked {
                        errors.add(field("signature"), e);
                    }
                }
                None if TAURI_KINDS.contains(&file.kind) => errors.add(
                    field("signature"),
                    "is required: the application has a tauri_public_key and Tauri clients refuse unsigned updates",
                ),
                None => {}
            }
        }
        if let Some(sig) = &file.ed_signature
            && let Err(e) = EdSignature::parse(sig)
        {
            errors.add(field("ed_signature"), e);
        }
        if keys.sparkle.is_some()
            && release.key.platform == "darwin"
            && SPARKLE_KINDS.contains(&file.kind)
            && file.ed_signature.is_none()
        {
            errors.add(
                field("ed_signature"),
                "is required: the application has a sparkle_public_key and Sparkle refuses unsigned updates",
            );
        }
    }
}

/// Checks a registration and builds the release it describes, reporting
/// every problem at once, each under the field the client sent.
pub fn build_release(
    app: &Application,
    mut body: ReleaseDraft,
    allow_http: bool,
) -> Result<Release, FieldErrors> {
    let app_id = app.id.as_str();
    let mut errors = FieldErrors::default();
    if body
        .application_id
        .as_deref()
        .is_some_and(|id| id != app_id)
    {
        errors.add(
            "application_id",
            "does not match the application in the path",
        );
    }
    let version = parse_version(&body.version)
        .map_err(|e| errors.add("version", e))
        .ok();
    let target = parse_target(
        &body.platform,
        &body.architecture,
        body.channel.as_deref(),
        &mut errors,
    );
    let rollout_percentage = body.rollout_percentage.unwrap_or(100);
    if rollout_percentage > 100 {
        errors.add("rollout_percentage", "must be between 0 and 100");
    }
    let single = body.files.is_none();
    let requested = match body.files.take() {
        Some(files) => {
            let single_fields = [
                ("download_url", body.download_url.is_some()),
                ("checksum", body.checksum.is_some()),
                ("checksum_type", body.checksum_type.is_some()),
                ("file_size", body.file_size.is_some()),
                ("signature", body.signature.is_some()),
            ];
            for (field, given) in single_fields {
                if given {
                    errors.add(
                        field,
                        "give either `files` or the single-file fields, not both",
                    );
                }
            }
            if files.is_empty() {
                errors.add("files", "must list at least one file");
            }
            if files.len() > MAX_FILES {
                errors.add("files", format!("must list at most {MAX_FILES} files"));
            }
            files
        }
        None => single_file(&mut body, &mut errors),
    };
    let built: Vec<Option<Artifact>> = requested
        .into_iter()
        .take(MAX_FILES)
        .enumerate()
        .map(|(i, f)| build_file(i, f, allow_http, single, &mut errors))
        .collect();
    for (index, file) in built.iter().enumerate() {
        let Some(file) = file else { continue };
        if built[..index].iter().flatten().any(|f| f.kind == file.kind) {
            errors.add(
                file_field(single, index, "kind"),
                format!(
                    "`{}` is listed twice; a release has one file per kind",
                    file.kind.as_str()
                ),
            );
        }
    }
    let files: Vec<Artifact> = built.into_iter().flatten().collect();
    let notes = body.release_notes.unwrap_or_default();
    if let Err(e) = check_text(&notes, MAX_TEXT_LEN, true) {
        errors.add("release_notes", e);
    }
    let minimum_version = match body
        .minimum_version
        .as_deref()
        .filter(|m| !m.trim().is_empty())
    {
        None => None,
        Some(m) => parse_version(m)
            .map_err(|e| errors.add("minimum_version", e))
            .ok(),
    };
    if let (Some(min), Some(v)) = (&minimum_version, &version)
        && min > v
    {
        errors.add(
            "minimum_version",
            "must not be greater than the release version",
        );
    }
    let minimum_system_version = body
        .minimum_system_version
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    if let Some(v) = &minimum_system_version {
        let valid = v.len() <= 32
            && v.split('.')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if !valid {
            errors.add(
                "minimum_system_version",
                "must be a dotted numeric version such as 10.15 or 10.0.17763",
            );
        }
    }
    let metadata = body.metadata.unwrap_or_default();
    if let Err(e) = check_metadata(&metadata) {
        errors.add("metadata", e);
    }
    if let Some(platform) = normalize_platform(&body.platform)
        && !app.platforms.iter().any(|p| p == platform)
    {
        errors.add(
            "platform",
            format!(
                "application '{app_id}' does not list platform '{platform}' (it lists: {})",
                app.platforms.join(", ")
            ),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(version), Some(target)) = (version, target) else {
        unreachable!("every missing part added a field error");
    };
    let now = super::now();
    let release = Release {
        key: ReleaseKey {
            application_id: app_id.to_string(),
            version,
            platform: target.platform.to_string(),
            architecture: target.architecture.to_string(),
        },
        channel: target.channel,
        files,
        release_notes: notes,
        release_date: body.release_date.map_or(now, |d| d.trunc_subsecs(6)),
        required: body.required,
        minimum_version,
        minimum_system_version,
        metadata,
        created_at: now,
        rollout: Rollout {
            percentage: rollout_percentage,
            paused: false,
        },
        yanked: false,
        yank_reason: String::new(),
    };
    check_signatures(&release, &SigningKeys::of(&app.config), single, &mut errors);
    errors.into_result(release)
}

/// The name a file field's error is reported under: `files[<index>].<field>`,
/// or, for the single-file form, its historical field names.
pub fn file_field(single: bool, index: usize, field: &str) -> String {
    if !single {
        return format!("files[{index}].{field}");
    }
    match field {
        "url" => "download_url",
        "size" => "file_size",
        "sha256" | "sha512" => "checksum",
        other => other,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ApplicationConfig;

    fn app() -> Application {
        Application {
            id: "desk".into(),
            name: "Desk".into(),
            description: String::new(),
            platforms: vec!["linux".into()],
            config: ApplicationConfig::default(),
            created_at: crate::domain::now(),
            updated_at: crate::domain::now(),
        }
    }

    fn draft(version: &str) -> ReleaseDraft {
        ReleaseDraft {
            application_id: None,
            version: version.into(),
            platform: "Linux".into(),
            architecture: "x86_64".into(),
            channel: None,
            download_url: Some("https://cdn.example.com/desk-1.0.0.AppImage".into()),
            checksum: Some("A".repeat(64)),
            checksum_type: None,
            file_size: Some(10),
            signature: None,
            files: None,
            release_notes: None,
            release_date: None,
            required: false,
            minimum_version: None,
            minimum_system_version: None,
            metadata: None,
            rollout_percentage: None,
        }
    }

    #[test]
    fn the_single_file_form_becomes_a_one_file_release() {
        let release = build_release(&app(), draft("1.0.0"), false).unwrap();
        assert_eq!(release.id(), "desk-1.0.0-linux-amd64");
        assert_eq!(release.channel, "stable");
        assert_eq!(release.files.len(), 1);
        assert_eq!(release.files[0].kind, ArtifactKind::Appimage);
        assert_eq!(release.files[0].sha256.as_deref(), Some(&*"a".repeat(64)));
        assert_eq!(release.rollout.percentage, 100);
    }

    #[test]
    fn every_problem_is_reported_under_the_field_sent() {
        let mut bad = draft("one");
        bad.platform = "darwin".into();
        bad.download_url = Some("http://cdn.example.com/a".into());
        bad.rollout_percentage = Some(101);
        bad.files = Some(Vec::new());
        let errors = build_release(&app(), bad, false).unwrap_err();
        let fields: Vec<&str> = errors.0.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "checksum",
                "download_url",
                "file_size",
                "files",
                "platform",
                "rollout_percentage",
                "version"
            ]
        );
        assert!(errors.0["platform"].contains("does not list platform 'darwin'"));
    }

    #[test]
    fn file_errors_use_the_form_s_field_names() {
        assert_eq!(file_field(true, 0, "url"), "download_url");
        assert_eq!(file_field(true, 0, "sha512"), "checksum");
        assert_eq!(file_field(false, 2, "url"), "files[2].url");
    }
}
