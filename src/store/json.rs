//! The JSON columns' formats. They belong to the store, not to the domain
//! types, so the API can change without changing what databases hold.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::StoreError;
use super::decode_version;
use crate::domain::{ApplicationConfig, Artifact, ArtifactKind};

/// One element of a release's `files` column.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct StoredFile {
    kind: StoredKind,
    url: String,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha512: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ed_signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blockmap_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blockmap_size: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StoredKind {
    Appimage,
    Deb,
    Rpm,
    App,
    Dmg,
    Msi,
    Nsis,
    Nupkg,
    NupkgDelta,
    Zip,
    Other,
}

/// An application's `config` column.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct StoredConfig {
    update_check_url: String,
    auto_update: bool,
    update_interval: i64,
    required_update: bool,
    min_version: Option<String>,
    max_version: Option<String>,
    allow_prerelease: bool,
    custom_fields: BTreeMap<String, String>,
    notification_url: String,
    analytics_enabled: bool,
    tauri_public_key: Option<String>,
    sparkle_public_key: Option<String>,
    verify_on_register: bool,
    download_page: bool,
}

impl From<ArtifactKind> for StoredKind {
    fn from(kind: ArtifactKind) -> Self {
        match kind {
            ArtifactKind::Appimage => Self::Appimage,
            ArtifactKind::Deb => Self::Deb,
            ArtifactKind::Rpm => Self::Rpm,
            ArtifactKind::App => Self::App,
            ArtifactKind::Dmg => Self::Dmg,
            ArtifactKind::Msi => Self::Msi,
            ArtifactKind::Nsis => Self::Nsis,
            ArtifactKind::Nupkg => Self::Nupkg,
            ArtifactKind::NupkgDelta => Self::NupkgDelta,
            ArtifactKind::Zip => Self::Zip,
            ArtifactKind::Other => Self::Other,
        }
    }
}

impl From<StoredKind> for ArtifactKind {
    fn from(kind: StoredKind) -> Self {
        match kind {
            StoredKind::Appimage => Self::Appimage,
            StoredKind::Deb => Self::Deb,
            StoredKind::Rpm => Self::Rpm,
            StoredKind::App => Self::App,
            StoredKind::Dmg => Self::Dmg,
            StoredKind::Msi => Self::Msi,
            StoredKind::Nsis => Self::Nsis,
            StoredKind::Nupkg => Self::Nupkg,
            StoredKind::NupkgDelta => Self::NupkgDelta,
            StoredKind::Zip => Self::Zip,
            StoredKind::Other => Self::Other,
        }
    }
}

// The conversions destructure without `..`, so a field added to a domain
// type does not compile until the stored format decides about it.
impl From<&Artifact> for StoredFile {
    fn from(file: &Artifact) -> Self {
        let Artifact {
            kind,
            url,
            size,
            sha256,
            sha512,
            sha1,
            signature,
            ed_signature,
            blockmap_url,
            blockmap_size,
        } = file.clone();
        Self {
            kind: kind.into(),
            url,
            size,
            sha256,
            sha512,
            sha1,
            signature,
            ed_signature,
            blockmap_url,
            blockmap_size,
        }
    }
}

impl From<StoredFile> for Artifact {
    fn from(file: StoredFile) -> Self {
        let StoredFile {
            kind,
            url,
            size,
            sha256,
            sha512,
            sha1,
            signature,
            ed_signature,
            blockmap_url,
            blockmap_size,
        } = file;
        Self {
            kind: kind.into(),
            url,
            size,
            sha256,
            sha512,
            sha1,
            signature,
            ed_signature,
            blockmap_url,
            blockmap_size,
        }
    }
}

