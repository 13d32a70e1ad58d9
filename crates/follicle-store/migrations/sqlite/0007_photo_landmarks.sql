-- Landmarks on a photo (issue 12): the points the practitioner kept after the face model placed
-- them (or placed by hand), in the upright photo's pixels, and the face outline shown with them.
-- One row a photo, replaced on each save; the audit log keeps who saved when.
CREATE TABLE photo_landmarks (
    photo_id   BLOB PRIMARY KEY NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    clinic_id  BLOB NOT NULL REFERENCES clinics (id),
    points     TEXT NOT NULL,
    outline    TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('detected', 'adjusted', 'manual')),
    saved_at   TEXT NOT NULL,
    saved_by   BLOB NOT NULL,
    FOREIGN KEY (clinic_id, saved_by) REFERENCES users (clinic_id, id)
);
