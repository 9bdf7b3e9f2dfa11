-- Registry (src/registry): enterprises identified by their USCC, and approval officers.

CREATE TABLE enterprises (
  uscc text PRIMARY KEY CHECK (uscc ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  division text NOT NULL CHECK (division ~ '^[0-9]{6}$'),
  status text NOT NULL CHECK (status IN ('active', 'revoked', 'deregistered')),
  check_overridden boolean NOT NULL DEFAULT false,
  registered_at timestamptz NOT NULL,
  status_changed_at timestamptz,
  status_reason text
);

-- The revoked-enterprise list and status filters page through this.
CREATE INDEX enterprises_status_uscc ON enterprises (status, uscc);

CREATE TABLE officers (
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  authority text NOT NULL CHECK (length(authority) BETWEEN 1 AND 200),
  role text NOT NULL CHECK (role IN ('reviewer', 'approver', 'handler')),
  jurisdiction text NOT NULL CHECK (jurisdiction ~ '^[0-9]{6}$'),
  registered_at timestamptz NOT NULL
);
