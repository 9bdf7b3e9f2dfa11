-- The log explorer pages entries of one kind, newest first (src/web, LogReader.findEntries); the
-- subject filter already has audit_entries_subject_idx.
CREATE INDEX audit_entries_kind_idx ON audit_entries (kind, seq);
