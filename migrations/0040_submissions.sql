-- Submissions (src/submissions): one row per application, the
-- transitions it went through (each with its audit log entry and its receipt), and the officers'
-- countersignatures. Every write happens inside audit.record(), in the same transaction as the
-- transition's log entry.

CREATE TABLE submissions (
  id uuid PRIMARY KEY,
  -- Paging order (keyset cursor); gaps are harmless.
  n bigserial NOT NULL UNIQUE,
  applicant text NOT NULL CHECK (applicant ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
  application_id text NOT NULL CHECK (application_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  -- USCC positions 3-8: the applicant's registration division (officer jurisdiction is matched on it).
  division text NOT NULL CHECK (division ~ '^[0-9]{6}$'),
  -- The document's type as written (a policy id when one applied).
  document_type text,
  policy_id text,
  policy_version integer,
  policy_sha256 text,
  format text NOT NULL CHECK (format IN ('cms', 'jws')),
  status text NOT NULL CHECK (status IN ('rejected', 'accepted', 'pending', 'approved', 'refused')),
  -- SHA-256 of the envelope exactly as submitted: "the same envelope again" is this.
  envelope_sha256 text NOT NULL,
  -- SHA-256 over the envelope and the detached content as submitted: a rejected request's identity.
  request_sha256 text NOT NULL,
  document_sha256 text NOT NULL,
  enterprise_signature_sha256 text,
  -- Serial of the enterprise's signing certificate (hex), when one was found.
  signer_serial text,
  -- The approval steps of the policy at submission time (JSON array), and the step awaiting a
  -- countersignature (null unless pending) with its role, for the officers' queue.
  approval text NOT NULL,
  next_step integer,
  next_role text,
  next_any_jurisdiction boolean,
  -- The envelope as submitted, and the current one (with every countersignature recorded).
  original_envelope bytea NOT NULL,
  envelope bytea NOT NULL,
  -- The detached document, when it came separately.
  content bytea,
  -- The validation report at submission (JSON text, src/verify/validation-report.ts).
  report text NOT NULL,
  rejection_code text,
  rejection_reason text,
  submitted_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- Number of transitions; a countersignature is recorded only if it is still what was read.
  version integer NOT NULL CHECK (version >= 1),
  CHECK ((status = 'pending') = (next_step IS NOT NULL)),
  CHECK ((status = 'rejected') = (rejection_code IS NOT NULL))
);

-- Never a second record: one live submission per envelope and per (applicant, applicationId);
-- rejected requests do not hold those names (a forged junk envelope must not block the real
-- application), but the same rejected request again finds its record.
CREATE UNIQUE INDEX submissions_live_envelope ON submissions (envelope_sha256) WHERE status <> 'rejected';
CREATE UNIQUE INDEX submissions_live_application ON submissions (applicant, application_id) WHERE status <> 'rejected';
CREATE UNIQUE INDEX submissions_rejected_request ON submissions (request_sha256) WHERE status = 'rejected';
-- Officers' queue: pending, by role, division prefix and age.
CREATE INDEX submissions_queue ON submissions (next_role, division text_pattern_ops, n) WHERE status = 'pending';
CREATE INDEX submissions_applicant ON submissions (applicant, n);
CREATE INDEX submissions_status ON submissions (status, n);

CREATE TABLE submission_transitions (
  submission_id uuid NOT NULL REFERENCES submissions (id),
  -- 0 for the submission itself, then one per countersignature.
  seq integer NOT NULL CHECK (seq >= 0),
  status text NOT NULL,
  kind text NOT NULL,
  actor text NOT NULL,
  at timestamptz NOT NULL,
  log_index bigint NOT NULL UNIQUE,
  leaf_hash text NOT NULL,
  -- The compact JWS receipt of this transition.
  receipt text NOT NULL,
  -- What the transition was about (JSON): step, officer, decision, reason.
  detail text NOT NULL,
  PRIMARY KEY (submission_id, seq)
);

CREATE TABLE submission_countersignatures (
  submission_id uuid NOT NULL REFERENCES submissions (id),
  -- One countersignature decides one step: the backstop of "exactly one transition per step".
  step integer NOT NULL CHECK (step >= 0),
  officer_id text NOT NULL,
  certificate_serial text NOT NULL,
  decision text NOT NULL CHECK (decision IN ('approve', 'refuse', 'review')),
  signing_time timestamptz,
  -- SHA-256 of the countersignature's signature value (replays are recognised by it).
  countersignature_sha256 text NOT NULL,
  recorded_at timestamptz NOT NULL,
  log_index bigint NOT NULL,
  PRIMARY KEY (submission_id, step),
  UNIQUE (submission_id, countersignature_sha256)
);