impl From<&ApplicationConfig> for StoredConfig {
    fn from(config: &ApplicationConfig) -> Self {
        let ApplicationConfig {
            update_check_url,
            auto_update,
            update_interval,
            required_update,
            min_version,
            max_version,
            allow_prerelease,
            custom_fields,
            notification_url,
            analytics_enabled,
            tauri_public_key,
            sparkle_public_key,
            verify_on_register,
            download_page,
        } = config.clone();
        Self {
            update_check_url,
            auto_update,
            update_interval,
            required_update,
            min_version: min_version.map(|v| v.to_string()),
            max_version: max_version.map(|v| v.to_string()),
            allow_prerelease,
            custom_fields,
            notification_url,
            analytics_enabled,
            tauri_public_key,
            sparkle_public_key,
            verify_on_register,
            download_page,
        }
    }
}

impl TryFrom<StoredConfig> for ApplicationConfig {
    type Error = StoreError;

    fn try_from(config: StoredConfig) -> Result<Self, StoreError> {
        let StoredConfig {
            update_check_url,
            auto_update,
            update_interval,
            required_update,
            min_version,
            max_version,
            allow_prerelease,
            custom_fields,
            notification_url,
            analytics_enabled,
            tauri_public_key,
            sparkle_public_key,
            verify_on_register,
            download_page,
        } = config;
        let version = |v: Option<String>| v.as_deref().map(decode_version).transpose();
        Ok(Self {
            update_check_url,
            auto_update,
            update_interval,
            required_update,
            min_version: version(min_version)?,
            max_version: version(max_version)?,
            allow_prerelease,
            custom_fields,
            notification_url,
            analytics_enabled,
            tauri_public_key,
            sparkle_public_key,
            verify_on_register,
            download_page,
        })
    }
}

pub(super) fn encode_files(files: &[Artifact]) -> Result<String, StoreError> {
    let stored: Vec<StoredFile> = files.iter().map(StoredFile::from).collect();
    Ok(serde_json::to_string(&stored)?)
}

/// A release's `files` column, which is never empty.
pub(super) fn decode_files(text: &str, version: &str) -> Result<Vec<Artifact>, StoreError> {
    let stored: Vec<StoredFile> = serde_json::from_str(text)?;
    if stored.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "release `{version}` has no files"
        )));
    }
    Ok(stored.into_iter().map(Artifact::from).collect())
}

pub(super) fn encode_config(config: &ApplicationConfig) -> Result<String, StoreError> {
    Ok(serde_json::to_string(&StoredConfig::from(config))?)
}

pub(super) fn decode_config(text: &str) -> Result<ApplicationConfig, StoreError> {
    serde_json::from_str::<StoredConfig>(text)?.try_into()
}

/// An application's `platforms` column: a JSON array of strings.
pub(super) fn encode_platforms(platforms: &[String]) -> Result<String, StoreError> {
    Ok(serde_json::to_string(platforms)?)
}

pub(super) fn decode_platforms(text: &str) -> Result<Vec<String>, StoreError> {
    Ok(serde_json::from_str(text)?)
}

/// A release's `metadata` column: a JSON object of strings, keys sorted.
pub(super) fn encode_metadata(metadata: &BTreeMap<String, String>) -> Result<String, StoreError> {
    Ok(serde_json::to_string(metadata)?)
}

