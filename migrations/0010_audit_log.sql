-- Audit log (src/audit). Entries, the RFC 6962 tree's stored subtree
-- hashes, the tree head, and every signed checkpoint.
--
-- Appends go only through audit_append(), which checks what it is given (canonical chain links,
-- leaf hashes) and computes the Merkle nodes itself, so the service role (0011) can append but
-- can neither change history nor corrupt the tree. Guard triggers refuse UPDATE, DELETE and
-- TRUNCATE on the log tables for every role, ENABLE ALWAYS so that
-- session_replication_role = replica does not skip them. None of this stops a superuser who
-- drops the triggers: the signed checkpoints kept outside the database (and auditors) do.

CREATE TABLE audit_entries (
  seq bigint PRIMARY KEY CHECK (seq >= 0),            -- the Merkle leaf index; never a sequence
  leaf_hash bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),  -- SHA-256(0x00 || entry)
  kind text NOT NULL,
  subject text NOT NULL,
  entry bytea NOT NULL CHECK (octet_length(entry) <= 65536)       -- RFC 8785 canonical JSON
);
CREATE INDEX audit_entries_subject_idx ON audit_entries (subject, seq);
CREATE INDEX audit_entries_leaf_hash_idx ON audit_entries (leaf_hash);

-- Every complete (perfect) subtree of level >= 1: leaves [idx * 2^level, (idx + 1) * 2^level).
-- Level 0 is audit_entries.leaf_hash. Any RFC 6962 subtree hash is a fold of O(log n) of these,
-- so proofs read O(log n) rows.
CREATE TABLE audit_nodes (
  level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
  idx bigint NOT NULL CHECK (idx >= 0),
  hash bytea NOT NULL CHECK (octet_length(hash) = 32),
  PRIMARY KEY (level, idx)
);

