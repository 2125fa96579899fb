//! Publishing one version for several targets at once. The batch is built
//! with the registration rules of [`super::register`], one release per
//! target, and compared with what is already published: a target published
//! with identical content is unchanged (CI re-runs), a new target is added,
//! and a target published with other content is a conflict listing what
//! differs.
//!
//! Longer than 500 lines because the rules are one unit with their tests:
//! about 330 lines of rules, the rest unit tests beside them.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};

use super::register::{FileDraft, ReleaseDraft, build_release};
use super::validate::FieldErrors;
use super::{
    Application, Artifact, Release, ReleaseKey, normalize_architecture, normalize_platform,
};

pub const MAX_TARGETS: usize = 64;

/// A publish request as the client sent it, before any check.
pub struct PublishDraft {
    pub version: String,
    pub channel: Option<String>,
    pub release_notes: Option<String>,
    pub release_date: Option<DateTime<Utc>>,
    pub required: bool,
    pub minimum_version: Option<String>,
    pub rollout_percentage: Option<u8>,
    pub metadata: Option<BTreeMap<String, String>>,
    pub targets: Vec<TargetDraft>,
}

/// One platform and architecture of a publish request, with its files.
pub struct TargetDraft {
    pub platform: String,
    pub architecture: String,
    pub minimum_system_version: Option<String>,
    pub files: Vec<FileDraft>,
}

/// The releases a publish request describes, one per target in request order.
#[derive(Debug, Clone)]
pub struct Batch {
    pub releases: Vec<Release>,
    /// Whether the client gave `release_date`; otherwise it is not compared
    /// with what is published.
    pub release_date_given: bool,
}

/// Fields of a target rather than of the whole version: their errors are
/// reported under `targets[<index>].`.
fn is_target_field(field: &str) -> bool {
    matches!(
        field,
        "platform" | "architecture" | "minimum_system_version"
    ) || field == "files"
        || field.starts_with("files[")
}

