-- Issue 14 (item 1) and 15 (item 4): the front desk records deposits and payments, paid or due,
-- and each payment taken gets a receipt. Keep in step with ../postgres/0017_payments_and_receipts.sql.
--
-- Amounts are in the currency's minor units (pence, cents). A payment is recorded as taken
-- (paid_at, method, a receipt) or as due (paid_at NULL), and a due one is later marked paid or
-- cancelled. The receipt is issued as the payment is taken: its number (one running sequence
-- per clinic, no gaps: allocated in the same transaction), what it says as handed over (JSON)
-- and its PDF, byte for byte. From then on the payment's money, method and receipt never
-- change (the trigger); a mistake is put right by a refund, which is a payment of its own.
CREATE TABLE payments (
    id             BLOB PRIMARY KEY NOT NULL,
    clinic_id      BLOB NOT NULL,
    client_id      BLOB NOT NULL,
    appointment_id BLOB,
    kind           TEXT NOT NULL CHECK (kind IN ('deposit', 'session', 'touch_up', 'patch_test', 'other', 'refund')),
    amount         INTEGER NOT NULL CHECK (amount > 0),
    currency       TEXT NOT NULL,
    quote_number   INTEGER,
    quote_total    INTEGER,
    note           TEXT NOT NULL DEFAULT '',
    recorded_at    TEXT NOT NULL,
    recorded_by    BLOB NOT NULL,
    method         TEXT CHECK (method IN ('card', 'cash', 'bank_transfer', 'other')),
    paid_at        TEXT,
    paid_by        BLOB,
    receipt_number INTEGER,
    receipt        TEXT,
    receipt_pdf    BLOB,
    receipt_sha256 TEXT,
    cancelled_at   TEXT,
    cancelled_by   BLOB,
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
CREATE TRIGGER payments_receipt_unchanged
BEFORE UPDATE OF id, clinic_id, appointment_id, kind, amount, currency, quote_number, quote_total, note, method, paid_at,
    paid_by, receipt_number, receipt, receipt_pdf, receipt_sha256, cancelled_at ON payments
WHEN old.receipt_number IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a payment with a receipt is never changed');
END;

-- Receipt numbers, one sequence per clinic.
CREATE TABLE receipt_numbers (
    clinic_id   BLOB PRIMARY KEY NOT NULL REFERENCES clinics (id),
    last_number INTEGER NOT NULL
);
