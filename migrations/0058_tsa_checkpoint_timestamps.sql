-- Archive time-stamps of the log's checkpoints (src/audit/archive-timestamps.ts): an RFC 3161
-- token over the SHA-256 of a signed checkpoint note's exact bytes, one per time-stamped tree
-- size, with the index of the `checkpoint.timestamped` entry that records it. The log itself is
-- the archive: a later time-stamped checkpoint covers that entry, so an older token (and the TSA
-- certificate it names) is re-dated by every newer one. Rows are written once and never changed.
CREATE TABLE tsa_checkpoint_timestamps (
  tree_size bigint PRIMARY KEY REFERENCES audit_checkpoints (size),
  token bytea NOT NULL,
  gen_time timestamptz NOT NULL,
  -- SHA-256 of the TSA certificate that signed the token: a renewal chain takes the first token
  -- of each newer certificate.
  tsa_certificate_sha256 bytea NOT NULL,
  log_index bigint NOT NULL,
  stamped_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tsa_checkpoint_timestamps_stamped_at ON tsa_checkpoint_timestamps (stamped_at);
REVOKE UPDATE, DELETE, TRUNCATE ON tsa_checkpoint_timestamps FROM chancery_service;
