-- Issue 15: the client's own door. Sign-in links by email (single use, expiring), the devices a
-- client stays signed in on, and consents signed with a drawn signature, kept with their evidence.
--
-- Tokens are kept as their SHA-256 only (like staff sessions and password resets).
CREATE TABLE portal_links (
    token_sha256 BLOB PRIMARY KEY NOT NULL,
    clinic_id    BLOB NOT NULL,
    client_id    BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT,
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id)
);
CREATE INDEX portal_links_client ON portal_links (clinic_id, client_id, created_at);

CREATE TABLE portal_sessions (
    token_sha256 BLOB PRIMARY KEY NOT NULL,
    clinic_id    BLOB NOT NULL,
    client_id    BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    user_agent   TEXT NOT NULL,
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id)
);
CREATE INDEX portal_sessions_client ON portal_sessions (clinic_id, client_id);

-- A consent as signed: the exact title and text shown (a template's version), what it was given
-- for (design and quote), the signer's name and drawn strokes, when, where from and in which
-- browser, whether in the portal or at the chair (with the staff member present), the SHA-256 of
-- all of it (document_sha256; design_id is a reference checked when signing, without a foreign
-- key, so that a consent held by law outlives the design erased with the client's other records) and the PDF the client was sent, with its own SHA-256. Never
-- changed: a trigger refuses updates of anything but the client it belongs to (two records of
-- one person merged); a withdrawal is a row of its own.
CREATE TABLE signed_consents (
    id               BLOB PRIMARY KEY NOT NULL,
    clinic_id        BLOB NOT NULL,
    client_id        BLOB NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('procedure', 'photos', 'marketing_email', 'marketing_sms')),
    template_version TEXT NOT NULL,
    title            TEXT NOT NULL,
    text             TEXT NOT NULL,
    design_id        BLOB,
    design_version   INTEGER,
    quote_number     TEXT NOT NULL,
    signer_name      TEXT NOT NULL,
    signature        TEXT NOT NULL,
    signed_at        TEXT NOT NULL,
    signed_in        TEXT NOT NULL CHECK (signed_in IN ('portal', 'chair')),
    witnessed_by     BLOB,
    address          TEXT NOT NULL,
    user_agent       TEXT NOT NULL,
    document_sha256  TEXT NOT NULL,
    pdf              BLOB NOT NULL,
    pdf_sha256       TEXT NOT NULL,
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, witnessed_by) REFERENCES users (clinic_id, id)
);
CREATE INDEX signed_consents_client ON signed_consents (clinic_id, client_id, signed_at);
CREATE INDEX signed_consents_pdf ON signed_consents (clinic_id, pdf_sha256);
CREATE TRIGGER signed_consents_unchanged
BEFORE UPDATE OF id, clinic_id, kind, template_version, title, text, design_id, design_version,
    quote_number, signer_name, signature, signed_at, signed_in, witnessed_by, address, user_agent,
    document_sha256, pdf, pdf_sha256 ON signed_consents
BEGIN
    SELECT RAISE(ABORT, 'a signed consent is never changed');
END;

CREATE TABLE consent_withdrawals (
    consent_id   BLOB PRIMARY KEY NOT NULL,
    clinic_id    BLOB NOT NULL,
    withdrawn_at TEXT NOT NULL,
    by_client    INTEGER NOT NULL CHECK (by_client IN (0, 1)),
    recorded_by  BLOB,
    reason       TEXT NOT NULL,
    FOREIGN KEY (clinic_id, consent_id) REFERENCES signed_consents (clinic_id, id),
    FOREIGN KEY (clinic_id, recorded_by) REFERENCES users (clinic_id, id)
);
