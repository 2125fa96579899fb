//! `updater import go-updater PATH`: the Go updater's storage, either its
//! JSON file (`{"applications", "releases", "last_updated"}`) or its SQLite
//! database (tables `applications` and `releases`, opened read-only), as
//! candidates for our rules.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sqlx::sqlite::SqliteRow;
use sqlx::{ConnectOptions, Row};

use crate::domain::register::ReleaseDraft;
use crate::domain::validate::{
    ApplicationConfigDraft, FieldErrors, check_application_id, check_config, check_description,
    check_name, normalize_platforms,
};
use crate::domain::{Application, ChecksumType};

use super::plan::{AppCandidate, ReleaseCandidate, describe};

/// Go's JSON storage file, and the rows of its SQLite tables, as one shape.
#[derive(Debug, Deserialize)]
pub struct GoStorage {
    #[serde(default)]
    applications: Vec<GoApplication>,
    #[serde(default)]
    releases: Vec<GoRelease>,
}

#[derive(Debug, Deserialize)]
struct GoApplication {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    platforms: Option<Vec<String>>,
    #[serde(default)]
    config: Option<GoConfig>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

/// `models.ApplicationConfig`; none of it changed the Go service's answers.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GoConfig {
    update_check_url: Option<String>,
    auto_update: bool,
    update_interval: i64,
    required_update: bool,
    min_version: Option<String>,
    max_version: Option<String>,
    allow_prerelease: bool,
    custom_fields: Option<BTreeMap<String, String>>,
    notification_url: Option<String>,
    analytics_enabled: bool,
}

#[derive(Debug, Deserialize)]
struct GoRelease {
    #[serde(default)]
    id: String,
    #[serde(default)]
    application_id: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    platform: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    download_url: String,
    #[serde(default)]
    checksum: String,
    #[serde(default)]
    checksum_type: Option<String>,
    #[serde(default)]
    file_size: i64,
    #[serde(default)]
    release_notes: Option<String>,
    #[serde(default)]
    release_date: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    minimum_version: Option<String>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    created_at: Option<String>,
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Which of the Go updater's two stores a file is.
#[derive(Debug, Clone, Copy)]
pub enum GoFormat {
    Json,
    Sqlite,
}

impl GoFormat {
    pub fn name(self) -> &'static str {
        match self {
            GoFormat::Json => "go-updater-json",
            GoFormat::Sqlite => "go-updater-sqlite",
        }
    }
}

/// Reads either store, told apart by the SQLite header.
pub async fn read(path: &Path) -> Result<(GoFormat, GoStorage), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.starts_with(SQLITE_MAGIC) {
        drop(bytes);
        return read_sqlite(path).await.map(|s| (GoFormat::Sqlite, s));
    }
    serde_json::from_slice(&bytes)
        .map(|s| (GoFormat::Json, s))
        .map_err(|e| {
            format!(
                "{} is neither a SQLite database nor the Go updater's JSON storage file: {e}",
                path.display()
            )
        })
}

fn text(row: &SqliteRow, column: &str) -> Result<Option<String>, String> {
    row.try_get::<Option<String>, _>(column)
        .map_err(|e| format!("column `{column}`: {e}"))
}

/// A TEXT column holding JSON (platforms, config, metadata).
fn json_column<T: DeserializeOwned>(row: &SqliteRow, column: &str) -> Result<Option<T>, String> {
    match text(row, column)? {
        None => Ok(None),
        Some(raw) if raw.trim().is_empty() => Ok(None),
        Some(raw) => serde_json::from_str(&raw)
            .map(Some)
            .map_err(|e| format!("column `{column}` is not the JSON the Go updater writes: {e}")),
    }
}

