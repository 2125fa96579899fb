//! Publish jobs: a publish whose verification outlasts its request goes on
//! in the background, and its job, kept in the store so any replica can
//! answer for it, is what the client polls.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        [Self::Running, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == input)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub application_id: String,
    pub version: String,
    pub status: JobStatus,
    pub created_at: DateTime<Utc>,
    /// When a job still running must have been abandoned: its replica
    /// stopped before finishing it.
    pub deadline: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The answer the publish would have had (JSON), once succeeded.
    pub result: Option<String>,
    /// The error body (JSON), once failed.
    pub error: Option<String>,
}

impl Job {
    pub fn start(application_id: &str, version: &str, deadline: DateTime<Utc>) -> Self {
        Self {
            id: format!("job_{}", uuid::Uuid::new_v4().simple()),
            application_id: application_id.to_string(),
            version: version.to_string(),
            status: JobStatus::Running,
            created_at: super::now(),
            deadline,
            finished_at: None,
            result: None,
            error: None,
        }
    }

    /// The job finished: `Ok` with its result, `Err` with its error body.
    pub fn finish(mut self, outcome: Result<String, String>) -> Self {
        self.finished_at = Some(super::now());
        match outcome {
            Ok(result) => {
                self.status = JobStatus::Succeeded;
                self.result = Some(result);
            }
            Err(error) => {
                self.status = JobStatus::Failed;
                self.error = Some(error);
            }
        }
        self
    }

    /// Still running after its deadline: no replica will finish it.
    pub fn is_abandoned(&self, now: DateTime<Utc>) -> bool {
        self.status == JobStatus::Running && now > self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_job_past_its_deadline_is_abandoned() {
        let now = crate::domain::now();
        let job = Job::start("desk", "1.0.0", now);
        assert!(job.id.starts_with("job_") && job.id.len() == 36);
        assert!(!job.is_abandoned(now));
        assert!(job.is_abandoned(now + chrono::Duration::seconds(1)));
        let done = job.finish(Ok("{}".into()));
        assert_eq!(done.status, JobStatus::Succeeded);
        assert!(!done.is_abandoned(now + chrono::Duration::days(1)));
        for status in [JobStatus::Running, JobStatus::Succeeded, JobStatus::Failed] {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        }
    }
}
