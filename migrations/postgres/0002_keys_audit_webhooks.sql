-- Managed API keys, the audit log and the webhook outbox (SQLite's 0004).
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    permissions  TEXT NOT NULL,
    applications TEXT,
    digest       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

CREATE TABLE audit_log (
    id             BIGSERIAL PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
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
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE webhooks (
    id             TEXT PRIMARY KEY,
    application_id TEXT,
    url            TEXT NOT NULL,
    events         TEXT NOT NULL,
    secret         TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    created_by     TEXT NOT NULL
);

CREATE TABLE webhook_outbox (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT 'pending',
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_until     TIMESTAMPTZ
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);

CREATE TABLE webhook_attempts (
    id          BIGSERIAL PRIMARY KEY,
    message_id  TEXT NOT NULL,
    webhook_id  TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type  TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    status      INTEGER,
    error       TEXT,
    duration_ms BIGINT NOT NULL,
    succeeded   BOOLEAN NOT NULL
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);