async fn read_sqlite(path: &Path) -> Result<GoStorage, String> {
    let unreadable = |e: sqlx::Error| format!("cannot read the database {}: {e}", path.display());
    let mut connection = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(unreadable)?;
    let rows = sqlx::query(
        "SELECT id, name, description, platforms, config, created_at, updated_at \
         FROM applications ORDER BY created_at, id",
    )
    .fetch_all(&mut connection)
    .await
    .map_err(unreadable)?;
    let mut applications = Vec::new();
    for row in &rows {
        let id = text(row, "id")?.unwrap_or_default();
        let bad = |e: String| format!("application `{id}`: {e}");
        applications.push(GoApplication {
            name: text(row, "name").map_err(bad)?.unwrap_or_default(),
            description: text(row, "description").map_err(bad)?,
            platforms: json_column(row, "platforms").map_err(bad)?,
            config: json_column(row, "config").map_err(bad)?,
            created_at: text(row, "created_at").map_err(bad)?,
            updated_at: text(row, "updated_at").map_err(bad)?,
            id: id.clone(),
        });
    }
    let rows = sqlx::query(
        "SELECT id, application_id, version, platform, architecture, download_url, checksum, \
         checksum_type, file_size, release_notes, release_date, required, minimum_version, \
         metadata, created_at FROM releases ORDER BY application_id, created_at, id",
    )
    .fetch_all(&mut connection)
    .await
    .map_err(unreadable)?;
    let mut releases = Vec::new();
    for row in &rows {
        let id = text(row, "id")?.unwrap_or_default();
        let bad = |e: String| format!("release `{id}`: {e}");
        let file_size: Option<i64> = row
            .try_get("file_size")
            .map_err(|e| bad(format!("column `file_size`: {e}")))?;
        let required: Option<bool> = row
            .try_get("required")
            .map_err(|e| bad(format!("column `required`: {e}")))?;
        let text = |column: &str| text(row, column).map_err(&bad);
        releases.push(GoRelease {
            application_id: text("application_id")?.unwrap_or_default(),
            version: text("version")?.unwrap_or_default(),
            platform: text("platform")?.unwrap_or_default(),
            architecture: text("architecture")?.unwrap_or_default(),
            download_url: text("download_url")?.unwrap_or_default(),
            checksum: text("checksum")?.unwrap_or_default(),
            checksum_type: text("checksum_type")?,
            file_size: file_size.unwrap_or_default(),
            release_notes: text("release_notes")?,
            release_date: text("release_date")?,
            required: required.unwrap_or_default(),
            minimum_version: text("minimum_version")?,
            metadata: json_column(row, "metadata").map_err(bad)?,
            created_at: text("created_at")?,
            id: id.clone(),
        });
    }
    Ok(GoStorage {
        applications,
        releases,
    })
}

/// Go wrote RFC 3339 (`time.Time`, and its SQLite store at HEAD) or
/// SQLite's `datetime('now')` (`2026-02-16 10:00:00`, UTC). Go's zero time
/// means "not set".
fn timestamp(text: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text?.trim();
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc())
        })
        .ok()?;
    (parsed.timestamp() > 0).then(|| parsed.trunc_subsecs(6))
}

/// The Go config's fields that drive our update decision but did nothing in
/// the Go service (its N11): copied only with `--apply-policy`.
fn policy_notes(app: &GoApplication, config: &GoConfig) -> Vec<String> {
    let mut set = Vec::new();
    if config.required_update {
        set.push("required_update: true".to_string());
    }
    if config.allow_prerelease {
        set.push("allow_prerelease: true".to_string());
    }
    for (name, value) in [
        ("min_version", &config.min_version),
        ("max_version", &config.max_version),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            set.push(format!("{name}: {v}"));
        }
    }
    if set.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "application `{}` sets config {}, which the Go updater stored but never applied; \
         it was left out so update checks answer as before (re-run with --apply-policy to apply it)",
        app.id,
        set.join(", ")
    )]
}

/// An application our rules refuse: its id, where it was, and why.
pub struct RefusedApplication {
    pub id: String,
    pub source: String,
    pub reason: String,
}

pub struct Candidates {
    pub applications: Vec<Result<AppCandidate, RefusedApplication>>,
    pub releases: Vec<ReleaseCandidate>,
    pub notes: Vec<String>,
}

/// Maps the Go records to ours. Applications are checked here (the rules
/// the server's create uses); releases later, against their application.
pub fn candidates(storage: GoStorage, apply_policy: bool) -> Candidates {
    let mut notes = Vec::new();
    let applications = storage
        .applications
        .into_iter()
        .map(|go| {
            let source = format!("application {}", go.id);
            let config = go.config.as_ref();
            if !apply_policy && let Some(config) = config {
                notes.extend(policy_notes(&go, config));
            }
            match application(&go, apply_policy) {
                Ok(app) => Ok(AppCandidate { source, app }),
                Err(reason) => Err(RefusedApplication {
                    id: go.id,
                    source,
                    reason,
                }),
            }
        })
        .collect();
    let releases = storage.releases.into_iter().map(release).collect();
    Candidates {
        applications,
        releases,
        notes,
    }
}

fn application(go: &GoApplication, apply_policy: bool) -> Result<Application, String> {
    let mut errors = FieldErrors::default();
    if let Err(e) = check_application_id(&go.id) {
        errors.add("id", e);
    }
    check_name(&go.name, &mut errors);
    let description = go.description.clone().unwrap_or_default();
    check_description(&description, &mut errors);
    let platforms = normalize_platforms(go.platforms.as_deref().unwrap_or_default(), &mut errors);
    let empty = GoConfig::default();
    let config = go.config.as_ref().unwrap_or(&empty);
    let draft = ApplicationConfigDraft {
        update_check_url: config.update_check_url.clone().unwrap_or_default(),
        auto_update: config.auto_update,
        update_interval: config.update_interval,
        custom_fields: config.custom_fields.clone().unwrap_or_default(),
        notification_url: config.notification_url.clone().unwrap_or_default(),
        analytics_enabled: config.analytics_enabled,
        ..if apply_policy {
            ApplicationConfigDraft {
                required_update: config.required_update,
                min_version: config.min_version.clone(),
                max_version: config.max_version.clone(),
                allow_prerelease: config.allow_prerelease,
                ..Default::default()
            }
        } else {
            ApplicationConfigDraft::default()
        }
    };
    let config = check_config(draft, &mut errors);
    if !errors.is_empty() {
        return Err(describe(&errors));
    }
    let now = crate::domain::now();
    let created_at = timestamp(go.created_at.as_deref()).unwrap_or(now);
    Ok(Application {
        id: go.id.clone(),
        name: go.name.trim().to_string(),
        description,
        platforms,
        config,
        created_at,
        updated_at: timestamp(go.updated_at.as_deref()).unwrap_or(created_at),
    })
}

