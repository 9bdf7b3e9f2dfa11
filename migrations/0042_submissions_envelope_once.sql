-- The current envelope is stored only once it differs from the envelope as submitted (an
-- officer's countersignature, or a detached JWS given its payload): NULL means "the original".
-- Envelopes are DER or base64url and do not compress: TOAST keeps them out of line without
-- trying to.
ALTER TABLE submissions ALTER COLUMN envelope DROP NOT NULL;
ALTER TABLE submissions ALTER COLUMN envelope SET STORAGE EXTERNAL;
ALTER TABLE submissions ALTER COLUMN original_envelope SET STORAGE EXTERNAL;
