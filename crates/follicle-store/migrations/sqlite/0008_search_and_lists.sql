-- Search and lists that do not grow with the clinic's history (issue 16). Keep in step with
-- ../postgres/0008_search_and_lists.sql: the same screens served by an index on each side.
--
-- Client search: a trigram index (FTS5's `trigram` tokenizer, in SQLite's bundled build) of each
-- client's search text (lower-cased name, phone as typed, phone digits, email), so a query of
-- three characters or more finds its substrings from the index instead of reading every client.
-- The FTS row of a client is keyed by `client_search_keys.key`, an INTEGER PRIMARY KEY: a
-- clients row's own rowid may change on VACUUM (the table's key is a UUID), which would leave an
-- external-content index pointing at the wrong rows. Triggers keep the index in step with every
-- insert, change and deletion of a client, whoever writes it.
CREATE TABLE client_search_keys (
    key       INTEGER PRIMARY KEY,
    client_id BLOB NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE clients_fts USING fts5(search_text, client_id UNINDEXED, tokenize = 'trigram');

CREATE TRIGGER clients_fts_insert AFTER INSERT ON clients BEGIN
    INSERT INTO client_search_keys (client_id) VALUES (new.id);
    INSERT INTO clients_fts (rowid, search_text, client_id)
        VALUES ((SELECT key FROM client_search_keys WHERE client_id = new.id), new.search_text, new.id);
END;

CREATE TRIGGER clients_fts_update AFTER UPDATE OF search_text ON clients BEGIN
    UPDATE clients_fts SET search_text = new.search_text
        WHERE rowid = (SELECT key FROM client_search_keys WHERE client_id = new.id);
END;

CREATE TRIGGER clients_fts_delete AFTER DELETE ON clients BEGIN
    DELETE FROM clients_fts WHERE rowid = (SELECT key FROM client_search_keys WHERE client_id = old.id);
    DELETE FROM client_search_keys WHERE client_id = old.id;
END;

-- The clients already kept are indexed now.
INSERT INTO client_search_keys (client_id) SELECT id FROM clients ORDER BY created_at, id;
INSERT INTO clients_fts (rowid, search_text, client_id)
    SELECT k.key, c.search_text, c.id FROM client_search_keys k JOIN clients c ON c.id = k.client_id;

-- The clients list, by name, a page at a time (keyset on name, id).
CREATE INDEX clients_clinic_name ON clients (clinic_id, name, id);

-- A client's record: their appointments by start (the diary's index is by clinic and start);
-- also whether a client had a later completed session (Today's touch-ups).
CREATE INDEX appointments_client ON appointments (client_id, starts_at);

-- Today's clients seen most recently.
CREATE INDEX clients_clinic_updated ON clients (clinic_id, updated_at, id);

-- The audit view of one client, newest first, is served by audit_log_client as it is: a SQLite
-- index ends with the row id, here the audit row's id. (PostgreSQL's gets the id added.)
