//! Update-check load through nginx: clients checking back to back, and the
//! report that no check failed.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use crate::LATEST;
use crate::cluster::{latest, logs};
use crate::common::*;
use crate::nginx::{Nginx, nginx_errors};

pub struct Load {
    pub started: Instant,
    pub stop: Arc<AtomicBool>,
    pub ok: Arc<AtomicU64>,
    pub tasks: Vec<tokio::task::JoinHandle<Vec<String>>>,
}

pub struct LoadReport {
    pub ok: u64,
    pub failures: Vec<String>,
}

impl Load {
    /// `tasks` clients checking for updates through `base` back to back.
    pub fn start(base: &str, tasks: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let client = http();
        let began = Instant::now();
        let tasks = (0..tasks)
            .map(|_| {
                let (stop, ok, client, base) =
                    (stop.clone(), ok.clone(), client.clone(), base.to_string());
                tokio::spawn(async move {
                    let mut failures = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        match latest(&client, &base).await {
                            Ok(v) if v == LATEST => {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(v) => failures.push(format!("offered {v} at {:?}", started - began)),
                            Err(e) => failures.push(format!(
                                "at {:?} after {:?}: {}",
                                started - began,
                                started.elapsed(),
                                e.lines().next().unwrap_or_default()
                            )),
                        }
                    }
                    failures
                })
            })
            .collect();
        Self {
            started: began,
            stop,
            ok,
            tasks,
        }
    }

    pub fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    pub async fn finish(self) -> LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        let mut failures = Vec::new();
        for task in self.tasks {
            failures.extend(task.await.unwrap());
        }
        LoadReport {
            ok: self.ok.load(Ordering::Relaxed),
            failures,
        }
    }
}

pub fn assert_no_failed_check(report: &LoadReport, nginx: &Nginx, dir: &Path) {
    eprintln!(
        "update checks: {} ok, {} failed",
        report.ok,
        report.failures.len()
    );
    assert!(
        report.failures.is_empty(),
        "{} of {} update checks failed; first ones:\n{}\n--- nginx error.log (tail)\n{}\n{}",
        report.failures.len(),
        report.ok + report.failures.len() as u64,
        report.failures[..report.failures.len().min(20)].join("\n"),
        nginx_errors(nginx),
        logs(dir)
    );
    assert!(
        report.ok > 200,
        "only {} update checks ran: the load did not run",
        report.ok
    );
}
