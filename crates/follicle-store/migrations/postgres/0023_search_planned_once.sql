-- Issue 16: the clinic-scoped search (migration 0022) planned once per connection, as on a
-- clinic of any size (PostgreSQL only).
--
-- A prepared statement is planned for its values ("custom") until a plan made without them
-- ("generic") is estimated no dearer. For the search's lookup of the clinic's trigram keys the
-- planner estimates a plan with the values at a row or two and one without them at 0.5 % of all
-- the chain's clients, so a chain's searches were planned anew every time (measured at fifty
-- clinics: about 0.1 ms, twice the lookup itself), while a single clinic's kept one plan. The
-- lookup's only sensible plan is the same either way (the bitmap scan of
-- `clients_clinic_trigrams`), so it is made once: this function is planned generically
-- (`plan_cache_mode`), PL/pgSQL keeps the plan for the connection, and the store ranks its rows.
CREATE FUNCTION clinic_clients_matching(clinic uuid, keys text[], pattern text)
    RETURNS SETOF clients
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET plan_cache_mode = force_generic_plan
AS $f$
BEGIN
    -- The keys are looked up apart (OFFSET 0 keeps the planner from pushing the rest down):
    -- with the LIKE beside them, the plan read the chain's `clients_search_trgm` and worked out
    -- each candidate's trigrams to filter them (measured at fifty clinics: 6 ms against 0.13 ms).
    RETURN QUERY
        SELECT found.* FROM (
            SELECT * FROM clients WHERE clinic_trigrams(clinic_id, search_text) @> keys OFFSET 0
        ) found
        WHERE found.clinic_id = clinic AND found.search_text LIKE pattern;
END
$f$;
