-- Issue 16: the client search's trigram index is written at once (PostgreSQL only; SQLite's FTS5
-- index has no such list).
--
-- A GIN index takes new entries into a "pending list" by default (`fastupdate`), merged into the
-- index by VACUUM or when the list outgrows `gin_pending_list_limit` (4 MB). Every search reads
-- the whole list, whatever clinic it is for: measured on a chain of ten clinics of 5,000 clients,
-- a search by email took 1.74 ms with 926 clients pending (117 pages) and 0.18 ms with none. How
-- full the list is depends on the chain's recent writes and on when autovacuum last ran, so one
-- clinic's searches slowed with another's new clients. Clients are added and edited a few times a
-- day, so writing each one's trigrams into the index at once costs little where it happens.
ALTER INDEX clients_search_trgm SET (fastupdate = off);
-- Turning it off leaves what is pending in place: merge it now.
SELECT gin_clean_pending_list('clients_search_trgm'::regclass);
