-- Managed API keys, the audit log and the webhook outbox.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    permissions  TEXT NOT NULL,
    applications TEXT,
    digest       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT NOT NULL,
    actor_kind     TEXT NOT NULL,
    actor_key_id   TEXT,
    actor_name     TEXT NOT NULL,
    client_ip      TEXT,
    request_id     TEXT,
    action         TEXT NOT NULL,
    application_id TEXT,
    target         TEXT NOT NULL,
    changes        TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX audit_log_application ON audit_log (application_id, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- Append-only: entries are never edited; only retention pruning deletes.
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TABLE webhooks (
    id             TEXT PRIMARY KEY,
    application_id TEXT,
    url            TEXT NOT NULL,
    events         TEXT NOT NULL,
    secret         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL
);

CREATE TABLE webhook_outbox (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT 'pending',
    next_attempt_at TEXT NOT NULL,
    lease_until     TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);

CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  TEXT NOT NULL,
    webhook_id  TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type  TEXT NOT NULL,
    at          TEXT NOT NULL,
    status      INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL,
    succeeded   BOOLEAN NOT NULL
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);
