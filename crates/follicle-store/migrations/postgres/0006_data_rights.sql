-- Data rights (issue 11): erasure on request under a legal hold, the retention job's reports,
-- and the anonymous clinical statistics kept after a client is anonymised.
-- Keep in step with ../sqlite/0006_data_rights.sql.

-- Set when the client asked for erasure and some records are held by law: what could be erased
-- was erased; the retention job removes the rest when the hold ends.
ALTER TABLE clients ADD COLUMN erasure_requested_at TIMESTAMPTZ;

-- What is kept of an anonymised client: no id, no name, no date finer than a year.
CREATE TABLE anonymous_statistics (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clinic_id          UUID NOT NULL REFERENCES clinics (id),
    reason             TEXT NOT NULL CHECK (reason IN ('retention', 'erasure')),
    scale              TEXT NOT NULL,
    stage              TEXT NOT NULL,
    verdict            TEXT NOT NULL,
    sessions_planned   BIGINT NOT NULL,
    sessions_performed BIGINT NOT NULL,
    first_year         BIGINT,
    last_year          BIGINT,
    anonymised_year    BIGINT NOT NULL
);
CREATE INDEX anonymous_statistics_clinic ON anonymous_statistics (clinic_id);

-- One row per run of the retention job and clinic: what it did (or would do, on a dry run).
CREATE TABLE retention_reports (
    id          UUID PRIMARY KEY NOT NULL,
    clinic_id   UUID NOT NULL REFERENCES clinics (id),
    run_at      TIMESTAMPTZ NOT NULL,
    dry_run     BOOLEAN NOT NULL,
    anonymised  BIGINT NOT NULL,
    photos      BIGINT NOT NULL,
    report      TEXT NOT NULL
);
CREATE INDEX retention_reports_clinic ON retention_reports (clinic_id, run_at);
