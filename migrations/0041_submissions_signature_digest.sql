-- The enterprise signature an officer's upload must carry is read from the held envelope when a
-- countersignature arrives (src/submissions/service.ts); keeping its digest on every submission
-- cost an extra parse of each envelope on the submission hot path, for no reader.
ALTER TABLE submissions DROP COLUMN enterprise_signature_sha256;
