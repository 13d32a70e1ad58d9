-- The diary and the connected session (issue 14, items 1 and 2). Keep in step with
-- ../sqlite/0010_diary.sql.
ALTER TABLE appointments DROP CONSTRAINT appointments_status_check;
ALTER TABLE appointments ADD CONSTRAINT appointments_status_check
    CHECK (status IN ('booked', 'confirmed', 'arrived', 'completed', 'cancelled', 'no_show'));
-- What the visit is for: a treatment session, a patch test, a touch-up recall, a consultation.
ALTER TABLE appointments ADD COLUMN kind TEXT NOT NULL DEFAULT 'session'
    CHECK (kind IN ('session', 'patch_test', 'touch_up', 'consultation'));
-- The plan it was booked from (a consultation of the client) and the plan's session number.
-- No foreign key: erasure may remove the consultation and keep the appointment (records.held).
ALTER TABLE appointments ADD COLUMN consultation_id UUID;
ALTER TABLE appointments ADD COLUMN session_index BIGINT;
-- Every change of status, move and override: a JSON list of {what, at, by}.
ALTER TABLE appointments ADD COLUMN history JSONB NOT NULL DEFAULT '[]';
-- A practitioner's appointments around a time: the double-booking check.
CREATE INDEX appointments_practitioner ON appointments (clinic_id, practitioner_id, starts_at);

-- A batch under recall is refused at the chair (unless overridden with a reason).
ALTER TABLE pigment_batches ADD COLUMN recalled_on DATE;
ALTER TABLE pigment_batches ADD COLUMN recall_reason TEXT NOT NULL DEFAULT '';

-- What a session took off its batch's stock, and why an expired or recalled batch was used
-- all the same (empty: it was not).
ALTER TABLE session_logs ADD COLUMN pigment_units BIGINT NOT NULL DEFAULT 0;
ALTER TABLE session_logs ADD COLUMN batch_override TEXT NOT NULL DEFAULT '';
