-- Releases carry several files. The single-file columns stay filled from the
-- first file, so an older binary can still read the table.
ALTER TABLE releases ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
ALTER TABLE releases ADD COLUMN minimum_system_version TEXT;
UPDATE releases SET files = json_array(json_object(
    'kind', 'other',
    'url', download_url,
    'size', file_size,
    checksum_type, checksum,
    'signature', signature));
