-- What a submission costs PostgreSQL to store.
--
-- Receipts: every receipt one service seal signs begins with the same protected header (ES256,
-- typ and the seal's x5c chain: ~2.1 KB of a ~2.8 KB receipt). Each header is stored once, by its
-- SHA-256; a transition keeps the rest of its receipt (payload and signature) and names its
-- header. A transition recorded before this migration keeps its whole receipt (receipt_header
-- NULL). Headers are only ever added, by the statement that inserts the transitions naming them
-- (src/submissions/store.ts), so a named header always exists; there is no foreign key because
-- its check would lock the one shared header row for every transition.
CREATE TABLE submission_receipt_headers (
  sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  header text NOT NULL
);
ALTER TABLE submission_transitions ADD COLUMN receipt_header text CHECK (receipt_header ~ '^[0-9a-f]{64}$');

-- The validation report (~7 KB of JSON per submission) compresses with lz4 at a fraction of
-- pglz's CPU, where the server was built with lz4 (PGlite was not: it keeps pglz).
DO $$
BEGIN
  ALTER TABLE submissions ALTER COLUMN report SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  NULL;
END
$$;
