-- Records that hold: a consultation keeps its plan and quote as issued, typed and versioned,
-- with the clinic's settings file it was made with; a design keeps the plan and quote that go
-- with it. Rows written before this migration keep schema version 0 (core's plan as untyped
-- JSON, read by follicle_store::record's version-0 reader); new rows are version 1 and keep
-- the record in `plan`. The version-0 columns `profile`, `assessment` and `settings` are
-- JSON null in new rows.
ALTER TABLE consultations ADD COLUMN schema_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE consultations ADD COLUMN settings_toml TEXT;
ALTER TABLE consultations ADD COLUMN quote_number BIGINT;
ALTER TABLE consultations ADD COLUMN replanned_from UUID;
CREATE UNIQUE INDEX consultations_quote_number ON consultations (clinic_id, quote_number);

ALTER TABLE designs ADD COLUMN schema_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE designs ADD COLUMN plan JSONB;
ALTER TABLE designs ADD COLUMN quote_number BIGINT;
CREATE UNIQUE INDEX designs_quote_number ON designs (clinic_id, quote_number);

-- Quote numbers, one sequence per clinic, shared by consultations and designs.
CREATE TABLE quote_numbers (
    clinic_id   UUID PRIMARY KEY NOT NULL REFERENCES clinics (id),
    last_number BIGINT NOT NULL
);
