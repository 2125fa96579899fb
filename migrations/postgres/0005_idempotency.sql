-- Answers to writes sent with an Idempotency-Key (SQLite's 0007), per
-- (principal, key): a pending row (status NULL) while the write runs, then
-- its response, replayed to a retry on any replica for 24 hours (pruned
-- hourly). No secret is ever stored in body.
CREATE TABLE idempotency_keys (
    principal       TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    claim           TEXT NOT NULL,
    status          INTEGER,
    content_type    TEXT,
    body            BYTEA,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (principal, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
