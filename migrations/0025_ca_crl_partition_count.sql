-- How many CRL partitions the issuing CA spreads its end-entity certificates over (0023), chosen
-- at `chancery init` and fixed for the CA's life: every issued certificate's CRL distribution
-- point names its partition's CRL, so every node and every restart must use the same count.
CREATE TABLE ca_crl_partition_count (
  issuer text PRIMARY KEY,
  partitions integer NOT NULL CHECK (partitions BETWEEN 1 AND 4096),
  chosen_at timestamptz NOT NULL
);

-- A CA initialized before the count was stored has issued with the default count, 64.
INSERT INTO ca_crl_partition_count (issuer, partitions, chosen_at)
SELECT 'issuing', 64, created_at FROM ca_hierarchy WHERE role = 'issuing';
