-- Search and lists that do not grow with the clinic's history (issue 16). Keep in step with
-- ../sqlite/0008_search_and_lists.sql: the same screens served by an index on each side.
--
-- Client search: a trigram index (the pg_trgm extension, shipped with PostgreSQL's contrib and
-- trusted, so the database's owner may install it) of each client's search text (lower-cased
-- name, phone as typed, phone digits, email), so `search_text LIKE '%…%'` with three characters
-- or more is answered from the index instead of reading every client. The index starts with the
-- clinic (btree_gin, also contrib and trusted, gives GIN the uuid column), so a term that many
-- clinics' clients share is looked up among the clinic's clients only. The extensions are
-- installed once per database, in `public` (schemas come and go: tests make one each), or used
-- where an administrator already installed them.
DO $$
DECLARE
    trgm_schema TEXT;
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;
    SELECT n.nspname INTO trgm_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    EXECUTE format(
        'CREATE INDEX clients_search_trgm ON clients USING gin (clinic_id, search_text %I.gin_trgm_ops)',
        trgm_schema
    );
END
$$;

-- The clients list, by name, a page at a time (keyset on name, id).
CREATE INDEX clients_clinic_name ON clients (clinic_id, name, id);

-- A client's record: their appointments by start (the diary's index is by clinic and start);
-- also whether a client had a later completed session (Today's touch-ups).
CREATE INDEX appointments_client ON appointments (client_id, starts_at);

-- Today's clients seen most recently.
CREATE INDEX clients_clinic_updated ON clients (clinic_id, updated_at, id);

-- The audit view of one client, newest first: the client's rows in id order, so a page reads its
-- 50 rows instead of every row of the client's history and sorting them. (SQLite's
-- audit_log_client already ends with the row id, which is the audit row's id.)
DROP INDEX audit_log_client;
CREATE INDEX audit_log_client ON audit_log (clinic_id, client_id, id);
