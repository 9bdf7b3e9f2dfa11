-- Every decision-bearing row (a submission, a certificate, an enterprise, an officer) is bound to
-- the log entry that made its current state: the index and leaf hash of the latest entry about its
-- subject (`submission:<id>`, `certificate:<serial>`, `enterprise:<uscc>`, `officer:<id>`), written
-- in the same transaction as that entry. The service compares the row with that entry before it
-- acts on or serves it (src/audit/binding.ts): a row changed behind the log's back is refused
-- instead of trusted. Keyed by subject, beside the rows rather than in them, so that it depends on
-- no part's tables (this runs before or after them) and every part binds its rows the same way.
CREATE TABLE log_bindings (
  subject text PRIMARY KEY,
  log_index bigint NOT NULL CHECK (log_index >= 0),
  log_leaf bytea NOT NULL CHECK (octet_length(log_leaf) = 32)
);

-- Rows made before this migration: bound to their subject's latest entry as it stands.
INSERT INTO log_bindings (subject, log_index, log_leaf)
SELECT DISTINCT ON (subject) subject, seq, leaf_hash FROM audit_entries
 WHERE subject LIKE 'submission:%' OR subject LIKE 'certificate:%' OR subject LIKE 'enterprise:%' OR subject LIKE 'officer:%'
 ORDER BY subject, seq DESC;

-- The final decisions (a revocation is never undone), found from the log alone: the CRL lists
-- every certificate a `certificate.revoked` entry names, and the revoked-enterprise list is
-- checked against `enterprise.revoked`, whatever the rows say. Partial, so that other appends do
-- not maintain it.
CREATE INDEX audit_entries_final_decisions ON audit_entries (kind, subject)
  WHERE kind IN ('certificate.revoked', 'enterprise.revoked', 'enterprise.deregistered');
