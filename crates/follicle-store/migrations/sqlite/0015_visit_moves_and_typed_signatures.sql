-- Issue 15: a client asks to move a visit from their pages. Keep in step with
-- ../postgres/0015_visit_moves_and_typed_signatures.sql.
--
-- A request is the client's words (when suits them, up to 300 characters) and up to three
-- preferred days (a JSON list of ISO dates), for one of their visits. It stays open until the
-- clinic moves the visit (closed_how 'moved', in the move's transaction), a staff member
-- dismisses it ('dismissed'), or the client asks again ('replaced': the new request is the
-- open one). Never changed otherwise.
CREATE TABLE move_requests (
    id             BLOB PRIMARY KEY NOT NULL,
    clinic_id      BLOB NOT NULL,
    client_id      BLOB NOT NULL,
    appointment_id BLOB NOT NULL,
    suits          TEXT NOT NULL,
    preferred_days TEXT NOT NULL DEFAULT '[]',
    asked_at       TEXT NOT NULL,
    closed_at      TEXT,
    closed_how     TEXT CHECK (closed_how IN ('moved', 'dismissed', 'replaced')),
    closed_by      BLOB,
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, appointment_id) REFERENCES appointments (clinic_id, id),
    FOREIGN KEY (clinic_id, closed_by) REFERENCES users (clinic_id, id)
);
CREATE INDEX move_requests_appointment ON move_requests (clinic_id, appointment_id, asked_at);
-- The Today page's open requests.
CREATE INDEX move_requests_open ON move_requests (clinic_id, asked_at) WHERE closed_at IS NULL;
