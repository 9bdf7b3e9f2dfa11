-- Time-stamping authority (src/tsa). Its certificate joins the CA hierarchy (role 'tsa'), and
-- the serial numbers of its tokens come from one sequence, so they only grow, across every node
-- sharing the database (RFC 3161 §2.4.2: unique for each token of the TSA). A sequence never
-- rolls back, so a token abandoned before its commit leaves a gap, never a repeat.
ALTER TABLE ca_hierarchy DROP CONSTRAINT ca_hierarchy_role_check;
ALTER TABLE ca_hierarchy ADD CONSTRAINT ca_hierarchy_role_check
  CHECK (role IN ('root', 'issuing', 'ocsp', 'seal', 'admin', 'tsa'));

CREATE SEQUENCE tsa_serial AS bigint START WITH 1 MINVALUE 1 NO CYCLE;
