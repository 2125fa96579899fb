//! The import report: one line per record (imported, skipped or refused,
//! with the reason), a summary, and the same as JSON for scripts.

use serde::Serialize;

use super::super::failure::Failure;
use super::super::output::{clean, emit, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Application,
    Release,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Planned; a dry run ends here.
    #[serde(rename = "would_import")]
    Import,
    Imported,
    /// Already in the store (or earlier in the source) identically.
    Skipped,
    Refused,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Import => "would import",
            Status::Imported => "imported",
            Status::Skipped => "skipped",
            Status::Refused => "refused",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub kind: Kind,
    /// Our id: the application id, or `<app>-<version>-<platform>-<arch>`.
    pub id: String,
    /// Where in the source the record was (`release desk-1.0-linux-amd64`).
    pub source: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Record {
    pub fn new(kind: Kind, id: &str, source: String, status: Status) -> Self {
        Self {
            kind,
            id: id.to_string(),
            source,
            status,
            reason: None,
        }
    }

    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub would_import: usize,
    pub imported: usize,
    pub skipped: usize,
    pub refused: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    /// The file or URL read.
    pub source: String,
    /// `go-updater-json`, `go-updater-sqlite`, or the feed's format.
    pub format: String,
    /// The store written to (`sqlite:/path` or `postgres`).
    pub target: String,
    pub dry_run: bool,
    pub summary: Summary,
    pub records: Vec<Record>,
    /// Things worth knowing that are not about one record.
    pub notes: Vec<String>,
    /// Set when the store failed and the import stopped part way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Report {
    pub fn new(source: String, format: &str, target: String, dry_run: bool) -> Self {
        Self {
            source,
            format: format.to_string(),
            target,
            dry_run,
            summary: Summary::default(),
            records: Vec::new(),
            notes: Vec::new(),
            error: None,
        }
    }

    /// Adds a record; returns its index for [`Report::mark`].
    pub fn push(&mut self, record: Record) -> usize {
        self.records.push(record);
        self.records.len() - 1
    }

    pub fn mark(&mut self, index: usize, status: Status, reason: Option<String>) {
        let record = &mut self.records[index];
        record.status = status;
        if reason.is_some() {
            record.reason = reason;
        }
    }

    pub fn refused(&self) -> usize {
        self.count(Status::Refused)
    }

    fn count(&self, status: Status) -> usize {
        self.records.iter().filter(|r| r.status == status).count()
    }

    fn summarise(&mut self) {
        self.summary = Summary {
            would_import: self.count(Status::Import),
            imported: self.count(Status::Imported),
            skipped: self.count(Status::Skipped),
            refused: self.count(Status::Refused),
        };
    }

    pub fn print(mut self, as_json: bool) -> Result<(), Failure> {
        self.summarise();
        if as_json {
            return json(&self);
        }
        emit(&self.text())
    }

    fn text(&self) -> String {
        let mut text = format!(
            "{} {} ({}) into {}\n",
            if self.dry_run {
                "dry run: import from"
            } else {
                "import from"
            },
            clean(&self.source),
            self.format,
            clean(&self.target)
        );
        for record in &self.records {
            let kind = match record.kind {
                Kind::Application => "application",
                Kind::Release => "release",
            };
            text.push_str(&format!(
                "  {:<12}  {kind:<11}  {}",
                record.status.label(),
                clean(&record.id)
            ));
            if record.source != format!("{kind} {}", record.id) {
                text.push_str(&format!("  (from {})", clean(&record.source)));
            }
            if let Some(reason) = &record.reason {
                text.push_str(&format!(": {}", clean(reason)));
            }
            text.push('\n');
        }
        for note in &self.notes {
            text.push_str(&format!("note: {}\n", clean(note)));
        }
        let summary = &self.summary;
        let done = if self.dry_run {
            format!("{} to import", summary.would_import)
        } else {
            format!("{} imported", summary.imported)
        };
        text.push_str(&format!(
            "{done}, {} skipped (already there), {} refused\n",
            summary.skipped, summary.refused
        ));
        if let Some(error) = &self.error {
            text.push_str(&format!("stopped: {}\n", clean(error)));
        }
        text
    }
}