/// A Go release as a single-file registration. Checksums other than
/// SHA-256 cannot pass our rules; their drafts carry a checksum type
/// `build_release` refuses, and the reason says why.
fn release(go: GoRelease) -> ReleaseCandidate {
    let source = if go.id.is_empty() {
        format!(
            "release {}-{}-{}-{}",
            go.application_id, go.version, go.platform, go.architecture
        )
    } else {
        format!("release {}", go.id)
    };
    let mut problems = FieldErrors::default();
    let mut checksum_type = go
        .checksum_type
        .as_deref()
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| ChecksumType::Sha256.as_str().to_string());
    if let Some(reason) = weak_checksum(&checksum_type) {
        problems.add("checksum", reason);
        // Checked as SHA-256 so the rest of the record is still checked;
        // the reason above is the one reported for the checksum.
        checksum_type = ChecksumType::Sha256.as_str().to_string();
    }
    if go.file_size < 0 {
        problems.add("file_size", "is negative");
    }
    let release_date =
        timestamp(go.release_date.as_deref()).or_else(|| timestamp(go.created_at.as_deref()));
    let draft = ReleaseDraft {
        application_id: Some(go.application_id),
        version: go.version,
        platform: go.platform,
        architecture: go.architecture,
        channel: None,
        download_url: Some(go.download_url),
        checksum: Some(go.checksum.trim().to_string()),
        checksum_type: Some(checksum_type),
        file_size: u64::try_from(go.file_size).ok(),
        signature: None,
        files: None,
        release_notes: go.release_notes,
        release_date,
        required: go.required,
        minimum_version: go.minimum_version,
        minimum_system_version: None,
        metadata: go.metadata,
        rollout_percentage: None,
    };
    ReleaseCandidate {
        source,
        draft,
        dated: release_date.is_some(),
        problems,
    }
}

/// Why a checksum type the Go updater accepted is refused here.
fn weak_checksum(checksum_type: &str) -> Option<String> {
    let broken = match checksum_type {
        "md5" => "MD5",
        "sha1" => "SHA-1",
        _ => return None,
    };
    Some(format!(
        "checksum_type {checksum_type} is not accepted: {broken} collisions can be forged, so \
         it cannot vouch for the file; register the file's sha256 or sha512 instead"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_timestamps_in_both_store_forms() {
        let rfc = timestamp(Some("2025-01-10T09:00:00.123456789Z")).unwrap();
        assert_eq!(rfc.to_rfc3339(), "2025-01-10T09:00:00.123456+00:00");
        let sqlite = timestamp(Some("2025-01-10 09:00:00")).unwrap();
        assert_eq!(sqlite.to_rfc3339(), "2025-01-10T09:00:00+00:00");
        assert_eq!(
            timestamp(Some("0001-01-01T00:00:00Z")),
            None,
            "Go's zero time"
        );
        assert_eq!(timestamp(Some("yesterday")), None);
        assert_eq!(timestamp(None), None);
    }

    #[test]
    fn weak_checksums_are_named() {
        assert!(weak_checksum("md5").unwrap().contains("MD5 collisions"));
        assert!(weak_checksum("sha1").unwrap().contains("SHA-1 collisions"));
        assert_eq!(weak_checksum("sha256"), None);
    }

    #[test]
    fn policy_fields_are_left_out_unless_asked() {
        let go: GoApplication = serde_json::from_str(
            r#"{"id":"a","name":"A","platforms":["Linux"],
                "config":{"required_update":true,"min_version":"1.0","update_interval":60}}"#,
        )
        .unwrap();
        let plain = application(&go, false).unwrap();
        assert_eq!(plain.platforms, ["linux"]);
        assert!(!plain.config.required_update && plain.config.min_version.is_none());
        assert_eq!(plain.config.update_interval, 60);
        let notes = policy_notes(&go, go.config.as_ref().unwrap());
        assert!(
            notes[0].contains("required_update: true, min_version: 1.0"),
            "{notes:?}"
        );
        let applied = application(&go, true).unwrap();
        assert!(applied.config.required_update);
        assert_eq!(applied.config.min_version.unwrap().to_string(), "1.0.0");
    }
}
