-- The role the service runs as in production (README § Audit log): it may read the log and
-- append to it only through the SECURITY DEFINER functions of 0010; it has no INSERT, UPDATE,
-- DELETE or TRUNCATE on the log tables. Roles are cluster-wide while migrations run per
-- database (tests create many databases in one cluster), so creation is idempotent and
-- tolerates a concurrent creator.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'chancery_service') THEN
    BEGIN
      CREATE ROLE chancery_service NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another database's migration created it a moment ago
    END;
  END IF;
END
$$;

REVOKE ALL ON audit_entries, audit_nodes, audit_tree, audit_checkpoints FROM PUBLIC;
GRANT SELECT ON audit_entries, audit_nodes, audit_tree, audit_checkpoints TO chancery_service;

REVOKE ALL ON FUNCTION audit_lock_tree() FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_append(bigint, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_store_checkpoint(bigint, bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_lock_tree() TO chancery_service;
GRANT EXECUTE ON FUNCTION audit_append(bigint, text[]) TO chancery_service;
GRANT EXECUTE ON FUNCTION audit_store_checkpoint(bigint, bytea, text) TO chancery_service;
GRANT EXECUTE ON FUNCTION audit_root_at(bigint) TO chancery_service;

-- The service checks on start that every migration is applied.
GRANT USAGE ON SCHEMA public TO chancery_service;
GRANT SELECT ON schema_migrations TO chancery_service;

-- Tables that later migrations create (other parts' state) are the service's to read and
-- write by default; a part that wants a stricter rule revokes it in its own migration.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO chancery_service;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO chancery_service;
