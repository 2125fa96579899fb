-- The PostgreSQL schema: the same records as SQLite's migrations 0001-0003.
CREATE TABLE applications (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    platforms   TEXT NOT NULL DEFAULT '[]',
    config      TEXT NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE releases (
    application_id         TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    version                TEXT NOT NULL,
    platform               TEXT NOT NULL,
    architecture           TEXT NOT NULL,
    channel                TEXT NOT NULL DEFAULT 'stable',
    files                  TEXT NOT NULL,
    release_notes          TEXT NOT NULL DEFAULT '',
    release_date           TIMESTAMPTZ NOT NULL,
    required               BOOLEAN NOT NULL DEFAULT FALSE,
    minimum_version        TEXT,
    minimum_system_version TEXT,
    metadata               TEXT NOT NULL DEFAULT '{}',
    created_at             TIMESTAMPTZ NOT NULL,
    rollout_percentage     SMALLINT NOT NULL DEFAULT 100 CHECK (rollout_percentage BETWEEN 0 AND 100),
    rollout_paused         BOOLEAN NOT NULL DEFAULT FALSE,
    yanked                 BOOLEAN NOT NULL DEFAULT FALSE,
    yank_reason            TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (application_id, version, platform, architecture)
);
