-- Accounts and audit (issue 11). Keep in step with ../postgres/0005_accounts_and_audit.sql.
--
-- Runs outside sqlx's transaction (it opens its own) because SQLite cannot drop the inline
-- UNIQUE on users.email: the table is rebuilt with foreign keys off, as SQLite's ALTER TABLE
-- documentation prescribes (create the new table, copy, drop, rename). An email is now unique
-- per clinic, so adding a user never tells an owner that the address has an account elsewhere.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE users_new (
    id                  BLOB PRIMARY KEY NOT NULL,
    clinic_id           BLOB NOT NULL REFERENCES clinics (id),
    email               TEXT NOT NULL,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('owner', 'practitioner', 'front_desk')),
    password_hash       TEXT NOT NULL,
    active              INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    -- RFC 6238 secret (base32) once confirmed; the one being enrolled until then.
    totp_secret         TEXT,
    totp_pending_secret TEXT,
    -- The last 30-second step whose code was accepted: a code is used once.
    totp_last_step      INTEGER NOT NULL DEFAULT 0,
    password_changed_at TEXT,
    UNIQUE (clinic_id, id),
    UNIQUE (clinic_id, email)
);
INSERT INTO users_new (id, clinic_id, email, name, role, password_hash, active, created_at)
    SELECT id, clinic_id, email, name, role, password_hash, active, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_email ON users (email);

-- Where a session was opened and when it was last used (the idle timeout, the sessions list).
ALTER TABLE login_sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE login_sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE login_sessions ADD COLUMN last_seen_at TEXT;

-- Recovery codes: 80 random bits each, only their SHA-256 kept; each works once.
CREATE TABLE recovery_codes (
    user_id     BLOB NOT NULL REFERENCES users (id),
    code_sha256 BLOB NOT NULL,
    used_at     TEXT,
    PRIMARY KEY (user_id, code_sha256)
);

-- Emailed password-reset links: only the token's SHA-256 kept; single use, expiring.
CREATE TABLE password_resets (
    token_sha256 BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- A sign-in whose password was right, waiting for the second factor.
CREATE TABLE login_challenges (
    token_sha256 BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id),
    ip           TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    used_at      TEXT
);
CREATE INDEX login_challenges_user ON login_challenges (user_id);

-- Clinic account rules: two-factor for everyone, the idle timeout, how long the audit log is kept.
ALTER TABLE clinics ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clinics ADD COLUMN idle_timeout_minutes INTEGER NOT NULL DEFAULT 30
    CHECK (idle_timeout_minutes BETWEEN 5 AND 720);
ALTER TABLE clinics ADD COLUMN audit_retention_years INTEGER NOT NULL DEFAULT 6
    CHECK (audit_retention_years BETWEEN 1 AND 100);

-- Every audit row says from which address and in which session (the first 16 hex digits of the
-- session token's SHA-256; empty for the CLI).
ALTER TABLE audit_log ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN session TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_clinic ON audit_log (clinic_id, id);

COMMIT;
PRAGMA foreign_keys = ON;
