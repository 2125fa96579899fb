-- Publish jobs: a publish whose verification outlasts its request, polled
-- through GET /api/v1/jobs/{id} on any replica. Finished jobs are pruned
-- after 24 hours.
CREATE TABLE jobs (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    version        TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    deadline       TEXT NOT NULL,
    finished_at    TEXT,
    result         TEXT,
    error          TEXT
);
CREATE INDEX jobs_finished_at ON jobs (finished_at);
