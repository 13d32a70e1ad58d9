-- Issue 15: photos the client takes in their own pages, and the clinic's logo on documents.
-- Keep in step with ../postgres/0016_client_photos_and_logos.sql.
--
-- Runs outside sqlx's transaction (it opens its own), like 0005 and 0010: a photo the client
-- uploads has no staff member behind it, so `photos.created_by` may now be NULL ("taken by
-- the client in their pages"); SQLite cannot drop a NOT NULL, so the table is rebuilt with
-- foreign keys off (create, copy, drop, rename), as SQLite's ALTER TABLE documentation
-- prescribes. `photo_landmarks` keeps referring to `photos` by name, which is the new table.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE photos_new (
    id              BLOB PRIMARY KEY NOT NULL,
    clinic_id       BLOB NOT NULL,
    client_id       BLOB NOT NULL,
    session_id      BLOB,
    consent_id      BLOB,
    angle           TEXT NOT NULL CHECK (angle IN ('front', 'top', 'left', 'right', 'back', 'other')),
    taken_at        TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    byte_size       INTEGER NOT NULL,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    orientation     INTEGER,
    blob_key        TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    -- The staff member who took it; NULL: the client, in their own pages.
    created_by      BLOB,
    consultation_id BLOB,
    consented       INTEGER NOT NULL DEFAULT 0 CHECK (consented IN (0, 1)),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, session_id) REFERENCES session_logs (clinic_id, id),
    FOREIGN KEY (clinic_id, consent_id) REFERENCES consents (clinic_id, id),
    FOREIGN KEY (clinic_id, created_by) REFERENCES users (clinic_id, id)
);
INSERT INTO photos_new (id, clinic_id, client_id, session_id, consent_id, angle, taken_at, content_type, byte_size,
    width, height, orientation, blob_key, created_at, created_by, consultation_id, consented)
    SELECT id, clinic_id, client_id, session_id, consent_id, angle, taken_at, content_type, byte_size,
    width, height, orientation, blob_key, created_at, created_by, consultation_id, consented FROM photos;
DROP TABLE photos;
ALTER TABLE photos_new RENAME TO photos;
CREATE INDEX photos_client ON photos (client_id);
CREATE INDEX photos_client_angle ON photos (client_id, angle, taken_at);

-- The clinic's logo, shown on the letterhead of every document (PDF and the portal's HTML):
-- PNG or JPEG as uploaded by the owner (checked by decoding; at most 512 KiB and 4 megapixels,
-- see follicle-store's logo.rs), one a clinic; removing it deletes the row.
CREATE TABLE clinic_logos (
    clinic_id    BLOB PRIMARY KEY NOT NULL REFERENCES clinics (id),
    content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
    bytes        BLOB NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    uploaded_at  TEXT NOT NULL,
    uploaded_by  BLOB NOT NULL,
    FOREIGN KEY (clinic_id, uploaded_by) REFERENCES users (clinic_id, id)
);

COMMIT;
PRAGMA foreign_keys = ON;
