-- Issue 15: booking requests sent from a clinic's public estimator, waiting in the studio's inbox
-- until the clinic makes the person a client (one click) or declines. No client record exists
-- before that. A request that did not become a client is erased after `estimator.keep_days`.
-- Keep in step with ../sqlite/0014_booking_requests.sql.
CREATE TABLE booking_requests (
    id          UUID PRIMARY KEY NOT NULL,
    clinic_id   UUID NOT NULL REFERENCES clinics (id),
    created_at  TIMESTAMPTZ NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    phone       TEXT NOT NULL,
    contact_by  TEXT NOT NULL CHECK (contact_by IN ('email', 'phone')),
    message     TEXT NOT NULL,
    answers     JSONB NOT NULL,
    estimate    JSONB NOT NULL,
    photo       BYTEA,
    address_key TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'accepted', 'declined')),
    handled_at  TIMESTAMPTZ,
    handled_by  UUID,
    client_id   UUID,
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id)
);
CREATE INDEX booking_requests_inbox ON booking_requests (clinic_id, status, created_at);
CREATE INDEX booking_requests_address ON booking_requests (address_key, created_at);

-- Counters of public requests in fixed windows (estimates and requests per address an hour,
-- requests refused per clinic a day): shared by every server on the database.
CREATE TABLE public_counters (
    subject      TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (subject, window_start)
);

-- The key that signs the time a public form was shown (a form sent back too soon is a
-- program's): one random key, made on first use and shared by every server.
CREATE TABLE form_keys (
    name TEXT PRIMARY KEY NOT NULL,
    key  BYTEA NOT NULL
);
