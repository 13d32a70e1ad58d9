-- The diary and the connected session (issue 14, items 1 and 2). Keep in step with
-- ../postgres/0010_diary.sql.
--
-- Runs outside sqlx's transaction (it opens its own), like 0005: SQLite cannot change the
-- CHECK on appointments.status to admit 'arrived', so the table is rebuilt with foreign keys
-- off (create the new table, copy, drop, rename), as SQLite's ALTER TABLE documentation
-- prescribes. Session logs keep referring to `appointments` by name, which is the new table.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE appointments_new (
    id               BLOB PRIMARY KEY NOT NULL,
    clinic_id        BLOB NOT NULL,
    client_id        BLOB NOT NULL,
    practitioner_id  BLOB,
    starts_at        TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('booked', 'confirmed', 'arrived', 'completed', 'cancelled', 'no_show')),
    notes            TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    -- What the visit is for: a treatment session, a patch test, a touch-up recall, a consultation.
    kind             TEXT NOT NULL DEFAULT 'session' CHECK (kind IN ('session', 'patch_test', 'touch_up', 'consultation')),
    -- The plan it was booked from (a consultation of the client) and the plan's session number.
    -- No foreign key: erasure may remove the consultation and keep the appointment (records.held).
    consultation_id  BLOB,
    session_index    INTEGER,
    -- Every change of status, move and override: a JSON list of {what, at, by}.
    history          TEXT NOT NULL DEFAULT '[]',
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, practitioner_id) REFERENCES users (clinic_id, id)
);
INSERT INTO appointments_new (id, clinic_id, client_id, practitioner_id, starts_at, duration_minutes, status, notes, created_at)
    SELECT id, clinic_id, client_id, practitioner_id, starts_at, duration_minutes, status, notes, created_at FROM appointments;
DROP TABLE appointments;
ALTER TABLE appointments_new RENAME TO appointments;
CREATE INDEX appointments_clinic_start ON appointments (clinic_id, starts_at);
CREATE INDEX appointments_client ON appointments (client_id, starts_at);
-- A practitioner's appointments around a time: the double-booking check.
CREATE INDEX appointments_practitioner ON appointments (clinic_id, practitioner_id, starts_at);

-- A batch under recall is refused at the chair (unless overridden with a reason).
ALTER TABLE pigment_batches ADD COLUMN recalled_on TEXT;
ALTER TABLE pigment_batches ADD COLUMN recall_reason TEXT NOT NULL DEFAULT '';

-- What a session took off its batch's stock, and why an expired or recalled batch was used
-- all the same (empty: it was not).
ALTER TABLE session_logs ADD COLUMN pigment_units INTEGER NOT NULL DEFAULT 0;
ALTER TABLE session_logs ADD COLUMN batch_override TEXT NOT NULL DEFAULT '';

COMMIT;
PRAGMA foreign_keys = ON;
