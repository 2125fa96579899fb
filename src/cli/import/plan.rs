//! What an import will do, record by record, and doing it: each record is
//! new (imported), already in the store identically (skipped, so a re-run
//! imports nothing twice) or refused with the reason. Writes go through the
//! registry, so every imported record is validated, stored and audited the
//! way the server's own writes are.

use std::collections::HashMap;

use crate::domain::audit::Origin;
use crate::domain::register::{ReleaseDraft, build_release};
use crate::domain::validate::FieldErrors;
use crate::domain::{Application, Release, ReleaseKey};
use crate::registry::{Registry, WriteError};

use super::report::{Kind, Record, Report, Status};

/// An application read from the source, already checked by our rules.
pub struct AppCandidate {
    /// Where it came from, for the report (`application desk`).
    pub source: String,
    pub app: Application,
}

/// A release read from the source, not yet checked.
pub struct ReleaseCandidate {
    pub source: String,
    pub draft: ReleaseDraft,
    /// Whether the source gave a release date; without one the stored
    /// release's date counts as matching, so a re-run is still a no-op.
    pub dated: bool,
    /// What the reader already found wrong, reported before (and instead
    /// of) the registration rules' message for the same field.
    pub problems: FieldErrors,
}

/// The applications releases may belong to: those in the store and those
/// this import creates. A refused application's releases are refused too.
#[derive(Default)]
pub struct Applications {
    known: HashMap<String, Application>,
    refused: HashMap<String, String>,
}

pub struct Plan<'r> {
    registry: &'r Registry,
    pub applications: Applications,
    new_applications: Vec<(usize, Application)>,
    new_releases: Vec<(usize, Release)>,
    planned: HashMap<ReleaseKey, (String, Release)>,
    pub report: Report,
}

impl<'r> Plan<'r> {
    pub fn new(registry: &'r Registry, report: Report) -> Self {
        Self {
            registry,
            applications: Applications::default(),
            new_applications: Vec::new(),
            new_releases: Vec::new(),
            planned: HashMap::new(),
            report,
        }
    }

    /// An application the import needs but that must already exist.
    pub fn existing_application(&mut self, id: &str) -> Option<Application> {
        let app = self.registry.read(|c| c.application(id).cloned())?;
        self.applications.known.insert(app.id.clone(), app.clone());
        Some(app)
    }

    /// An application the source could not turn into one of ours.
    pub fn refuse_application(&mut self, id: &str, source: String, reason: String) {
        self.applications
            .refused
            .insert(id.to_string(), reason.clone());
        self.report
            .push(Record::new(Kind::Application, id, source, Status::Refused).because(reason));
    }

    pub fn add_application(&mut self, candidate: AppCandidate) {
        let AppCandidate { source, app } = candidate;
        let id = app.id.clone();
        if let Some(first) = self.applications.known.get(&id) {
            let record = |status| Record::new(Kind::Application, &id, source.clone(), status);
            let record = match application_differences(first, &app) {
                None => record(Status::Skipped).because("listed twice in the source, identically"),
                Some(fields) => record(Status::Refused).because(format!(
                    "listed twice in the source with different {fields}; the first is used"
                )),
            };
            self.report.push(record);
            return;
        }
        if self.applications.refused.contains_key(&id) {
            self.report.push(
                Record::new(Kind::Application, &id, source, Status::Refused)
                    .because("listed twice in the source; the first was refused"),
            );
            return;
        }
        let stored = self.registry.read(|c| c.application(&id).cloned());
        match stored {
            Some(stored) => {
                let record = |status| Record::new(Kind::Application, &id, source.clone(), status);
                let record = match application_differences(&stored, &app) {
                    None => record(Status::Skipped).because("already in the store, identical"),
                    Some(fields) => record(Status::Refused).because(format!(
                        "already in the store with different {fields}; the stored one is kept and used for its releases"
                    )),
                };
                self.report.push(record);
                self.applications.known.insert(id, stored);
            }
            None => {
                let index =
                    self.report
                        .push(Record::new(Kind::Application, &id, source, Status::Import));
                self.applications.known.insert(id, app.clone());
                self.new_applications.push((index, app));
            }
        }
    }

