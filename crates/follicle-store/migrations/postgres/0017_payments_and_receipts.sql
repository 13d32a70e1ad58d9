-- Issue 14 (item 1) and 15 (item 4): the front desk records deposits and payments, paid or due,
-- and each payment taken gets a receipt. Keep in step with ../sqlite/0017_payments_and_receipts.sql.
--
-- Amounts are in the currency's minor units (pence, cents). A payment is recorded as taken
-- (paid_at, method, a receipt) or as due (paid_at NULL), and a due one is later marked paid or
-- cancelled. The receipt is issued as the payment is taken: its number (one running sequence
-- per clinic, no gaps: allocated in the same transaction), what it says as handed over (JSON)
-- and its PDF, byte for byte. From then on the payment's money, method and receipt never
-- change (the trigger); a mistake is put right by a refund, which is a payment of its own.
CREATE TABLE payments (
    id             UUID PRIMARY KEY NOT NULL,
    clinic_id      UUID NOT NULL,
    client_id      UUID NOT NULL,
    appointment_id UUID,
    kind           TEXT NOT NULL CHECK (kind IN ('deposit', 'session', 'touch_up', 'patch_test', 'other', 'refund')),
    amount         BIGINT NOT NULL CHECK (amount > 0),
    currency       TEXT NOT NULL,
    quote_number   BIGINT,
    quote_total    BIGINT,
    note           TEXT NOT NULL DEFAULT '',
    recorded_at    TIMESTAMPTZ NOT NULL,
    recorded_by    UUID NOT NULL,
    method         TEXT CHECK (method IN ('card', 'cash', 'bank_transfer', 'other')),
    paid_at        TIMESTAMPTZ,
    paid_by        UUID,
    receipt_number BIGINT,
    receipt        JSONB,
    receipt_pdf    BYTEA,
    receipt_sha256 TEXT,
    cancelled_at   TIMESTAMPTZ,
    cancelled_by   UUID,
    cancel_reason  TEXT,
    UNIQUE (clinic_id, id),
    UNIQUE (clinic_id, receipt_number),
    CHECK ((paid_at IS NULL) = (receipt_number IS NULL)),
    CHECK ((paid_at IS NULL) = (method IS NULL)),
    CHECK (paid_at IS NULL OR cancelled_at IS NULL),
    CHECK ((quote_number IS NULL) = (quote_total IS NULL)),
    FOREIGN KEY (clinic_id, client_id) REFERENCES clients (clinic_id, id),
    FOREIGN KEY (clinic_id, appointment_id) REFERENCES appointments (clinic_id, id),
    FOREIGN KEY (clinic_id, recorded_by) REFERENCES users (clinic_id, id),
    FOREIGN KEY (clinic_id, paid_by) REFERENCES users (clinic_id, id),
    FOREIGN KEY (clinic_id, cancelled_by) REFERENCES users (clinic_id, id)
);
CREATE INDEX payments_client ON payments (clinic_id, client_id, recorded_at);
CREATE INDEX payments_appointment ON payments (clinic_id, appointment_id) WHERE appointment_id IS NOT NULL;
-- The Today page's payments due.
CREATE INDEX payments_due ON payments (clinic_id, client_id) WHERE paid_at IS NULL AND cancelled_at IS NULL;
-- The owner's report: money taken by month.
CREATE INDEX payments_paid ON payments (clinic_id, paid_at) WHERE paid_at IS NOT NULL;
CREATE FUNCTION payments_receipt_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a payment with a receipt is never changed';
END;
$$;
CREATE TRIGGER payments_receipt_unchanged
BEFORE UPDATE OF id, clinic_id, appointment_id, kind, amount, currency, quote_number, quote_total, note, method, paid_at,
    paid_by, receipt_number, receipt, receipt_pdf, receipt_sha256, cancelled_at ON payments
FOR EACH ROW WHEN (OLD.receipt_number IS NOT NULL)
EXECUTE FUNCTION payments_receipt_unchanged();

-- Receipt numbers, one sequence per clinic.
CREATE TABLE receipt_numbers (
    clinic_id   UUID PRIMARY KEY NOT NULL REFERENCES clinics (id),
    last_number BIGINT NOT NULL
);
