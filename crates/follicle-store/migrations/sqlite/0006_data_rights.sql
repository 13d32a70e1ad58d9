-- Data rights (issue 11): erasure on request under a legal hold, the retention job's reports,
-- and the anonymous clinical statistics kept after a client is anonymised.
-- Keep in step with ../postgres/0006_data_rights.sql.

-- Set when the client asked for erasure and some records are held by law: what could be erased
-- was erased; the retention job removes the rest when the hold ends.
ALTER TABLE clients ADD COLUMN erasure_requested_at TEXT;

-- What is kept of an anonymised client: no id, no name, no date finer than a year.
CREATE TABLE anonymous_statistics (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    clinic_id          BLOB NOT NULL REFERENCES clinics (id),
    reason             TEXT NOT NULL CHECK (reason IN ('retention', 'erasure')),
    scale              TEXT NOT NULL,
    stage              TEXT NOT NULL,
    verdict            TEXT NOT NULL,
    sessions_planned   INTEGER NOT NULL,
    sessions_performed INTEGER NOT NULL,
    first_year         INTEGER,
    last_year          INTEGER,
    anonymised_year    INTEGER NOT NULL
);
CREATE INDEX anonymous_statistics_clinic ON anonymous_statistics (clinic_id);

-- One row per run of the retention job and clinic: what it did (or would do, on a dry run).
CREATE TABLE retention_reports (
    id          BLOB PRIMARY KEY NOT NULL,
    clinic_id   BLOB NOT NULL REFERENCES clinics (id),
    run_at      TEXT NOT NULL,
    dry_run     INTEGER NOT NULL,
    anonymised  INTEGER NOT NULL,
    photos      INTEGER NOT NULL,
    report      TEXT NOT NULL
);
CREATE INDEX retention_reports_clinic ON retention_reports (clinic_id, run_at);
