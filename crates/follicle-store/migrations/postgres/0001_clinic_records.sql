-- Follicle clinic records, PostgreSQL flavour. Keep in step with ../sqlite/0001_clinic_records.sql:
-- same tables, columns and constraints; only the types differ (UUID, TIMESTAMPTZ, DATE, JSONB,
-- BIGINT, DOUBLE PRECISION, BOOLEAN here).
--
-- Every record belongs to a clinic. Child rows reference their parent by (clinic_id, id), so the
-- database itself refuses a link between two clinics' records.

CREATE TABLE clinics (
    id              UUID PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    retention_years BIGINT NOT NULL DEFAULT 8 CHECK (retention_years BETWEEN 1 AND 100),
    settings_toml   TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id            UUID PRIMARY KEY NOT NULL,
    clinic_id     UUID NOT NULL REFERENCES clinics (id),
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'practitioner', 'front_desk')),
    password_hash TEXT NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (clinic_id, id)
);

CREATE TABLE login_sessions (
    token_sha256 BYTEA PRIMARY KEY NOT NULL,
    user_id      UUID NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX login_sessions_user ON login_sessions (user_id);

CREATE TABLE login_attempts (
    email        TEXT NOT NULL,
    ip           TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    attempts     BIGINT NOT NULL,
    PRIMARY KEY (email, ip, window_start)
);

CREATE TABLE clients (
    id            UUID PRIMARY KEY NOT NULL,
    clinic_id     UUID NOT NULL REFERENCES clinics (id),
    name          TEXT NOT NULL,
    date_of_birth DATE,
    age_years     BIGINT,
    phone         TEXT NOT NULL,
    email         TEXT NOT NULL,
    notes         TEXT NOT NULL,
    search_text   TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (clinic_id, id)
);
CREATE INDEX clients_clinic_search ON clients (clinic_id, search_text);

CREATE TABLE consultations (
    id            UUID PRIMARY KEY NOT NULL,
    clinic_id     UUID NOT NULL,
    client_id     UUID NOT NULL,
    version       BIGINT NOT NULL,
    profile_toml  TEXT,
    profile       JSONB,
    assessment    JSONB NOT NULL,
    plan          JSONB NOT NULL,
    settings      JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    created_by    UUID NOT NULL,
    UNIQUE (client_id, version),
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, created_by) REFERENCES users (clinic_id, id)
);

CREATE TABLE designs (
    id              UUID PRIMARY KEY NOT NULL,
    clinic_id       UUID NOT NULL,
    client_id       UUID NOT NULL,
    version         BIGINT NOT NULL,
    consultation_id UUID,
    hairline        JSONB NOT NULL,
    zones           JSONB NOT NULL,
    seed            BIGINT NOT NULL,
    settings        JSONB NOT NULL,
    notes           TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      UUID NOT NULL,
    UNIQUE (client_id, version),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, consultation_id) REFERENCES consultations (clinic_id, id),
    FOREIGN KEY (clinic_id, created_by) REFERENCES users (clinic_id, id)
);

CREATE TABLE appointments (
    id               UUID PRIMARY KEY NOT NULL,
    clinic_id        UUID NOT NULL,
    client_id        UUID NOT NULL,
    practitioner_id  UUID,
    starts_at        TIMESTAMPTZ NOT NULL,
    duration_minutes BIGINT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('booked', 'confirmed', 'completed', 'cancelled', 'no_show')),
    notes            TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, practitioner_id) REFERENCES users (clinic_id, id)
);
CREATE INDEX appointments_clinic_start ON appointments (clinic_id, starts_at);

CREATE TABLE pigment_products (
    id          UUID PRIMARY KEY NOT NULL,
    clinic_id   UUID NOT NULL REFERENCES clinics (id),
    name        TEXT NOT NULL,
    maker       TEXT NOT NULL,
    ingredients TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (clinic_id, id)
);

CREATE TABLE pigment_batches (
    id         UUID PRIMARY KEY NOT NULL,
    clinic_id  UUID NOT NULL,
    product_id UUID NOT NULL,
    lot        TEXT NOT NULL,
    expires_on DATE NOT NULL,
    quantity   BIGINT NOT NULL CHECK (quantity >= 0),
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (product_id, lot),
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, product_id) REFERENCES pigment_products (clinic_id, id)
);

CREATE TABLE session_logs (
    id               UUID PRIMARY KEY NOT NULL,
    clinic_id        UUID NOT NULL,
    client_id        UUID NOT NULL,
    appointment_id   UUID,
    performed_on     DATE NOT NULL,
    practitioner_id  UUID NOT NULL,
    zones            JSONB NOT NULL,
    batch_id         UUID NOT NULL,
    dilution         DOUBLE PRECISION NOT NULL,
    needle           TEXT NOT NULL,
    needle_lot       TEXT NOT NULL,
    depth_mm         DOUBLE PRECISION NOT NULL,
    machine_settings TEXT NOT NULL,
    duration_minutes BIGINT NOT NULL,
    anaesthetic      TEXT NOT NULL,
    notes            TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, appointment_id) REFERENCES appointments (clinic_id, id),
    FOREIGN KEY (clinic_id, practitioner_id) REFERENCES users (clinic_id, id),
    FOREIGN KEY (clinic_id, batch_id) REFERENCES pigment_batches (clinic_id, id)
);
CREATE INDEX session_logs_batch ON session_logs (batch_id);
CREATE INDEX session_logs_client ON session_logs (client_id);

CREATE TABLE consents (
    id               UUID PRIMARY KEY NOT NULL,
    clinic_id        UUID NOT NULL,
    client_id        UUID NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('procedure', 'photos', 'marketing')),
    template_version TEXT NOT NULL,
    text             TEXT NOT NULL,
    signed_by        TEXT NOT NULL,
    signed_at        TIMESTAMPTZ NOT NULL,
    recorded_by      UUID NOT NULL,
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, recorded_by) REFERENCES users (clinic_id, id)
);

CREATE TABLE photos (
    id           UUID PRIMARY KEY NOT NULL,
    clinic_id    UUID NOT NULL,
    client_id    UUID NOT NULL,
    session_id   UUID,
    consent_id   UUID,
    angle        TEXT NOT NULL CHECK (angle IN ('front', 'top', 'left', 'right', 'back', 'other')),
    taken_at     TIMESTAMPTZ NOT NULL,
    content_type TEXT NOT NULL,
    byte_size    BIGINT NOT NULL,
    width        BIGINT NOT NULL,
    height       BIGINT NOT NULL,
    orientation  BIGINT,
    blob_key     TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   UUID NOT NULL,
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, session_id) REFERENCES session_logs (clinic_id, id),
    FOREIGN KEY (clinic_id, consent_id) REFERENCES consents (clinic_id, id),
    FOREIGN KEY (clinic_id, created_by) REFERENCES users (clinic_id, id)
);
CREATE INDEX photos_client ON photos (client_id);

-- Append-only. No foreign key on client_id: the trail outlives a deleted client.
CREATE TABLE audit_log (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clinic_id UUID NOT NULL REFERENCES clinics (id),
    user_id   UUID NOT NULL REFERENCES users (id),
    client_id UUID,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_client ON audit_log (clinic_id, client_id);
