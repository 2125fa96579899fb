//! The rows both SQL backends keep, and their conversion to and from the
//! domain records, where stored values are checked.

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

use super::json::{
    decode_config, decode_files, decode_metadata, decode_platforms, encode_config, encode_files,
    encode_metadata, encode_platforms,
};
use super::{StoreError, decode_version};
use crate::domain::{Application, Release, ReleaseKey, Rollout};

/// A point in time: TIMESTAMPTZ in PostgreSQL; in SQLite, RFC 3339 text
/// with microseconds and `Z`.
#[derive(Debug)]
pub(super) struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    fn text(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Timestamp {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.text(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let raw = <&str as Decode<Sqlite>>::decode(value)?;
        let time = DateTime::from_str(raw).map_err(|e| format!("timestamp `{raw}`: {e}"))?;
        Ok(Self(time))
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <DateTime<Utc> as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }

    fn size_hint(&self) -> usize {
        Encode::<Postgres>::size_hint(&self.0)
    }
}

impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        <DateTime<Utc> as Decode<Postgres>>::decode(value).map(Self)
    }
}

/// A row of `applications`; the JSON columns are text in both backends.
#[derive(sqlx::FromRow)]
pub(super) struct DbApplication {
    pub id: String,
    pub name: String,
    pub description: String,
    pub platforms: String,
    pub config: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl TryFrom<DbApplication> for Application {
    type Error = StoreError;

    fn try_from(row: DbApplication) -> Result<Self, StoreError> {
        Ok(Self {
            platforms: decode_platforms(&row.platforms)?,
            config: decode_config(&row.config)?,
            id: row.id,
            name: row.name,
            description: row.description,
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
        })
    }
}

impl TryFrom<&Application> for DbApplication {
    type Error = StoreError;

    fn try_from(app: &Application) -> Result<Self, StoreError> {
        Ok(Self {
            id: app.id.clone(),
            name: app.name.clone(),
            description: app.description.clone(),
            platforms: encode_platforms(&app.platforms)?,
            config: encode_config(&app.config)?,
            created_at: Timestamp(app.created_at),
            updated_at: Timestamp(app.updated_at),
        })
    }
}

/// A row of `releases`, without SQLite's single-file columns, which only
/// older binaries read.
#[derive(sqlx::FromRow)]
pub(super) struct DbRelease {
    pub application_id: String,
    pub version: String,
    pub platform: String,
    pub architecture: String,
    pub channel: String,
    pub files: String,
    pub release_notes: String,
    pub release_date: Timestamp,
    pub required: bool,
    pub minimum_version: Option<String>,
    pub minimum_system_version: Option<String>,
    pub metadata: String,
    pub created_at: Timestamp,
    pub rollout_percentage: i16,
    pub rollout_paused: bool,
    pub yanked: bool,
    pub yank_reason: String,
}

impl TryFrom<DbRelease> for Release {
    type Error = StoreError;

    fn try_from(row: DbRelease) -> Result<Self, StoreError> {
        let percentage = u8::try_from(row.rollout_percentage).map_err(|_| {
            StoreError::Corrupt(format!("rollout percentage {}", row.rollout_percentage))
        })?;
        Ok(Self {
            files: decode_files(&row.files, &row.version)?,
            key: ReleaseKey {
                version: decode_version(&row.version)?,
                application_id: row.application_id,
                platform: row.platform,
                architecture: row.architecture,
            },
            channel: row.channel,
            release_notes: row.release_notes,
            release_date: row.release_date.0,
            required: row.required,
            minimum_version: row
                .minimum_version
                .as_deref()
                .map(decode_version)
                .transpose()?,
            minimum_system_version: row.minimum_system_version,
            metadata: decode_metadata(&row.metadata)?,
            created_at: row.created_at.0,
            rollout: Rollout {
                percentage,
                paused: row.rollout_paused,
            },
            yanked: row.yanked,
            yank_reason: row.yank_reason,
        })
    }
}

impl TryFrom<&Release> for DbRelease {
    type Error = StoreError;

    fn try_from(release: &Release) -> Result<Self, StoreError> {
        let key = &release.key;
        Ok(Self {
            application_id: key.application_id.clone(),
            version: key.version.to_string(),
            platform: key.platform.clone(),
            architecture: key.architecture.clone(),
            channel: release.channel.clone(),
            files: encode_files(&release.files)?,
            release_notes: release.release_notes.clone(),
            release_date: Timestamp(release.release_date),
            required: release.required,
            minimum_version: release.minimum_version.as_ref().map(ToString::to_string),
            minimum_system_version: release.minimum_system_version.clone(),
            metadata: encode_metadata(&release.metadata)?,
            created_at: Timestamp(release.created_at),
            rollout_percentage: i16::from(release.rollout.percentage),
            rollout_paused: release.rollout.paused,
            yanked: release.yanked,
            yank_reason: release.yank_reason.clone(),
        })
    }
}
