-- Issue 14: a durable job queue in the clinic's own database, the messages sent to clients, and
-- each client's choice of channels.
--
-- A job is queued once per (clinic, dedupe_key): the planner that finds what is due may run on
-- every app server, every minute, and only the first insert of a key counts. A worker claims
-- due jobs (`state` queued, or running with its lease run out: its worker died) for a lease,
-- does the work, and finishes them (done, skipped, or back to queued with a later run_at, or dead
-- after the last try). PostgreSQL claims with FOR UPDATE SKIP LOCKED, so two servers never take
-- the same job.
CREATE TABLE jobs (
    id           UUID PRIMARY KEY NOT NULL,
    clinic_id    UUID NOT NULL REFERENCES clinics (id),
    kind         TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL,
    client_id    UUID,
    payload      JSONB NOT NULL,
    run_at       TIMESTAMPTZ NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'skipped', 'dead')),
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    locked_by    TEXT,
    locked_until TIMESTAMPTZ,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    UNIQUE (clinic_id, dedupe_key),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id)
);
-- What a worker looks for: the due and the abandoned (only jobs not yet finished are indexed).
CREATE INDEX jobs_due ON jobs (run_at) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_client ON jobs (clinic_id, client_id, created_at);
CREATE INDEX jobs_dead ON jobs (clinic_id, finished_at) WHERE state = 'dead';

-- What was sent to a client, as sent: the message log on the client's record. Never changed.
CREATE TABLE messages (
    id          UUID PRIMARY KEY NOT NULL,
    clinic_id   UUID NOT NULL REFERENCES clinics (id),
    client_id   UUID NOT NULL,
    job_id      UUID NOT NULL UNIQUE REFERENCES jobs (id),
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    kind        TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    sent_at     TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id)
);
CREATE INDEX messages_client ON messages (clinic_id, client_id, sent_at);

-- A client's channels: messages by email or SMS stop from the moment of an opt-out (an
-- unsubscribe link, a STOP reply, or the front desk). The token is the unsubscribe link's.
ALTER TABLE clients ADD COLUMN email_opt_out_at TIMESTAMPTZ;
ALTER TABLE clients ADD COLUMN sms_opt_out_at TIMESTAMPTZ;
ALTER TABLE clients ADD COLUMN unsubscribe_token TEXT;
CREATE UNIQUE INDEX clients_unsubscribe_token ON clients (unsubscribe_token);
