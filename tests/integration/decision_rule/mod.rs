//! The update decision as a table of cases, against the in-memory catalog.

mod catalog;
mod rollouts;
mod table;
mod universal;

use std::collections::BTreeMap;

use chrono::Utc;

pub use crate::common::decision_cases::{R, plain, r, req};

use crate::common::sut::{
    Application, ApplicationConfig, Artifact, ArtifactKind, Catalog, Change, Release, ReleaseKey,
    Rollout, parse_version,
};

fn release(
    version: &str,
    platform: &str,
    channel: &str,
    required: bool,
    minimum: Option<&str>,
) -> Release {
    let now = Utc::now();
    Release {
        key: ReleaseKey {
            application_id: "app".into(),
            version: parse_version(version).unwrap(),
            platform: platform.into(),
            architecture: "amd64".into(),
        },
        channel: channel.into(),
        files: vec![Artifact {
            kind: ArtifactKind::Zip,
            url: format!("https://cdn.example.com/{version}.zip"),
            size: 1,
            sha256: Some("0".repeat(64)),
            sha512: None,
            sha1: None,
            signature: None,
            ed_signature: None,
            blockmap_url: None,
            blockmap_size: None,
        }],
        release_notes: String::new(),
        release_date: now,
        required,
        minimum_version: minimum.map(|m| parse_version(m).unwrap()),
        minimum_system_version: None,
        metadata: BTreeMap::new(),
        created_at: now,
        rollout: Rollout::default(),
        yanked: false,
        yank_reason: String::new(),
    }
}

fn catalog(releases: &[R], config: ApplicationConfig) -> Catalog {
    let now = Utc::now();
    let mut catalog = Catalog::default();
    catalog.apply(Change::ApplicationUpserted(Application {
        id: "app".into(),
        name: "App".into(),
        description: String::new(),
        platforms: vec!["linux".into(), "windows".into()],
        config,
        created_at: now,
        updated_at: now,
    }));
    for spec in releases {
        catalog.apply(Change::ReleaseUpserted(release(
            spec.version,
            spec.platform,
            spec.channel,
            spec.required,
            spec.minimum,
        )));
    }
    catalog
}
