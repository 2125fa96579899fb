-- Adoption analytics: check counts per hour (rolled up into days) and
-- unique-install sketches per day. Each replica writes its own rows
-- (replica = a random id per process; '' for rolled-up rows); reads sum them.
-- No install id or address is stored: a sketch holds only keyed hashes.
CREATE TABLE usage_counts (
    application_id TEXT NOT NULL,
    granularity    TEXT NOT NULL,
    bucket         BIGINT NOT NULL,
    replica        TEXT NOT NULL,
    channel        TEXT NOT NULL,
    platform       TEXT NOT NULL,
    architecture   TEXT NOT NULL,
    version        TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    offered        TEXT NOT NULL,
    checks         BIGINT NOT NULL,
    PRIMARY KEY (application_id, granularity, bucket, replica, channel, platform,
                 architecture, version, outcome, offered)
);
CREATE INDEX usage_counts_by_bucket ON usage_counts (granularity, bucket);

CREATE TABLE usage_sketches (
    application_id TEXT NOT NULL,
    day            BIGINT NOT NULL,
    replica        TEXT NOT NULL,
    channel        TEXT NOT NULL,
    platform       TEXT NOT NULL,
    architecture   TEXT NOT NULL,
    version        TEXT NOT NULL,
    offered        TEXT NOT NULL,
    sketch         BYTEA NOT NULL,
    PRIMARY KEY (application_id, day, replica, channel, platform, architecture, version, offered)
);
CREATE INDEX usage_sketches_by_day ON usage_sketches (day);

-- The key of the HMAC that install ids pass through before a sketch sees them.
CREATE TABLE analytics_secret (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret BYTEA NOT NULL
);
