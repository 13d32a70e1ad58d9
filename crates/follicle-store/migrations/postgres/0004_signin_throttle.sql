-- Sign-in throttling (issue 11), PostgreSQL flavour. Keep in step with ../sqlite/0004_signin_throttle.sql.
--
-- The counters live in the database so that every app server on one database shares them: an
-- attacker cannot multiply the budget by spreading guesses over servers.

-- One row per throttled subject: 'account:<email>', 'address:<ip>', 'device:<sha256 hex>'.
-- `attempts` counts attempts since the subject was last quiet for a whole window; `next_at`
-- (unix milliseconds) is when the next attempt may be checked. A claim is a compare-and-set
-- on (attempts, last_at), so concurrent attempts cannot both take one slot.
CREATE TABLE signin_throttle (
    bucket   TEXT PRIMARY KEY NOT NULL,
    attempts BIGINT NOT NULL,
    last_at  BIGINT NOT NULL,
    next_at  BIGINT NOT NULL
);

-- Attempts from all addresses together, per minute.
CREATE TABLE signin_global (
    window_start BIGINT PRIMARY KEY NOT NULL,
    attempts     BIGINT NOT NULL
);

-- Browsers a user has signed in from: a long-lived random cookie (only its SHA-256 is kept).
-- A sign-in carrying one for the account it names has its own budget, so a stranger guessing
-- the account's password from elsewhere does not lock its owner out.
CREATE TABLE signin_devices (
    token_sha256 BYTEA PRIMARY KEY NOT NULL,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX signin_devices_user ON signin_devices (user_id);

-- Replaced by the tables above (it counted per email and address only, after the check).
DROP TABLE login_attempts;

-- Answers to creating requests sent with an Idempotency-Key header, per user, kept a day: a
-- retried POST gets the first answer instead of making a second record. `status` 0 is a
-- request still running (another one with the key is refused meanwhile).
CREATE TABLE idempotency_keys (
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idem_key     TEXT NOT NULL,
    request_sha256 BYTEA NOT NULL,
    status       BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    body         BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
