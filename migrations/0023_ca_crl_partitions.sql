-- Partitioned CRLs (RFC 5280 §5.2.5). Each end-entity certificate is placed at issuance in one of
-- a fixed number of partitions, named by its CRL distribution point; each partition has its own
-- CRL (with an issuingDistributionPoint naming the same URL) and its own CRL numbers. A revocation
-- only counts itself in its partition's row of crl_revocations; a partition's CRL is re-signed
-- when the count it covers is behind (on request, and by the refresh timer), so a revocation
-- never waits for a CRL to be signed and no CRL lock blocks a revocation.

-- The partition whose CRL lists the certificate; null: the full CRL only (certificates issued
-- before partitions, and the hierarchy's own service certificates).
ALTER TABLE certificates ADD COLUMN crl_partition integer CHECK (crl_partition >= 0);

-- CRL entries of a partition, unexpired first (RFC 5280 §3.3: an expired certificate may leave the CRL).
CREATE INDEX certificates_revoked_partition ON certificates (issuer, crl_partition, not_after) WHERE revoked_at IS NOT NULL;

-- Revocations per CA and partition (-1: certificates without a partition), only ever incremented,
-- in the revoking transaction. Their sum is the revocation epoch that OCSP and token caches of
-- every node compare against.
CREATE TABLE crl_revocations (
  issuer text NOT NULL,
  partition integer NOT NULL CHECK (partition >= -1),
  count bigint NOT NULL CHECK (count >= 0),
  PRIMARY KEY (issuer, partition)
);

-- The current CRL of each partition. `covers` is the partition's revocation count the CRL was
-- signed at: every revocation counted up to it is listed. The row is locked FOR UPDATE only by
-- the (one) transaction signing the partition's next CRL.
CREATE TABLE crl_partitions (
  issuer text NOT NULL,
  partition integer NOT NULL CHECK (partition >= 0),
  number bigint NOT NULL CHECK (number > 0),
  this_update timestamptz NOT NULL,
  next_update timestamptz NOT NULL,
  covers bigint NOT NULL,
  entries integer NOT NULL,
  der bytea NOT NULL,
  PRIMARY KEY (issuer, partition)
);

-- The full CRL: the total revocation count it was signed at, that of the certificates without a
-- partition (which name the full CRL in their distribution point), and how many entries it has.
ALTER TABLE crls ADD COLUMN covers bigint NOT NULL DEFAULT 0;
ALTER TABLE crls ADD COLUMN covers_unpartitioned bigint NOT NULL DEFAULT 0;
ALTER TABLE crls ADD COLUMN entries integer NOT NULL DEFAULT 0;
