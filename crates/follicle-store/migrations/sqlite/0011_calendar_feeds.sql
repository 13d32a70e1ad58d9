-- Calendar feeds (issue 14, item 5): a private, revocable ICS subscription address for a client
-- or for a practitioner. Keep in step with ../postgres/0011_calendar_feeds.sql.
--
-- Only the SHA-256 of the address's secret is kept, like a login session's token: the address
-- is shown once, when it is made. Renewing replaces the row's digest (the old address stops);
-- revoking deletes the row. One feed per client and one per user.
CREATE TABLE calendar_feeds (
    id           BLOB PRIMARY KEY NOT NULL,
    clinic_id    BLOB NOT NULL REFERENCES clinics (id),
    client_id    BLOB,
    user_id      BLOB,
    token_sha256 BLOB NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    created_by   BLOB NOT NULL,
    CHECK ((client_id IS NULL) <> (user_id IS NULL)),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, user_id) REFERENCES users (clinic_id, id),
    FOREIGN KEY (clinic_id, created_by) REFERENCES users (clinic_id, id)
);
CREATE UNIQUE INDEX calendar_feeds_client ON calendar_feeds (clinic_id, client_id) WHERE client_id IS NOT NULL;
CREATE UNIQUE INDEX calendar_feeds_user ON calendar_feeds (clinic_id, user_id) WHERE user_id IS NOT NULL;