/// Checks a publish request and builds its releases, reporting every
/// problem of every target at once: version-wide fields under their own
/// names, a target's under `targets[<index>].<field>`.
pub fn build_batch(
    app: &Application,
    draft: PublishDraft,
    allow_http: bool,
) -> Result<Batch, FieldErrors> {
    let mut errors = FieldErrors::default();
    if draft.targets.is_empty() {
        errors.add("targets", "must list at least one target");
    }
    if draft.targets.len() > MAX_TARGETS {
        errors.add(
            "targets",
            format!("must list at most {MAX_TARGETS} targets"),
        );
    }
    let release_date_given = draft.release_date.is_some();
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (index, target) in draft.targets.iter().enumerate().take(MAX_TARGETS) {
        let (Some(platform), Some(architecture)) = (
            normalize_platform(&target.platform),
            normalize_architecture(&target.architecture),
        ) else {
            continue;
        };
        if let Some(first) = seen.insert((platform, architecture), index) {
            errors.add(
                format!("targets[{index}]"),
                format!("{platform}/{architecture} is listed twice (also targets[{first}])"),
            );
        }
    }
    let mut releases = Vec::new();
    for (index, target) in draft.targets.into_iter().enumerate().take(MAX_TARGETS) {
        let body = ReleaseDraft {
            application_id: None,
            version: draft.version.clone(),
            platform: target.platform,
            architecture: target.architecture,
            channel: draft.channel.clone(),
            download_url: None,
            checksum: None,
            checksum_type: None,
            file_size: None,
            signature: None,
            files: Some(target.files),
            release_notes: draft.release_notes.clone(),
            release_date: draft.release_date,
            required: draft.required,
            minimum_version: draft.minimum_version.clone(),
            minimum_system_version: target.minimum_system_version,
            metadata: draft.metadata.clone(),
            rollout_percentage: draft.rollout_percentage,
        };
        match build_release(app, body, allow_http) {
            Ok(release) => releases.push(release),
            Err(target_errors) => {
                for (field, message) in target_errors.0 {
                    if is_target_field(&field) {
                        errors.add(format!("targets[{index}].{field}"), message);
                    } else {
                        errors.add(field, message);
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // One publish, one moment: every target gets the same timestamps.
    let now = super::now();
    for release in &mut releases {
        release.created_at = now;
        release.release_date = draft.release_date.map_or(now, |d| d.trunc_subsecs(6));
    }
    Ok(Batch {
        releases,
        release_date_given,
    })
}

/// One field in which a published target differs from the request.
/// `None` means the side does not have the field (or the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `platform/architecture`.
    pub target: String,
    /// As the request names it, e.g. `files[0].sha512`.
    pub field: String,
    pub published: Option<String>,
    pub requested: Option<String>,
}

fn target_label(key: &ReleaseKey) -> String {
    format!("{}/{}", key.platform, key.architecture)
}

/// What differs between a published release and the one requested for the
/// same target: the content a client is offered (version, channel, files,
/// notes, `required`, minimum versions, metadata, and the release date when
/// the request gives one). Rollout and yank state are not compared: they are
/// managed after publishing. Files are matched by kind, since a re-run may
/// list them in another order; each is named by its index in the request.
pub fn differences(
    published: &Release,
    requested: &Release,
    compare_release_date: bool,
) -> Vec<Difference> {
    let target = target_label(&requested.key);
    let mut found = Vec::new();
    let mut compare = |field: String, published: Option<String>, requested: Option<String>| {
        if published != requested {
            found.push(Difference {
                target: target.clone(),
                field,
                published,
                requested,
            });
        }
    };
    let version = |r: &Release| Some(r.version().to_string());
    compare("version".into(), version(published), version(requested));
    compare(
        "channel".into(),
        Some(published.channel.clone()),
        Some(requested.channel.clone()),
    );
    compare(
        "release_notes".into(),
        Some(published.release_notes.clone()),
        Some(requested.release_notes.clone()),
    );
    compare(
        "required".into(),
        Some(published.required.to_string()),
        Some(requested.required.to_string()),
    );
    let minimum = |r: &Release| r.minimum_version.as_ref().map(ToString::to_string);
    compare(
        "minimum_version".into(),
        minimum(published),
        minimum(requested),
    );
    compare(
        "minimum_system_version".into(),
        published.minimum_system_version.clone(),
        requested.minimum_system_version.clone(),
    );
    let metadata = |r: &Release| {
        Some(
            r.metadata
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    compare("metadata".into(), metadata(published), metadata(requested));
    if compare_release_date {
        let date = |r: &Release| Some(r.release_date.to_rfc3339());
        compare("release_date".into(), date(published), date(requested));
    }
    for (index, file) in requested.files.iter().enumerate() {
        match published.files.iter().find(|f| f.kind == file.kind) {
            None => compare(
                format!("files[{index}]"),
                None,
                Some(format!("{} file", file.kind.as_str())),
            ),
            Some(before) => {
                for (field, published, requested) in file_fields(before, file) {
                    compare(format!("files[{index}].{field}"), published, requested);
                }
            }
        }
    }
    for file in &published.files {
        if !requested.files.iter().any(|f| f.kind == file.kind) {
            compare(
                "files".into(),
                Some(format!("{} file", file.kind.as_str())),
                None,
            );
        }
    }
    found
}

type FieldPair = (&'static str, Option<String>, Option<String>);

fn file_fields(published: &Artifact, requested: &Artifact) -> [FieldPair; 9] {
    let size = |s: Option<u64>| s.map(|s| s.to_string());
    [
        (
            "url",
            Some(published.url.clone()),
            Some(requested.url.clone()),
        ),
        (
            "size",
            size(Some(published.size)),
            size(Some(requested.size)),
        ),
        ("sha256", published.sha256.clone(), requested.sha256.clone()),
        ("sha512", published.sha512.clone(), requested.sha512.clone()),
        ("sha1", published.sha1.clone(), requested.sha1.clone()),
        (
            "signature",
            published.signature.clone(),
            requested.signature.clone(),
        ),
        (
            "ed_signature",
            published.ed_signature.clone(),
            requested.ed_signature.clone(),
        ),
        (
            "blockmap_url",
            published.blockmap_url.clone(),
            requested.blockmap_url.clone(),
        ),
        (
            "blockmap_size",
            size(published.blockmap_size),
            size(requested.blockmap_size),
        ),
    ]
}

/// One target of a planned publish.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The release to store when new; the published one when unchanged.
    pub release: Release,
    pub new: bool,
}

/// Compares the batch with what is published: `published` finds the release
/// of a target whose version equals the batch's up to build metadata (a
/// version is unique per platform and architecture across channels).
/// Every difference of every target is returned at once.
pub fn plan(
    batch: Batch,
    published: impl Fn(&ReleaseKey) -> Option<Arc<Release>>,
) -> Result<Vec<Planned>, Vec<Difference>> {
    let mut conflicts = Vec::new();
    let mut planned = Vec::new();
    for release in batch.releases {
        match published(&release.key) {
            None => planned.push(Planned { release, new: true }),
            Some(existing) => {
                let found = differences(&existing, &release, batch.release_date_given);
                if found.is_empty() {
                    planned.push(Planned {
                        release: Release::clone(&existing),
                        new: false,
                    });
                } else {
                    conflicts.extend(found);
                }
            }
        }
    }
    if conflicts.is_empty() {
        Ok(planned)
    } else {
        Err(conflicts)
    }
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
            platforms: vec!["linux".into(), "darwin".into()],
            config: ApplicationConfig::default(),
            created_at: crate::domain::now(),
            updated_at: crate::domain::now(),
        }
    }

    fn file(name: &str) -> FileDraft {
        FileDraft {
            kind: None,
            url: format!("https://cdn.example.com/{name}"),
            size: 10,
            sha256: Some("a".repeat(64)),
            sha512: None,
            sha1: None,
            signature: None,
            ed_signature: None,
            blockmap_url: None,
            blockmap_size: None,
        }
    }

    fn target(platform: &str, architecture: &str, files: Vec<FileDraft>) -> TargetDraft {
        TargetDraft {
            platform: platform.into(),
            architecture: architecture.into(),
            minimum_system_version: None,
            files,
        }
    }

    fn draft(targets: Vec<TargetDraft>) -> PublishDraft {
        PublishDraft {
            version: "1.2.0".into(),
            channel: None,
            release_notes: Some("Fixes".into()),
            release_date: None,
            required: false,
            minimum_version: None,
            rollout_percentage: None,
            metadata: None,
            targets,
        }
    }

    fn two_targets() -> PublishDraft {
        draft(vec![
            target(
                "linux",
                "x86_64",
                vec![file("desk.AppImage"), file("desk.deb")],
            ),
            target("macos", "arm64", vec![file("desk.app.tar.gz")]),
        ])
    }

    #[test]
    fn every_target_becomes_a_release_with_one_timestamp() {
        let batch = build_batch(&app(), two_targets(), false).unwrap();
        let ids: Vec<String> = batch.releases.iter().map(Release::id).collect();
        assert_eq!(ids, ["desk-1.2.0-linux-amd64", "desk-1.2.0-darwin-arm64"]);
        assert_eq!(batch.releases[0].files.len(), 2);
        assert_eq!(batch.releases[0].created_at, batch.releases[1].created_at);
        assert_eq!(
            batch.releases[0].release_date,
            batch.releases[1].release_date
        );
        assert!(!batch.release_date_given);
    }

    #[test]
    fn every_error_of_every_target_is_listed_once() {
        let mut bad = draft(vec![
            target("linux", "amd64", vec![file("desk.AppImage")]),
            target("windows", "amd64", vec![file("desk.msi")]),
            target("darwin", "arm64", Vec::new()),
            target("Linux", "x64", vec![file("desk.deb")]),
        ]);
        bad.version = "one".into();
        bad.targets[0].files[0].sha256 = Some("zz".into());
        let errors = build_batch(&app(), bad, false).unwrap_err();
        let fields: Vec<&str> = errors.0.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "targets[0].files[0].sha256",
                "targets[1].platform",
                "targets[2].files",
                "targets[3]",
                "version"
            ]
        );
        assert!(errors.0["targets[3]"].contains("linux/amd64 is listed twice"));
    }

    #[test]
    fn the_number_of_targets_is_bounded() {
        let none = build_batch(&app(), draft(Vec::new()), false).unwrap_err();
        assert!(none.0["targets"].contains("at least one"));
        let many = (0..65)
            .map(|_| target("linux", "amd64", vec![file("a.deb")]))
            .collect();
        let many = build_batch(&app(), draft(many), false).unwrap_err();
        assert!(many.0["targets"].contains("at most 64"));
    }

    fn published(batch: &Batch) -> impl Fn(&ReleaseKey) -> Option<Arc<Release>> + '_ {
        |key| {
            batch
                .releases
                .iter()
                .find(|r| r.key == *key)
                .cloned()
                .map(Arc::new)
        }
    }

    #[test]
    fn identical_targets_are_unchanged_and_new_ones_added() {
        let first = build_batch(&app(), two_targets(), false).unwrap();
        let only_linux = Batch {
            releases: first.releases[..1].to_vec(),
            release_date_given: false,
        };
        let again = build_batch(&app(), two_targets(), false).unwrap();
        let planned = plan(again, published(&only_linux)).unwrap();
        assert!(!planned[0].new && planned[1].new);
        assert_eq!(
            planned[0].release.created_at, first.releases[0].created_at,
            "an unchanged target is the published release"
        );
    }

    #[test]
    fn files_are_matched_by_kind_whatever_their_order() {
        let first = build_batch(&app(), two_targets(), false).unwrap();
        let mut reordered = two_targets();
        reordered.targets[0].files.reverse();
        let reordered = build_batch(&app(), reordered, false).unwrap();
        assert!(
            plan(reordered, published(&first))
                .unwrap()
                .iter()
                .all(|p| !p.new)
        );
    }

    #[test]
    fn every_difference_is_named_by_target_and_field() {
        let first = build_batch(&app(), two_targets(), false).unwrap();
        let mut changed = two_targets();
        changed.release_notes = Some("Other".into());
        changed.targets[0].files[1].sha512 = Some("b".repeat(128));
        changed.targets[1].files[0].size = 11;
        changed.targets[0].files.remove(0);
        let changed = build_batch(&app(), changed, false).unwrap();
        let found = plan(changed, published(&first)).unwrap_err();
        let named: Vec<(&str, &str)> = found
            .iter()
            .map(|d| (d.target.as_str(), d.field.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("linux/amd64", "release_notes"),
                ("linux/amd64", "files[0].sha512"),
                ("linux/amd64", "files"),
                ("darwin/arm64", "release_notes"),
                ("darwin/arm64", "files[0].size"),
            ]
        );
        assert_eq!(found[1].published, None);
        assert_eq!(found[1].requested, Some("b".repeat(128)));
        assert_eq!(found[2].published.as_deref(), Some("appimage file"));
        assert_eq!(found[4].published.as_deref(), Some("10"));
    }

    #[test]
    fn dates_count_only_when_given_and_rollout_never() {
        let first = build_batch(&app(), two_targets(), false).unwrap();
        let mut later = two_targets();
        later.rollout_percentage = Some(10);
        let later = build_batch(&app(), later, false).unwrap();
        assert!(plan(later, published(&first)).is_ok());

        let mut dated = two_targets();
        dated.release_date = Some(chrono::DateTime::UNIX_EPOCH);
        let dated = build_batch(&app(), dated, false).unwrap();
        let found = plan(dated, published(&first)).unwrap_err();
        assert!(found.iter().all(|d| d.field == "release_date"), "{found:?}");
    }

    #[test]
    fn a_version_differing_in_build_metadata_is_a_difference() {
        let first = build_batch(&app(), two_targets(), false).unwrap();
        let mut built = two_targets();
        built.version = "1.2.0+build.7".into();
        let built = build_batch(&app(), built, false).unwrap();
        let found = plan(built, |key| {
            let mut base = key.clone();
            base.version.build = semver::BuildMetadata::EMPTY;
            published(&first)(&base)
        })
        .unwrap_err();
        assert_eq!(found[0].field, "version");
        assert_eq!(found[0].published.as_deref(), Some("1.2.0"));
        assert_eq!(found[0].requested.as_deref(), Some("1.2.0+build.7"));
    }
}
