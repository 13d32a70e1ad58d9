-- Accounts and audit (issue 11). Keep in step with ../sqlite/0005_accounts_and_audit.sql.
--
-- An email is now unique per clinic, so adding a user never tells an owner that the address
-- has an account elsewhere.
ALTER TABLE users DROP CONSTRAINT users_email_key;
ALTER TABLE users ADD CONSTRAINT users_clinic_email UNIQUE (clinic_id, email);
CREATE INDEX users_email ON users (email);
-- RFC 6238 secret (base32) once confirmed; the one being enrolled until then.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
-- The last 30-second step whose code was accepted: a code is used once.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_changed_at TIMESTAMPTZ;

-- Where a session was opened and when it was last used (the idle timeout, the sessions list).
ALTER TABLE login_sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE login_sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE login_sessions ADD COLUMN last_seen_at TIMESTAMPTZ;

-- Recovery codes: 80 random bits each, only their SHA-256 kept; each works once.
CREATE TABLE recovery_codes (
    user_id     UUID NOT NULL REFERENCES users (id),
    code_sha256 BYTEA NOT NULL,
    used_at     TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_sha256)
);

-- Emailed password-reset links: only the token's SHA-256 kept; single use, expiring.
CREATE TABLE password_resets (
    token_sha256 BYTEA PRIMARY KEY NOT NULL,
    user_id      UUID NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- A sign-in whose password was right, waiting for the second factor.
CREATE TABLE login_challenges (
    token_sha256 BYTEA PRIMARY KEY NOT NULL,
    user_id      UUID NOT NULL REFERENCES users (id),
    ip           TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    used_at      TIMESTAMPTZ
);
CREATE INDEX login_challenges_user ON login_challenges (user_id);

-- Clinic account rules: two-factor for everyone, the idle timeout, how long the audit log is kept.
ALTER TABLE clinics ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clinics ADD COLUMN idle_timeout_minutes BIGINT NOT NULL DEFAULT 30
    CHECK (idle_timeout_minutes BETWEEN 5 AND 720);
ALTER TABLE clinics ADD COLUMN audit_retention_years BIGINT NOT NULL DEFAULT 6
    CHECK (audit_retention_years BETWEEN 1 AND 100);

-- Every audit row says from which address and in which session (the first 16 hex digits of the
-- session token's SHA-256; empty for the CLI).
ALTER TABLE audit_log ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN session TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_clinic ON audit_log (clinic_id, id);
