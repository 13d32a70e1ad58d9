-- Issue 16: PostgreSQL's audit rows written without a foreign-key check per row.
--
-- An audit row's clinic and user are the signed-in actor's, read from these tables by the store
-- that writes the row, and neither table ever loses a row (users are deactivated, not deleted):
-- the checks could only ever pass. They were not free: each inserted row ran two referential
-- triggers (a lookup with a row lock of its clinic and of its user), about 10 ms of every
-- 1,000 rows written, as much as the rest of the insert (the read audit of a long-used lot's
-- recall writes ~900; docs/benchmarks/scale.md). SQLite keeps its checks: in process, a lookup
-- each, without the lock.
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_clinic_id_fkey;
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_user_id_fkey;
