-- The reason an officer signed with a decision (src/verify/decision-reason.ts: 1-500 characters
-- in one normal form; the service checks the form, the database keeps the bounds). A refusal
-- needs one and an approval takes none (src/submissions/countersign-checks.ts). The refusal rule
-- is NOT VALID: refusals recorded before reasons were signed keep having none, every new row is
-- checked.
ALTER TABLE submission_countersignatures ADD COLUMN reason text CHECK (reason IS NULL OR char_length(reason) BETWEEN 1 AND 500);
ALTER TABLE submission_countersignatures ADD CONSTRAINT submission_countersignatures_reason_rule
  CHECK ((decision = 'refuse') = (reason IS NOT NULL) OR decision = 'review') NOT VALID;
