-- Issue 15: photos the client takes in their own pages, and the clinic's logo on documents.
-- Keep in step with ../sqlite/0016_client_photos_and_logos.sql.
--
-- A photo the client uploads has no staff member behind it: `photos.created_by` may be NULL
-- ("taken by the client in their pages").
ALTER TABLE photos ALTER COLUMN created_by DROP NOT NULL;

-- The clinic's logo, shown on the letterhead of every document (PDF and the portal's HTML):
-- PNG or JPEG as uploaded by the owner (checked by decoding; at most 512 KiB and 4 megapixels,
-- see follicle-store's logo.rs), one a clinic; removing it deletes the row.
CREATE TABLE clinic_logos (
    clinic_id    UUID PRIMARY KEY NOT NULL REFERENCES clinics (id),
    content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
    bytes        BYTEA NOT NULL,
    width        BIGINT NOT NULL,
    height       BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    uploaded_at  TIMESTAMPTZ NOT NULL,
    uploaded_by  UUID NOT NULL,
    FOREIGN KEY (clinic_id, uploaded_by) REFERENCES users (clinic_id, id)
);
