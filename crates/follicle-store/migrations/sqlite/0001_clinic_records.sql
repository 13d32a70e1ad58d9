-- Follicle clinic records, SQLite flavour. Keep in step with ../postgres/0001_clinic_records.sql:
-- same tables, columns and constraints; only the types differ (UUIDs are 16-byte BLOBs, times are
-- RFC 3339 UTC text with whole seconds, dates are YYYY-MM-DD text, JSON is text).
--
-- Every record belongs to a clinic. Child rows reference their parent by (clinic_id, id), so the
-- database itself refuses a link between two clinics' records.

CREATE TABLE clinics (
    id              BLOB PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    retention_years INTEGER NOT NULL DEFAULT 8 CHECK (retention_years BETWEEN 1 AND 100),
    settings_toml   TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);

CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    clinic_id     BLOB NOT NULL REFERENCES clinics (id),
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'practitioner', 'front_desk')),
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    UNIQUE (clinic_id, id)
);

CREATE TABLE login_sessions (
    token_sha256 BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX login_sessions_user ON login_sessions (user_id);

CREATE TABLE login_attempts (
    email        TEXT NOT NULL,
    ip           TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    PRIMARY KEY (email, ip, window_start)
);

CREATE TABLE clients (
    id            BLOB PRIMARY KEY NOT NULL,
    clinic_id     BLOB NOT NULL REFERENCES clinics (id),
    name          TEXT NOT NULL,
    date_of_birth TEXT,
    age_years     INTEGER,
    phone         TEXT NOT NULL,
    email         TEXT NOT NULL,
    notes         TEXT NOT NULL,
    search_text   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (clinic_id, id)
);
CREATE INDEX clients_clinic_search ON clients (clinic_id, search_text);

CREATE TABLE consultations (
    id            BLOB PRIMARY KEY NOT NULL,
    clinic_id     BLOB NOT NULL,
    client_id     BLOB NOT NULL,
    version       INTEGER NOT NULL,
    profile_toml  TEXT,
    profile       TEXT,
    assessment    TEXT NOT NULL,
    plan          TEXT NOT NULL,
    settings      TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    created_by    BLOB NOT NULL,
    UNIQUE (client_id, version),
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, created_by) REFERENCES users (clinic_id, id)
);

CREATE TABLE designs (
    id              BLOB PRIMARY KEY NOT NULL,
    clinic_id       BLOB NOT NULL,
    client_id       BLOB NOT NULL,
    version         INTEGER NOT NULL,
    consultation_id BLOB,
    hairline        TEXT NOT NULL,
    zones           TEXT NOT NULL,
    seed            INTEGER NOT NULL,
    settings        TEXT NOT NULL,
    notes           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      BLOB NOT NULL,
    UNIQUE (client_id, version),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, consultation_id) REFERENCES consultations (clinic_id, id),
    FOREIGN KEY (clinic_id, created_by) REFERENCES users (clinic_id, id)
);

CREATE TABLE appointments (
    id               BLOB PRIMARY KEY NOT NULL,
    clinic_id        BLOB NOT NULL,
    client_id        BLOB NOT NULL,
    practitioner_id  BLOB,
    starts_at        TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('booked', 'confirmed', 'completed', 'cancelled', 'no_show')),
    notes            TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, practitioner_id) REFERENCES users (clinic_id, id)
);
CREATE INDEX appointments_clinic_start ON appointments (clinic_id, starts_at);

CREATE TABLE pigment_products (
    id          BLOB PRIMARY KEY NOT NULL,
    clinic_id   BLOB NOT NULL REFERENCES clinics (id),
    name        TEXT NOT NULL,
    maker       TEXT NOT NULL,
    ingredients TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (clinic_id, id)
);

CREATE TABLE pigment_batches (
    id         BLOB PRIMARY KEY NOT NULL,
    clinic_id  BLOB NOT NULL,
    product_id BLOB NOT NULL,
    lot        TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    quantity   INTEGER NOT NULL CHECK (quantity >= 0),
    created_at TEXT NOT NULL,
    UNIQUE (product_id, lot),
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, product_id) REFERENCES pigment_products (clinic_id, id)
);

CREATE TABLE session_logs (
    id               BLOB PRIMARY KEY NOT NULL,
    clinic_id        BLOB NOT NULL,
    client_id        BLOB NOT NULL,
    appointment_id   BLOB,
    performed_on     TEXT NOT NULL,
    practitioner_id  BLOB NOT NULL,
    zones            TEXT NOT NULL,
    batch_id         BLOB NOT NULL,
    dilution         REAL NOT NULL,
    needle           TEXT NOT NULL,
    needle_lot       TEXT NOT NULL,
    depth_mm         REAL NOT NULL,
    machine_settings TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    anaesthetic      TEXT NOT NULL,
    notes            TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, appointment_id) REFERENCES appointments (clinic_id, id),
    FOREIGN KEY (clinic_id, practitioner_id) REFERENCES users (clinic_id, id),
    FOREIGN KEY (clinic_id, batch_id) REFERENCES pigment_batches (clinic_id, id)
);
CREATE INDEX session_logs_batch ON session_logs (batch_id);
CREATE INDEX session_logs_client ON session_logs (client_id);

CREATE TABLE consents (
    id               BLOB PRIMARY KEY NOT NULL,
    clinic_id        BLOB NOT NULL,
    client_id        BLOB NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('procedure', 'photos', 'marketing')),
    template_version TEXT NOT NULL,
    text             TEXT NOT NULL,
    signed_by        TEXT NOT NULL,
    signed_at        TEXT NOT NULL,
    recorded_by      BLOB NOT NULL,
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, recorded_by) REFERENCES users (clinic_id, id)
);

CREATE TABLE photos (
    id           BLOB PRIMARY KEY NOT NULL,
    clinic_id    BLOB NOT NULL,
    client_id    BLOB NOT NULL,
    session_id   BLOB,
    consent_id   BLOB,
    angle        TEXT NOT NULL CHECK (angle IN ('front', 'top', 'left', 'right', 'back', 'other')),
    taken_at     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    byte_size    INTEGER NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    orientation  INTEGER,
    blob_key     TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    created_by   BLOB NOT NULL,
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, session_id) REFERENCES session_logs (clinic_id, id),
    FOREIGN KEY (clinic_id, consent_id) REFERENCES consents (clinic_id, id),
    FOREIGN KEY (clinic_id, created_by) REFERENCES users (clinic_id, id)
);
CREATE INDEX photos_client ON photos (client_id);

-- Append-only. No foreign key on client_id: the trail outlives a deleted client.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    clinic_id BLOB NOT NULL REFERENCES clinics (id),
    user_id   BLOB NOT NULL REFERENCES users (id),
    client_id BLOB,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX audit_log_client ON audit_log (clinic_id, client_id);