pub(super) fn decode_metadata(text: &str) -> Result<BTreeMap<String, String>, StoreError> {
    Ok(serde_json::from_str(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<Artifact> {
        vec![
            Artifact {
                kind: ArtifactKind::NupkgDelta,
                url: "https://cdn.example.com/App-1.0.0-delta.nupkg".into(),
                size: u64::MAX,
                sha256: None,
                sha512: Some("ab".into()),
                sha1: Some("ef".into()),
                signature: Some("untrusted comment: x\nRWQ=".into()),
                ed_signature: None,
                blockmap_url: None,
                blockmap_size: None,
            },
            Artifact {
                kind: ArtifactKind::Appimage,
                url: "https://cdn.example.com/App.AppImage".into(),
                size: 12,
                sha256: Some("cd".into()),
                sha512: None,
                sha1: None,
                signature: None,
                ed_signature: Some("c2ln".into()),
                blockmap_url: Some("https://cdn.example.com/App.blockmap".into()),
                blockmap_size: Some(99),
            },
        ]
    }

    /// Existing databases hold exactly this; changing it breaks them.
    const FILES_JSON: &str = concat!(
        r#"[{"kind":"nupkg_delta","url":"https://cdn.example.com/App-1.0.0-delta.nupkg","#,
        r#""size":18446744073709551615,"sha512":"ab","sha1":"ef","#,
        r#""signature":"untrusted comment: x\nRWQ="},"#,
        r#"{"kind":"appimage","url":"https://cdn.example.com/App.AppImage","size":12,"#,
        r#""sha256":"cd","ed_signature":"c2ln","#,
        r#""blockmap_url":"https://cdn.example.com/App.blockmap","blockmap_size":99}]"#,
    );

    #[test]
    fn files_are_stored_in_the_pinned_format() {
        assert_eq!(encode_files(&files()).unwrap(), FILES_JSON);
        assert_eq!(decode_files(FILES_JSON, "1.0.0").unwrap(), files());
    }

    #[test]
    fn files_written_by_the_sqlite_upgrade_decode() {
        let upgraded = r#"[{"kind":"other","url":"https://x/a.tar.gz","size":42,"sha512":"ab","signature":null}]"#;
        let decoded = decode_files(upgraded, "1.0.0").unwrap();
        assert_eq!(decoded[0].kind, ArtifactKind::Other);
        assert_eq!(decoded[0].signature, None);
        assert!(matches!(
            decode_files("[]", "1.0.0"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            decode_files(r#"[{"kind":"Deb","url":"u","size":1}]"#, "1.0.0"),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn every_kind_has_its_stored_spelling() {
        let spellings: Vec<String> = ArtifactKind::ALL
            .into_iter()
            .map(|kind| serde_json::to_string(&StoredKind::from(kind)).unwrap())
            .collect();
        assert_eq!(
            spellings,
            [
                r#""appimage""#,
                r#""deb""#,
                r#""rpm""#,
                r#""app""#,
                r#""dmg""#,
                r#""msi""#,
                r#""nsis""#,
                r#""nupkg""#,
                r#""nupkg_delta""#,
                r#""zip""#,
                r#""other""#,
            ]
        );
    }

    #[test]
    fn config_is_stored_in_the_pinned_format() {
        let config = ApplicationConfig {
            update_interval: 3600,
            min_version: Some("1.0.0".parse().unwrap()),
            allow_prerelease: true,
            custom_fields: BTreeMap::from([("team".into(), "desktop".into())]),
            tauri_public_key: Some("key".into()),
            ..Default::default()
        };
        let json = concat!(
            r#"{"update_check_url":"","auto_update":false,"update_interval":3600,"#,
            r#""required_update":false,"min_version":"1.0.0","max_version":null,"#,
            r#""allow_prerelease":true,"custom_fields":{"team":"desktop"},"#,
            r#""notification_url":"","analytics_enabled":false,"tauri_public_key":"key","#,
            r#""sparkle_public_key":null,"verify_on_register":false,"download_page":false}"#,
        );
        assert_eq!(encode_config(&config).unwrap(), json);
        assert_eq!(decode_config(json).unwrap(), config);
        assert_eq!(decode_config("{}").unwrap(), ApplicationConfig::default());
        assert!(matches!(
            decode_config(r#"{"unknown":1}"#),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn string_columns_are_plain_json() {
        let metadata = BTreeMap::from([("b".into(), "2".into()), ("a".into(), "1".into())]);
        let json = encode_metadata(&metadata).unwrap();
        assert_eq!(json, r#"{"a":"1","b":"2"}"#);
        assert_eq!(decode_metadata(&json).unwrap(), metadata);
        let platforms = vec!["linux".to_string(), "darwin".to_string()];
        assert_eq!(
            encode_platforms(&platforms).unwrap(),
            r#"["linux","darwin"]"#
        );
    }
}
