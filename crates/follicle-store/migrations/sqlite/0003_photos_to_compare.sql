-- Photos taken to be compared (issue 12): a photo may belong to a consultation instead of a
-- session, and keeps the client's consent to it as a flag of its own (a photo consent record
-- may not exist yet when the photo is taken). Rows written before keep consented = 0.
ALTER TABLE photos ADD COLUMN consultation_id BLOB;
ALTER TABLE photos ADD COLUMN consented INTEGER NOT NULL DEFAULT 0 CHECK (consented IN (0, 1));
CREATE INDEX photos_client_angle ON photos (client_id, angle, taken_at);
