-- Certificate authority (src/ca): the hierarchy made by `chancery init`, every certificate the
-- issuing CA signs (with its revocation), and the current CRL of each issuing CA.

CREATE TABLE ca_hierarchy (
  role text PRIMARY KEY CHECK (role IN ('root', 'issuing', 'ocsp', 'seal', 'admin')),
  serial text NOT NULL CHECK (serial ~ '^([0-9a-f]{2}){1,20}$'),
  -- Name of the private key in the key store; null for the admin (its key is the operator's).
  key_name text,
  der bytea NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE certificates (
  -- Lowercase hex of the serial number's octets without leading zero octets (src/ca/serial.ts).
  serial text PRIMARY KEY CHECK (serial ~ '^([0-9a-f]{2}){1,20}$'),
  issuer text NOT NULL,
  profile text NOT NULL,
  uscc text REFERENCES enterprises (uscc),
  officer_id text REFERENCES officers (id),
  subject text NOT NULL,
  spki_sha256 text NOT NULL,
  not_before timestamptz NOT NULL,
  not_after timestamptz NOT NULL,
  der bytea NOT NULL,
  issued_at timestamptz NOT NULL,
  revoked_at timestamptz,
  -- RFC 5280 §5.3.1 CRLReason.
  revocation_reason smallint CHECK (revocation_reason BETWEEN 0 AND 10),
  CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL))
);

CREATE INDEX certificates_uscc ON certificates (uscc) WHERE uscc IS NOT NULL;
CREATE INDEX certificates_officer ON certificates (officer_id) WHERE officer_id IS NOT NULL;
-- The CRL is built from this.
CREATE INDEX certificates_revoked ON certificates (issuer, serial) WHERE revoked_at IS NOT NULL;

-- The current CRL per issuing CA. Its number only grows (RFC 5280 §5.2.3); the row is locked
-- FOR UPDATE while a new CRL is signed, which also serializes revocations of one CA. The number
-- doubles as the revocation epoch that OCSP and CRL caches of every node compare against.
CREATE TABLE crls (
  issuer text PRIMARY KEY,
  number bigint NOT NULL CHECK (number > 0),
  this_update timestamptz NOT NULL,
  next_update timestamptz NOT NULL,
  der bytea NOT NULL
);
