CREATE TABLE applications (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    platforms   TEXT NOT NULL DEFAULT '[]',
    config      TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE releases (
    application_id  TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    version         TEXT NOT NULL,
    platform        TEXT NOT NULL,
    architecture    TEXT NOT NULL,
    channel         TEXT NOT NULL DEFAULT 'stable',
    download_url    TEXT NOT NULL,
    checksum        TEXT NOT NULL,
    checksum_type   TEXT NOT NULL,
    file_size       INTEGER NOT NULL CHECK (file_size >= 0),
    release_notes   TEXT NOT NULL DEFAULT '',
    release_date    TEXT NOT NULL,
    required        INTEGER NOT NULL DEFAULT 0,
    minimum_version TEXT,
    metadata        TEXT NOT NULL DEFAULT '{}',
    signature       TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (application_id, version, platform, architecture)
) STRICT;