-- The tree head: one row, locked FOR UPDATE by every append transaction (the sequencer).
CREATE TABLE audit_tree (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  size bigint NOT NULL CHECK (size >= 0),
  root bytea NOT NULL CHECK (octet_length(root) = 32),
  frontier bytea NOT NULL,   -- roots of the full subtrees of [0, size), largest first, 32 bytes each
  last_leaf bytea            -- leaf hash of entry size - 1 (the next entry's prev); NULL when empty
);
INSERT INTO audit_tree (id, size, root, frontier, last_leaf) VALUES (true, 0, sha256(''::bytea), ''::bytea, NULL);

CREATE TABLE audit_checkpoints (
  size bigint PRIMARY KEY CHECK (size >= 0),
  root bytea NOT NULL CHECK (octet_length(root) = 32),
  note text NOT NULL,        -- the C2SP signed note, exactly as served
  published_at timestamptz NOT NULL DEFAULT now()
);

-- Guards. ------------------------------------------------------------------------------------

CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END
$$;

CREATE FUNCTION audit_tree_only_grows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.size < OLD.size THEN
    RAISE EXCEPTION 'the audit log only grows: size % -> % refused', OLD.size, NEW.size
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_nodes_append_only BEFORE UPDATE OR DELETE ON audit_nodes
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_tree_no_truncate BEFORE TRUNCATE ON audit_tree
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_tree_grows BEFORE UPDATE ON audit_tree
  FOR EACH ROW EXECUTE FUNCTION audit_tree_only_grows();

ALTER TABLE audit_entries ENABLE ALWAYS TRIGGER audit_entries_append_only;
ALTER TABLE audit_entries ENABLE ALWAYS TRIGGER audit_entries_no_truncate;
ALTER TABLE audit_nodes ENABLE ALWAYS TRIGGER audit_nodes_append_only;
ALTER TABLE audit_nodes ENABLE ALWAYS TRIGGER audit_nodes_no_truncate;
ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_append_only;
ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_no_truncate;
ALTER TABLE audit_tree ENABLE ALWAYS TRIGGER audit_tree_no_delete;
ALTER TABLE audit_tree ENABLE ALWAYS TRIGGER audit_tree_no_truncate;
ALTER TABLE audit_tree ENABLE ALWAYS TRIGGER audit_tree_grows;

-- The append path. ---------------------------------------------------------------------------

-- Locks the tree head for the rest of the calling transaction and returns it. Every append
-- transaction calls this first, so appends are serialized across all processes and the next
-- index is always the current size: no sequence, no gaps.
CREATE FUNCTION audit_lock_tree() RETURNS TABLE (size bigint, root bytea, last_leaf bytea)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
  SELECT t.size, t.root, t.last_leaf FROM audit_tree t WHERE t.id FOR UPDATE
$$;

-- RFC 6962 root of the first p_size leaves, from the stored full subtrees (O(log n) reads).
CREATE FUNCTION audit_root_at(p_size bigint) RETURNS bytea
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_hashes bytea[] := '{}';
  v_width bigint := 1;
  v_level integer := 0;
  v_pos bigint := 0;
  v_h bytea;
  i integer;
BEGIN
  IF p_size IS NULL OR p_size < 0 THEN
    RAISE EXCEPTION 'audit_root_at: bad size %', p_size;
  END IF;
  IF p_size = 0 THEN
    RETURN sha256(''::bytea);
  END IF;
  WHILE v_width * 2 <= p_size LOOP
    v_width := v_width * 2;
    v_level := v_level + 1;
  END LOOP;
  WHILE v_width >= 1 LOOP
    IF v_pos + v_width <= p_size THEN
      IF v_level = 0 THEN
        SELECT e.leaf_hash INTO v_h FROM audit_entries e WHERE e.seq = v_pos;
      ELSE
        SELECT n.hash INTO v_h FROM audit_nodes n WHERE n.level = v_level AND n.idx = v_pos / v_width;
      END IF;
      IF v_h IS NULL THEN
        RAISE EXCEPTION 'audit_root_at(%): subtree %/% is missing', p_size, v_level, v_pos / v_width;
      END IF;
      v_hashes := v_hashes || v_h;
      v_pos := v_pos + v_width;
    END IF;
    v_width := v_width / 2;
    v_level := v_level - 1;
  END LOOP;
  v_h := v_hashes[cardinality(v_hashes)];
  FOR i IN REVERSE cardinality(v_hashes) - 1 .. 1 LOOP
    v_h := sha256('\x01'::bytea || v_hashes[i] || v_h);
  END LOOP;
  RETURN v_h;
END
$$;

-- Appends p_entries (canonical JSON text, in order) at index p_first, which must be the current
-- size. Checks each entry's seq, prev (leaf hash of the previous entry) and subjectPrev (leaf
-- hash of the subject's latest entry) and computes leaf hashes, the new full subtrees, frontier
-- and root itself. Returns the new size.
CREATE FUNCTION audit_append(p_first bigint, p_entries text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_size bigint;
  v_frontier bytea;
  v_last bytea;
  v_stack bytea[];
  v_count integer := coalesce(cardinality(p_entries), 0);
  v_bytes bytea;
  v_leaf bytea;
  v_doc jsonb;
  v_subject text;
  v_subject_prev bytea;
  v_seq bigint;
  v_pos bigint;
  v_level integer;
  v_h bytea;
  v_node_levels smallint[] := '{}';
  v_node_idx bigint[] := '{}';
  v_node_hashes bytea[] := '{}';
  i integer;
BEGIN
  SELECT t.size, t.frontier, t.last_leaf INTO v_size, v_frontier, v_last FROM audit_tree t WHERE t.id FOR UPDATE;
  IF v_size <> p_first THEN
    RAISE EXCEPTION 'audit_append: the log has % entries; the batch starts at %', v_size, p_first
      USING ERRCODE = 'serialization_failure';
  END IF;
  IF v_count = 0 THEN
    RETURN v_size;
  END IF;
  v_stack := ARRAY(SELECT substring(v_frontier FROM g * 32 + 1 FOR 32)
                   FROM generate_series(0, octet_length(v_frontier) / 32 - 1) AS g ORDER BY g);
  FOR i IN 1 .. v_count LOOP
    v_seq := v_size + i - 1;
    v_bytes := convert_to(p_entries[i], 'UTF8');
    v_leaf := sha256('\x00'::bytea || v_bytes);
    v_doc := p_entries[i]::jsonb;
    v_subject := v_doc ->> 'subject';
    IF jsonb_typeof(v_doc) <> 'object' OR (v_doc ->> 'seq')::bigint IS DISTINCT FROM v_seq THEN
      RAISE EXCEPTION 'audit_append: entry % does not carry seq %', v_seq, v_seq;
    END IF;
    IF v_doc ->> 'prev' IS DISTINCT FROM encode(v_last, 'hex') THEN
      RAISE EXCEPTION 'audit_append: entry % has prev %, the previous leaf hash is %', v_seq, v_doc ->> 'prev', encode(v_last, 'hex');
    END IF;
    IF v_subject IS NULL OR v_doc ->> 'kind' IS NULL THEN
      RAISE EXCEPTION 'audit_append: entry % has no subject or kind', v_seq;
    END IF;
    SELECT e.leaf_hash INTO v_subject_prev FROM audit_entries e WHERE e.subject = v_subject ORDER BY e.seq DESC LIMIT 1;
    IF v_doc ->> 'subjectPrev' IS DISTINCT FROM encode(v_subject_prev, 'hex') THEN
      RAISE EXCEPTION 'audit_append: entry % has subjectPrev %, the subject''s latest leaf hash is %', v_seq, v_doc ->> 'subjectPrev', encode(v_subject_prev, 'hex');
    END IF;
    INSERT INTO audit_entries (seq, leaf_hash, kind, subject, entry) VALUES (v_seq, v_leaf, v_doc ->> 'kind', v_subject, v_bytes);
    -- RFC 6962 compact range: the new leaf merges with every full subtree it completes.
    v_h := v_leaf;
    v_pos := v_seq;
    v_level := 0;
    WHILE v_pos % 2 = 1 LOOP
      v_h := sha256('\x01'::bytea || v_stack[cardinality(v_stack)] || v_h);
      v_stack := v_stack[1 : cardinality(v_stack) - 1];
      v_level := v_level + 1;
      v_pos := (v_pos - 1) / 2;
      v_node_levels := v_node_levels || v_level::smallint;
      v_node_idx := v_node_idx || v_pos;
      v_node_hashes := v_node_hashes || v_h;
    END LOOP;
    v_stack := v_stack || v_h;
    v_last := v_leaf;
  END LOOP;
  INSERT INTO audit_nodes (level, idx, hash) SELECT * FROM unnest(v_node_levels, v_node_idx, v_node_hashes);
  v_h := v_stack[cardinality(v_stack)];
  FOR i IN REVERSE cardinality(v_stack) - 1 .. 1 LOOP
    v_h := sha256('\x01'::bytea || v_stack[i] || v_h);
  END LOOP;
  UPDATE audit_tree t SET size = v_size + v_count, root = v_h, frontier = (SELECT string_agg(x, ''::bytea ORDER BY o) FROM unnest(v_stack) WITH ORDINALITY AS u(x, o)), last_leaf = v_last WHERE t.id;
  RETURN v_size + v_count;
END
$$;

-- Stores a signed checkpoint after checking that it describes this tree (its root is the root
-- of the first p_size entries). Returns false when one of that size is already stored.
CREATE FUNCTION audit_store_checkpoint(p_size bigint, p_root bytea, p_note text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_size bigint;
BEGIN
  SELECT t.size INTO v_size FROM audit_tree t WHERE t.id;
  IF p_size > v_size THEN
    RAISE EXCEPTION 'audit_store_checkpoint: size % is beyond the log (% entries)', p_size, v_size;
  END IF;
  IF audit_root_at(p_size) <> p_root THEN
    RAISE EXCEPTION 'audit_store_checkpoint: root % is not the root of the first % entries', encode(p_root, 'hex'), p_size;
  END IF;
  INSERT INTO audit_checkpoints (size, root, note) VALUES (p_size, p_root, p_note) ON CONFLICT (size) DO NOTHING;
  RETURN FOUND;
END
$$;