    pub fn add_release(&mut self, candidate: ReleaseCandidate, allow_http: bool) {
        let ReleaseCandidate {
            source,
            draft,
            dated,
            mut problems,
        } = candidate;
        let app_id = draft.application_id.clone().unwrap_or_default();
        let unchecked_id = format!(
            "{app_id}-{}-{}-{}",
            draft.version, draft.platform, draft.architecture
        );
        let refuse = |reason: String| {
            Record::new(
                Kind::Release,
                &unchecked_id,
                source.clone(),
                Status::Refused,
            )
            .because(reason)
        };
        if let Some(reason) = self.applications.refused.get(&app_id) {
            let record = refuse(format!("its application `{app_id}` was refused ({reason})"));
            self.report.push(record);
            return;
        }
        let Some(app) = self.applications.known.get(&app_id) else {
            let record = refuse(format!(
                "application `{app_id}` is neither in the source nor in the store"
            ));
            self.report.push(record);
            return;
        };
        let built = build_release(app, draft, allow_http);
        if let Err(errors) = &built {
            for (field, problem) in &errors.0 {
                problems.add(field.clone(), problem.clone());
            }
        }
        let mut release = match built {
            Ok(release) if problems.is_empty() => release,
            _ => {
                let record = refuse(describe(&problems));
                self.report.push(record);
                return;
            }
        };
        let id = release.id();
        let record = |status| Record::new(Kind::Release, &id, source.clone(), status);
        if let Some((first, earlier)) = self.planned.get(&release.key) {
            if !dated {
                release.release_date = earlier.release_date;
            }
            let record = match release_differences(earlier, &release) {
                None => record(Status::Skipped)
                    .because(format!("the same release as {first}, listed twice")),
                Some(fields) => record(Status::Refused).because(format!(
                    "the same version and target as {first} but different {fields}; the first is used"
                )),
            };
            self.report.push(record);
            return;
        }
        let stored = self.registry.read(|c| c.release(&release.key));
        if let Some(stored) = stored {
            if !dated {
                release.release_date = stored.release_date;
            }
            let record = match release_differences(&stored, &release) {
                None => record(Status::Skipped).because("already in the store, identical"),
                Some(fields) => record(Status::Refused).because(format!(
                    "already in the store with different {fields}; releases are never overwritten"
                )),
            };
            self.report.push(record);
            return;
        }
        if self.registry.read(|c| c.has_version_twin(&release.key)) {
            let record = record(Status::Refused)
                .because("the store has this version with other build metadata for this target");
            self.report.push(record);
            return;
        }
        let index = self.report.push(record(Status::Import));
        self.planned
            .insert(release.key.clone(), (id.clone(), release.clone()));
        self.new_releases.push((index, release));
    }

    /// Writes what the plan imports, applications first. A record the
    /// store refuses (another writer got there first) is reported refused;
    /// a store failure stops the import and is returned.
    pub async fn apply(mut self, origin: &Origin) -> (Report, Result<(), WriteError>) {
        for (index, app) in std::mem::take(&mut self.new_applications) {
            let id = app.id.clone();
            match self.registry.create_application(origin, app).await {
                Ok(()) => self.report.mark(index, Status::Imported, None),
                Err(WriteError::Store(e)) => return (self.report, Err(WriteError::Store(e))),
                Err(e) => {
                    self.report
                        .mark(index, Status::Refused, Some(e.to_string()));
                    self.applications.refused.insert(id, e.to_string());
                }
            }
        }
        for (index, release) in std::mem::take(&mut self.new_releases) {
            let app_id = release.key.application_id.clone();
            if let Some(reason) = self.applications.refused.get(&app_id) {
                let reason = format!("its application `{app_id}` was refused ({reason})");
                self.report.mark(index, Status::Refused, Some(reason));
                continue;
            }
            match self.registry.add_release(origin, release).await {
                Ok(()) => self.report.mark(index, Status::Imported, None),
                Err(WriteError::Store(e)) => return (self.report, Err(WriteError::Store(e))),
                Err(e) => self
                    .report
                    .mark(index, Status::Refused, Some(e.to_string())),
            }
        }
        (self.report, Ok(()))
    }

    pub fn finish_dry_run(self) -> Report {
        self.report
    }
}

/// Field errors as one line: `version: ...; checksum: ...`.
pub fn describe(errors: &FieldErrors) -> String {
    errors
        .0
        .iter()
        .map(|(field, problem)| format!("{field}: {problem}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn list(fields: Vec<&str>) -> Option<String> {
    (!fields.is_empty()).then(|| fields.join(", "))
}

/// The fields that differ, timestamps aside.
fn application_differences(a: &Application, b: &Application) -> Option<String> {
    let mut fields = Vec::new();
    for (field, same) in [
        ("name", a.name == b.name),
        ("description", a.description == b.description),
        ("platforms", a.platforms == b.platforms),
        ("config", a.config == b.config),
    ] {
        if !same {
            fields.push(field);
        }
    }
    list(fields)
}

/// The content fields that differ; creation time, rollout and yank state
/// are the store's own.
fn release_differences(a: &Release, b: &Release) -> Option<String> {
    let mut fields = Vec::new();
    for (field, same) in [
        ("channel", a.channel == b.channel),
        ("files", a.files == b.files),
        ("release_notes", a.release_notes == b.release_notes),
        ("release_date", a.release_date == b.release_date),
        ("required", a.required == b.required),
        ("minimum_version", a.minimum_version == b.minimum_version),
        (
            "minimum_system_version",
            a.minimum_system_version == b.minimum_system_version,
        ),
        ("metadata", a.metadata == b.metadata),
    ] {
        if !same {
            fields.push(field);
        }
    }
    list(fields)
}
