-- Photos taken to be compared (issue 12): a photo may belong to a consultation instead of a
-- session, and keeps the client's consent to it as a flag of its own (a photo consent record
-- may not exist yet when the photo is taken). Rows written before keep consented = FALSE.
ALTER TABLE photos ADD COLUMN consultation_id UUID;
ALTER TABLE photos ADD COLUMN consented BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX photos_client_angle ON photos (client_id, angle, taken_at);
