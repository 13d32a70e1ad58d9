-- Issue 15: the pre-visit intake a client fills in their own pages — the medical questions in
-- the clinic's own rule vocabulary — which prefills the consultation. Kept as submitted; a new
-- submission is a new row.
CREATE TABLE intakes (
    id           UUID PRIMARY KEY NOT NULL,
    clinic_id    UUID NOT NULL,
    client_id    UUID NOT NULL,
    answers      JSONB NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id)
);
CREATE INDEX intakes_client ON intakes (clinic_id, client_id, submitted_at);
