-- Issue 16: a chain's client search reads only the clinic's own part of the index (PostgreSQL
-- only; SQLite holds one clinic per file in practice).
--
-- `clients_search_trgm` (migration 0008) starts with the clinic, but GIN keeps a multi-column
-- index's keys apart: a trigram's posting list holds every clinic's clients with that trigram,
-- and the clinic key only intersects them. So a search read more of the index with every clinic
-- a chain added: on scratch chains of 1, 10 and 50 clinics of 5,000 clients, a search by email
-- read 38, 51 and 82 index pages (0.24, 0.31, 0.70 ms).
--
-- This index's keys are the clinic's id followed by each of the client's trigrams, as pg_trgm
-- extracts them (`show_trgm`): one clinic's "smi" and another's are different keys, so a search
-- reads only its own clinic's posting lists, whatever the chain's size. The store passes the
-- query's keys itself (`store::search::clinic_trigram_keys`: the runs of three ASCII letters or
-- digits of the lower-cased query, which every client containing the query has among its
-- trigrams), so nothing is worked out while the query is planned, and keeps `LIKE` to find
-- exactly the clients containing the query. A query with no such run (a name in another script,
-- "é.ü") uses `clients_search_trgm` as before.
DO $$
DECLARE
    trgm_schema TEXT;
BEGIN
    SELECT n.nspname INTO trgm_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    EXECUTE format(
        'CREATE FUNCTION clinic_trigrams(clinic uuid, search_text text) RETURNS text[] '
        'LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS '
        '$f$ SELECT ARRAY(SELECT clinic::text || t FROM unnest(%I.show_trgm(search_text)) AS t) $f$',
        trgm_schema
    );
END
$$;

-- Written at once, as `clients_search_trgm` is since migration 0021.
CREATE INDEX clients_clinic_trigrams ON clients
    USING gin (clinic_trigrams(clinic_id, search_text)) WITH (fastupdate = off);
