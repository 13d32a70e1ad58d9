-- Issue 16: SQLite's audit rows filed by client in batches, not indexed one by one.
--
-- An audit row indexed by client lands on that client's page of the index: a read that lists
-- 900 clients (a long-used lot's recall) dirtied some 900 pages, ~4 KiB of write-ahead log and
-- a checkpointed page each, and writing a batch of 512 such rows took ten times as long as
-- with the clinic's index alone. Here a client's rows are found through `audit_filed` instead,
-- written a filing at a time (`store::filing`): each filing lists the rows written since the
-- last one under its own key, sorted by client, so a filing appends a few dozen pages however
-- many clients its rows name. One client's rows are then a lookup of each filing (a few hundred
-- for ten years of a busy clinic) plus the rows written since the last filing, read in id order.
--
-- `audit_filings`: one row per filing, the newest audit row id it holds (the rows after the
-- previous filing's, up to it). `audit_filed`: the filed rows that name a client.
CREATE TABLE audit_filings (
    upto INTEGER PRIMARY KEY
);

CREATE TABLE audit_filed (
    filing    INTEGER NOT NULL,
    client_id BLOB NOT NULL,
    audit_id  INTEGER NOT NULL,
    PRIMARY KEY (filing, client_id, audit_id)
) WITHOUT ROWID;

-- The rows already written, filed at once.
INSERT INTO audit_filings (upto) SELECT id FROM audit_log ORDER BY id DESC LIMIT 1;
INSERT INTO audit_filed (filing, client_id, audit_id)
    SELECT (SELECT upto FROM audit_filings), client_id, id FROM audit_log
    WHERE client_id IS NOT NULL ORDER BY client_id, id;

-- A row deleted (the retention purge) leaves its filing too.
CREATE TRIGGER audit_log_unfiled AFTER DELETE ON audit_log WHEN old.client_id IS NOT NULL
BEGIN
    DELETE FROM audit_filed
    WHERE filing = (SELECT min(upto) FROM audit_filings WHERE upto >= old.id)
      AND client_id = old.client_id AND audit_id = old.id;
END;

DROP INDEX audit_log_client;
