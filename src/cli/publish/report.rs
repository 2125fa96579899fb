//! What `updater publish` says: a summary for people on stdout (what was
//! recognised, on stderr), or with --json one object on stdout:
//! `{"status", "app", "version", "releases": [{platform, architecture,
//! files: [{name, kind, url, size, sha256, sha512}]}], "error"?, "details"?}`.

use std::process::ExitCode;

use serde_json::{Value, json};

use super::Exit;
use super::client::Answer;
use super::prepare::Prepared;
use crate::cli::output::clean;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Published,
    Unchanged,
    DryRun,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Unchanged => "unchanged",
            Self::DryRun => "dry_run",
        }
    }
}

pub struct Reporter {
    json: bool,
    app: String,
    pub version: String,
    channel: Option<String>,
    releases: Vec<Value>,
    /// Per target, from the server: `published` or `unchanged`.
    outcomes: Vec<(String, String)>,
    /// Whether the server downloaded and checked the new files.
    verified: Option<bool>,
}

impl Reporter {
    pub fn new(json: bool, app: &str, version: &str) -> Self {
        Self {
            json,
            app: app.to_string(),
            version: version.to_string(),
            channel: None,
            releases: Vec::new(),
            outcomes: Vec::new(),
            verified: None,
        }
    }

    pub fn recognised(&self, recognised: &[String], skipped: usize) {
        if self.json {
            return;
        }
        for line in recognised {
            eprintln!("recognised {}", clean(line));
        }
        if skipped > 0 {
            eprintln!("skipped {skipped} other file(s) under the given directories");
        }
    }

    pub fn prepared(&mut self, prepared: &Prepared) {
        self.releases = prepared
            .targets
            .iter()
            .map(|target| {
                let files: Vec<Value> = target
                    .files
                    .iter()
                    .map(|f| {
                        json!({
                            "name": f.name,
                            "kind": f.kind.as_str(),
                            "url": f.url,
                            "size": f.digests.size,
                            "sha256": f.digests.sha256,
                            "sha512": f.digests.sha512,
                        })
                    })
                    .collect();
                json!({"platform": target.platform, "architecture": target.architecture, "files": files})
            })
            .collect();
        self.channel = prepared.body["channel"].as_str().map(str::to_string);
    }

    pub fn answer(&mut self, answer: &Answer) {
        self.channel = Some(answer.channel.clone());
        self.verified = Some(answer.verified);
        self.outcomes = answer
            .releases
            .iter()
            .map(|r| {
                (
                    format!("{}/{}", r.platform, r.architecture),
                    r.status.clone(),
                )
            })
            .collect();
    }

    fn document(&self, status: &str) -> Value {
        json!({
            "status": status,
            "app": self.app,
            "version": self.version,
            "releases": self.releases,
        })
    }

    pub fn success(&self, status: Status) -> ExitCode {
        if self.json {
            let mut document = self.document(status.as_str());
            if !self.outcomes.is_empty() {
                for (release, (_, outcome)) in document["releases"]
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                    .zip(&self.outcomes)
                {
                    release["status"] = json!(outcome);
                }
            }
            if let Some(verified) = self.verified {
                document["verified"] = json!(verified);
            }
            print_json(&document);
            return ExitCode::SUCCESS;
        }
        let channel = self.channel.as_deref().unwrap_or("stable");
        let headline = match status {
            Status::DryRun => format!(
                "dry run: would publish {} {} (channel {channel}) for {} target(s); nothing was sent",
                clean(&self.app),
                self.version,
                self.releases.len()
            ),
            Status::Published => format!(
                "published {} {} (channel {channel})",
                clean(&self.app),
                self.version
            ),
            Status::Unchanged => format!(
                "unchanged: {} {} (channel {channel}) is already published with identical content",
                clean(&self.app),
                self.version
            ),
        };
        let mut text = format!("{headline}\n");
        for (index, release) in self.releases.iter().enumerate() {
            let target = format!(
                "{}/{}",
                str_of(&release["platform"]),
                str_of(&release["architecture"])
            );
            let outcome = self
                .outcomes
                .get(index)
                .map_or(String::new(), |(_, o)| format!(" ({o})"));
            text.push_str(&format!("  {target}{outcome}\n"));
            for file in release["files"].as_array().into_iter().flatten() {
                text.push_str(&format!(
                    "    {:<11} {}  {} bytes  {}\n",
                    str_of(&file["kind"]),
                    clean(&str_of(&file["name"])),
                    file["size"],
                    clean(&str_of(&file["url"]))
                ));
            }
        }
        print_text(&text);
        ExitCode::SUCCESS
    }

    pub fn failure(&self, exit: Exit) -> ExitCode {
        if self.json {
            let mut document = self.document("failed");
            document["error"] = json!(exit.failure.message);
            if !exit.failure.lines.is_empty() {
                document["details"] = json!(exit.failure.lines);
            }
            print_json(&document);
        }
        exit.failure.report();
        ExitCode::from(exit.code)
    }
}

fn str_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn print_json(value: &Value) {
    print_text(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_default()
    ));
}

/// A closed pipe (`| head`) ends the output quietly.
fn print_text(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
