//! What each catalog write records beside itself: its audit entry (the
//! fields it changed) and the webhook events it raises.

use serde_json::{Value, json};

use crate::domain::audit::{AuditRecord, Changes, Origin};
use crate::domain::webhook::Event;
use crate::domain::{Application, ApplicationConfig, Release};
use crate::store::Journal;

fn event(event_type: &'static str, application_id: &str, data: Value) -> Event {
    let body = json!({
        "type": event_type,
        "timestamp": crate::domain::now(),
        "data": data,
    });
    Event {
        event_type,
        application_id: Some(application_id.to_string()),
        body: body.to_string(),
    }
}

fn application_data(app: &Application) -> Value {
    json!({ "id": app.id, "name": app.name, "platforms": app.platforms })
}

fn release_data(release: &Release) -> Value {
    let key = &release.key;
    json!({
        "id": key.id(),
        "application_id": key.application_id,
        "version": key.version.to_string(),
        "platform": key.platform,
        "architecture": key.architecture,
        "channel": release.channel,
        "required": release.required,
        "download_url": release.primary_file().url,
        "rollout_percentage": release.rollout.percentage,
        "rollout_paused": release.rollout.paused,
        "yanked": release.yanked,
    })
}

fn optional(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

fn config_changes(
    changes: Changes,
    before: &ApplicationConfig,
    after: &ApplicationConfig,
) -> Changes {
    let version = |v: &Option<semver::Version>| v.as_ref().map(ToString::to_string);
    let fields = |c: &ApplicationConfig| format!("{:?}", c.custom_fields);
    changes
        .field(
            "config.update_check_url",
            optional(&before.update_check_url),
            optional(&after.update_check_url),
        )
        .field(
            "config.auto_update",
            Some(before.auto_update),
            Some(after.auto_update),
        )
        .field(
            "config.update_interval",
            Some(before.update_interval),
            Some(after.update_interval),
        )
        .field(
            "config.required_update",
            Some(before.required_update),
            Some(after.required_update),
        )
        .field(
            "config.min_version",
            version(&before.min_version),
            version(&after.min_version),
        )
        .field(
            "config.max_version",
            version(&before.max_version),
            version(&after.max_version),
        )
        .field(
            "config.allow_prerelease",
            Some(before.allow_prerelease),
            Some(after.allow_prerelease),
        )
        .field(
            "config.custom_fields",
            Some(fields(before)),
            Some(fields(after)),
        )
        .field(
            "config.notification_url",
            optional(&before.notification_url),
            optional(&after.notification_url),
        )
        .field(
            "config.analytics_enabled",
            Some(before.analytics_enabled),
            Some(after.analytics_enabled),
        )
        .field(
            "config.tauri_public_key",
            before.tauri_public_key.as_deref(),
            after.tauri_public_key.as_deref(),
        )
        .field(
            "config.sparkle_public_key",
            before.sparkle_public_key.as_deref(),
            after.sparkle_public_key.as_deref(),
        )
        .field(
            "config.verify_on_register",
            Some(before.verify_on_register),
            Some(after.verify_on_register),
        )
        .field(
            "config.download_page",
            Some(before.download_page),
            Some(after.download_page),
        )
}

pub(super) fn application_created(origin: &Origin, app: &Application) -> Journal {
    let changes = Changes::default()
        .field("name", None::<&str>, Some(&app.name))
        .field("description", None::<&str>, optional(&app.description))
        .field("platforms", None::<String>, Some(app.platforms.join(",")));
    let changes = config_changes(changes, &ApplicationConfig::default(), &app.config);
    Journal::new(
        AuditRecord::new(origin, "application.created", &app.id)
            .application(&app.id)
            .changes(changes),
    )
    .event(event("application.created", &app.id, application_data(app)))
}

pub(super) fn application_updated(
    origin: &Origin,
    before: &Application,
    after: &Application,
) -> Journal {
    let changes = Changes::default()
        .field("name", Some(&before.name), Some(&after.name))
        .field(
            "description",
            Some(&before.description),
            Some(&after.description),
        )
        .field(
            "platforms",
            Some(before.platforms.join(",")),
            Some(after.platforms.join(",")),
        );
    let changes = config_changes(changes, &before.config, &after.config);
    Journal::new(
        AuditRecord::new(origin, "application.updated", &after.id)
            .application(&after.id)
            .changes(changes),
    )
    .event(event(
        "application.updated",
        &after.id,
        application_data(after),
    ))
}

pub(super) fn application_deleted(origin: &Origin, app: &Application, releases: usize) -> Journal {
    let changes = Changes::default()
        .field("name", Some(&app.name), None::<&str>)
        .field("releases", Some(releases), None::<usize>);
    Journal::new(
        AuditRecord::new(origin, "application.deleted", &app.id)
            .application(&app.id)
            .changes(changes),
    )
    .event(event("application.deleted", &app.id, application_data(app)))
}

pub(super) fn release_published(origin: &Origin, release: &Release) -> Journal {
    let changes = Changes::default()
        .field("channel", None::<&str>, Some(&release.channel))
        .field(
            "download_url",
            None::<&str>,
            Some(&release.primary_file().url),
        )
        .field("files", None::<usize>, Some(release.files.len()))
        .field("required", None::<bool>, Some(release.required))
        .field(
            "rollout_percentage",
            None::<u8>,
            Some(release.rollout.percentage),
        );
    let app = &release.key.application_id;
    Journal::new(
        AuditRecord::new(origin, "release.published", release.id())
            .application(app)
            .changes(changes),
    )
    .event(event("release.published", app, release_data(release)))
}

/// One audit entry for a publish of several targets, and an event per release.
pub(super) fn releases_published(origin: &Origin, releases: &[Release]) -> Journal {
    let first = &releases[0];
    let app = &first.key.application_id;
    let targets: Vec<String> = releases
        .iter()
        .map(|r| format!("{}/{}", r.key.platform, r.key.architecture))
        .collect();
    let files: usize = releases.iter().map(|r| r.files.len()).sum();
    let changes = Changes::default()
        .field("channel", None::<&str>, Some(&first.channel))
        .field("targets", None::<String>, Some(targets.join(",")))
        .field("files", None::<usize>, Some(files))
        .field("required", None::<bool>, Some(first.required))
        .field(
            "rollout_percentage",
            None::<u8>,
            Some(first.rollout.percentage),
        );
    let mut journal = Journal::new(
        AuditRecord::new(
            origin,
            "release.published",
            format!("{app}-{}", first.version()),
        )
        .application(app)
        .changes(changes),
    );
    for release in releases {
        journal = journal.event(event("release.published", app, release_data(release)));
    }
    journal
}

pub(super) fn release_updated(origin: &Origin, before: &Release, after: &Release) -> Journal {
    let changes = Changes::default()
        .field(
            "rollout_percentage",
            Some(before.rollout.percentage),
            Some(after.rollout.percentage),
        )
        .field(
            "rollout_paused",
            Some(before.rollout.paused),
            Some(after.rollout.paused),
        )
        .field("yanked", Some(before.yanked), Some(after.yanked))
        .field(
            "yank_reason",
            optional(&before.yank_reason),
            optional(&after.yank_reason),
        );
    let app = &after.key.application_id;
    let mut journal = Journal::new(
        AuditRecord::new(origin, "release.updated", after.id())
            .application(app)
            .changes(changes),
    );
    if after.yanked && !before.yanked {
        journal = journal.event(event("release.yanked", app, release_data(after)));
    }
    if after.rollout != before.rollout {
        journal = journal.event(event("rollout.changed", app, release_data(after)));
    }
    journal
}

pub(super) fn release_deleted(origin: &Origin, release: &Release) -> Journal {
    let app = &release.key.application_id;
    Journal::new(
        AuditRecord::new(origin, "release.deleted", release.id())
            .application(app)
            .changes(Changes::default().field(
                "download_url",
                Some(&release.primary_file().url),
                None::<&str>,
            )),
    )
    .event(event("release.deleted", app, release_data(release)))
}
