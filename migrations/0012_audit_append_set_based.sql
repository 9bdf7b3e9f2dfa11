-- audit_append, set-based (same signature, contract and grants as in 0010): the entries of a
-- batch are parsed, hashed and checked in one statement and inserted with one INSERT instead of
-- row by row, which made the function the largest cost of a group commit (~70 µs per entry).
-- Checks are unchanged: each entry's seq is its index; prev is the leaf hash of the entry
-- before; subjectPrev the leaf hash of the subject's latest entry (earlier in the batch, or in
-- the log); the Merkle nodes, frontier and root are computed here, not taken from the caller.
CREATE OR REPLACE FUNCTION audit_append(p_first bigint, p_entries text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  v_size bigint;
  v_frontier bytea;
  v_last bytea;
  v_stack bytea[];
  v_count integer := coalesce(cardinality(p_entries), 0);
  v_leaves bytea[];
  v_bytes bytea[];
  v_subjects text[];
  v_kinds text[];
  v_bad_seq bigint;
  v_bad_why text;
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

  WITH parsed AS (
    SELECT u.o::integer AS ord, p_first + u.o - 1 AS seq, convert_to(u.t, 'UTF8') AS bytes, u.t::jsonb AS doc
    FROM unnest(p_entries) WITH ORDINALITY AS u(t, o)
  ), hashed AS (
    SELECT p.*, sha256('\x00'::bytea || p.bytes) AS leaf, p.doc ->> 'subject' AS subject FROM parsed p
  ), linked AS (
    SELECT h.*,
      lag(h.leaf, 1, v_last) OVER (ORDER BY h.ord) AS expected_prev,
      lag(h.leaf) OVER (PARTITION BY h.subject ORDER BY h.ord) AS batch_subject_prev,
      row_number() OVER (PARTITION BY h.subject ORDER BY h.ord) AS nth
    FROM hashed h
  ), checked AS (
    SELECT l.*,
      CASE WHEN l.nth = 1
        THEN (SELECT e.leaf_hash FROM audit_entries e WHERE e.subject = l.subject ORDER BY e.seq DESC LIMIT 1)
        ELSE l.batch_subject_prev END AS expected_subject_prev
    FROM linked l
  ), judged AS (
    SELECT c.*,
      CASE
        WHEN jsonb_typeof(c.doc) <> 'object' OR (c.doc ->> 'seq')::bigint IS DISTINCT FROM c.seq
          THEN format('does not carry seq %s', c.seq)
        WHEN c.doc ->> 'prev' IS DISTINCT FROM encode(c.expected_prev, 'hex')
          THEN format('has prev %s, the previous leaf hash is %s', c.doc ->> 'prev', encode(c.expected_prev, 'hex'))
        WHEN c.subject IS NULL OR c.doc ->> 'kind' IS NULL
          THEN 'has no subject or kind'
        WHEN c.doc ->> 'subjectPrev' IS DISTINCT FROM encode(c.expected_subject_prev, 'hex')
          THEN format('has subjectPrev %s, the subject''s latest leaf hash is %s', c.doc ->> 'subjectPrev', encode(c.expected_subject_prev, 'hex'))
      END AS why
    FROM checked c
  )
  SELECT array_agg(j.leaf ORDER BY j.ord), array_agg(j.bytes ORDER BY j.ord), array_agg(j.subject ORDER BY j.ord),
         array_agg(j.doc ->> 'kind' ORDER BY j.ord),
         (array_agg(j.seq ORDER BY j.ord) FILTER (WHERE j.why IS NOT NULL))[1],
         (array_agg(j.why ORDER BY j.ord) FILTER (WHERE j.why IS NOT NULL))[1]
    INTO v_leaves, v_bytes, v_subjects, v_kinds, v_bad_seq, v_bad_why
    FROM judged j;
  IF v_bad_why IS NOT NULL THEN
    RAISE EXCEPTION 'audit_append: entry % %', v_bad_seq, v_bad_why;
  END IF;

  INSERT INTO audit_entries (seq, leaf_hash, kind, subject, entry)
  SELECT p_first + u.o - 1, u.l, u.k, u.s, u.b FROM unnest(v_leaves, v_kinds, v_subjects, v_bytes) WITH ORDINALITY AS u(l, k, s, b, o);

  -- RFC 6962 compact range: each new leaf merges with every full subtree it completes.
  v_stack := ARRAY(SELECT substring(v_frontier FROM g * 32 + 1 FOR 32)
                   FROM generate_series(0, octet_length(v_frontier) / 32 - 1) AS g ORDER BY g);
  FOR i IN 1 .. v_count LOOP
    v_h := v_leaves[i];
    v_pos := v_size + i - 1;
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
  END LOOP;
  INSERT INTO audit_nodes (level, idx, hash) SELECT * FROM unnest(v_node_levels, v_node_idx, v_node_hashes);
  v_h := v_stack[cardinality(v_stack)];
  FOR i IN REVERSE cardinality(v_stack) - 1 .. 1 LOOP
    v_h := sha256('\x01'::bytea || v_stack[i] || v_h);
  END LOOP;
  UPDATE audit_tree t
    SET size = v_size + v_count, root = v_h,
        frontier = (SELECT string_agg(x, ''::bytea ORDER BY o) FROM unnest(v_stack) WITH ORDINALITY AS u(x, o)),
        last_leaf = v_leaves[v_count]
    WHERE t.id;
  RETURN v_size + v_count;
END
$$;
