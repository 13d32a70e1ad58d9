-- Issue 16: a batch's recall, a page at a time. Keep in step with ../postgres/0020_recall_by_clinic_and_batch.sql.
--
-- The recall reads a clinic's sessions of one batch (RECALL_COUNTS, RECALL_FIRST, RECALL_AFTER in
-- store/records.rs): the index holds both conditions, and the client, so that the totals (sessions,
-- distinct clients) are read from the index alone.
DROP INDEX session_logs_batch;
CREATE INDEX session_logs_batch ON session_logs (clinic_id, batch_id, client_id);
