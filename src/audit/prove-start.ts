import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, Queryable } from '../db/types.js';
import type { Logger } from '../log.js';
import { openCheckpoint, type Checkpoint } from './checkpoint.js';
import { CHECKPOINT_FILE, readCheckpointFile, writeCheckpointFile } from './checkpointer.js';
import { AuditError } from './errors.js';
import type { LogKey } from './log-key.js';
import {
  CompactRange,
  consistencyProofRanges,
  EMPTY_ROOT,
  hashLeaf,
  hashRanges,
  nodeKey,
  nodesOfRanges,
  verifyConsistency,
} from './merkle.js';
import { readNodes, rootAt } from './store.js';

/**
 * `<dataDir>/log-verified`: how far this data dir's service has proved the database's log from
 * entry bytes (size, root and compact range at that size). Start-up re-hashes only the entries
 * after it, so a restart stays fast; without it (a new node, a restored backup) every entry is
 * re-hashed once. It lives outside the database on purpose: the database cannot vouch for itself.
 */
export const VERIFIED_FILE = 'log-verified';

/** Entries read and re-hashed per query at start-up. */
const PAGE = 10_000;

interface VerifiedMarker {
  origin: string;
  size: number;
  root: Buffer;
  range: CompactRange;
}

export interface StartProof {
  /** Tree size the database was proved at. */
  size: number;
  /** Entries re-hashed from their bytes (those after the marker). */
  rehashed: number;
  /** Stored checkpoints whose signature and root were checked. */
  checkpointsChecked: number;
  /** The checkpoint the node trusts from now on (the file's, or the database's newest). */
  trusted: { size: number; source: 'file' | 'database' } | undefined;
}

function refuse(message: string, cause?: unknown): never {
  throw new AuditError('ERR_AUDIT_STATE_INCONSISTENT', `${message}; refusing to start rather than sign a history it cannot prove`, {
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The marker, or undefined (with a warning) when it is absent, unreadable or of another log. */
export function readVerifiedMarker(dataDir: string, origin: string, logger?: Logger): VerifiedMarker | undefined {
  const file = join(dataDir, VERIFIED_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { origin?: unknown; size?: unknown; root?: unknown; range?: unknown };
    if (parsed.origin !== origin) throw new Error(`origin ${String(parsed.origin)} is not this log's`);
    const size = parsed.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new Error('bad size');
    if (typeof parsed.root !== 'string' || !/^[0-9a-f]{64}$/.test(parsed.root)) throw new Error('bad root');
    if (typeof parsed.range !== 'string' || !/^([0-9a-f]{64})*$/.test(parsed.range)) throw new Error('bad range');
    const range = CompactRange.fromBytes(size, Buffer.from(parsed.range, 'hex'));
    const root = Buffer.from(parsed.root, 'hex');
    if (!range.root().equals(root)) throw new Error('its compact range does not hash to its root');
    return { origin, size, root, range };
  } catch (error) {
    logger?.warn({ file, err: error }, 'ignoring an unusable verified-size marker: every entry is re-hashed');
    return undefined;
  }
}

function writeVerifiedMarker(dataDir: string, marker: VerifiedMarker): void {
  const file = join(dataDir, VERIFIED_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  const text = JSON.stringify({
    origin: marker.origin,
    size: marker.size,
    root: marker.root.toString('hex'),
    range: marker.range.toBytes().toString('hex'),
  });
  const fd = openSync(temp, 'w', 0o644);
  try {
    writeSync(fd, `${text}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

interface Head {
  size: number;
  root: Buffer;
  frontier: Buffer;
  lastLeaf: Buffer | null;
}

async function readHead(q: Queryable): Promise<Head> {
  const { rows } = await q.query<{ size: number; root: Buffer; frontier: Buffer; last_leaf: Buffer | null }>(
    'SELECT size, root, frontier, last_leaf FROM audit_tree WHERE id',
  );
  const row = rows[0];
  if (row === undefined) refuse('the audit_tree row is missing');
  return { size: Number(row.size), root: row.root, frontier: row.frontier, lastLeaf: row.last_leaf };
}

/**
 * Stored interior nodes whose last leaf is in [start, end): exactly those appending that page
 * completes. One index range per level: the LATERAL subquery with OFFSET 0 is not flattened, so
 * the planner cannot turn the 62 ranges into a hash join over a sequential scan of every node
 * (which it did, making each page cost the size of the whole log and the proof quadratic).
 */
async function nodesEndingIn(q: Queryable, start: number, end: number): Promise<Map<string, Buffer>> {
  const { rows } = await q.query<{ level: number; idx: number; hash: Buffer }>(
    `SELECT n.level, n.idx, n.hash FROM generate_series(1, 62) AS l(level)
       CROSS JOIN LATERAL (SELECT a.level, a.idx, a.hash FROM audit_nodes a
         WHERE a.level = l.level AND a.idx >= ($1::bigint >> l.level) AND a.idx < ($2::bigint >> l.level) OFFSET 0) n`,
    [start, end],
  );
  const out = new Map<string, Buffer>();
  for (const r of rows) out.set(nodeKey({ level: Number(r.level), index: Number(r.idx) }), r.hash);
  return out;
}

interface StoredNote {
  size: number;
  root: Buffer;
  note: string;
}

/**
 * The start-up proof of the database's log. In one snapshot it checks, and refuses with one line
 * (ERR_AUDIT_STATE_INCONSISTENT) on any fault:
 * - the database is not behind `<dataDir>/log-checkpoint` nor the verified-size marker;
 * - no entry, subtree or checkpoint lies beyond the tree head (a crude tail cut);
 * - every stored checkpoint after the marker is signed by the log key, says what its row says,
 *   and successive ones are consistent (RFC 9162 consistency proofs from the stored subtrees);
 * - every entry after the marker hashes to its stored leaf hash; every subtree those entries
 *   complete is recomputed and equals the stored one; each checkpoint's root, the file's root and
 *   the tree head (root, compact range, last leaf) equal what the entry bytes give;
 * - the prefix the marker covers still has the marker's root.
 * Then the marker moves to the head. With no checkpoint file, the database's newest checkpoint
 * (now proved) becomes the file, and a log line says so. The service runs it again at a clean
 * stop (`when: 'stop'`), so the next start re-hashes only what arrives after it.
 */
export async function proveLogAtStart(
  db: Database,
  key: LogKey,
  dataDir: string,
  logger: Logger,
  options: { when?: 'start' | 'stop' } = {},
): Promise<StartProof> {
  const when = options.when ?? 'start';
  const file = join(dataDir, CHECKPOINT_FILE);
  const kept = readCheckpointFile(file, key);
  const marker = readVerifiedMarker(dataDir, key.origin, logger);
  const started = performance.now();
  const proof = await db.transaction(async (tx) => proveInSnapshot(tx, key, file, kept, marker), { isolation: 'repeatable read' });
  writeVerifiedMarker(dataDir, { origin: key.origin, size: proof.head.size, root: proof.head.root, range: proof.range });
  let trusted: StartProof['trusted'];
  if (kept !== undefined) {
    trusted = { size: kept.size, source: 'file' };
  } else if (proof.newest !== undefined && when === 'start') {
    writeCheckpointFile(file, proof.newest.note);
    trusted = { size: proof.newest.size, source: 'database' };
    logger.warn(
      { file, size: proof.newest.size, root: proof.newest.root.toString('hex') },
      `no ${CHECKPOINT_FILE} in the data dir: trusting the database's newest checkpoint (size ${proof.newest.size}) after proving it against the log key and the entries`,
    );
  } else if (proof.head.size > 0 && when === 'start') {
    logger.warn(
      { size: proof.head.size },
      `no ${CHECKPOINT_FILE} in the data dir and no checkpoint in the database: the ${proof.head.size} entries hash consistently but nothing signed vouches for them`,
    );
  }
  const result: StartProof = { size: proof.head.size, rehashed: proof.rehashed, checkpointsChecked: proof.checkpoints, trusted };
  logger.info({ ...result, ms: Math.round(performance.now() - started) }, `audit log proved at ${when}`);
  return result;
}

async function proveInSnapshot(
  tx: Queryable,
  key: LogKey,
  file: string,
  kept: Checkpoint | undefined,
  marker: VerifiedMarker | undefined,
): Promise<{ head: Head; range: CompactRange; rehashed: number; checkpoints: number; newest: StoredNote | undefined }> {
  // Hundreds of small page queries: compiling each one (JIT, on by default when the planner's
  // cost estimate is high, as it is for the per-level ranges) cost far more than running it.
  await tx.query('SET LOCAL jit = off');
  const head = await readHead(tx);
  if (kept !== undefined && head.size < kept.size) {
    refuse(
      `the database's audit log has ${head.size} entries but the checkpoint in ${file} covers ${kept.size}: the database is behind (an old backup, or entries removed)`,
    );
  }
  if (marker !== undefined && head.size < marker.size) {
    refuse(
      `the database's audit log has ${head.size} entries but this data dir proved it at ${marker.size} (${VERIFIED_FILE}): the database is behind (an old backup, or entries removed)`,
    );
  }

  // Nothing may lie beyond the head: rows there mean a cut that left debris (and the next append would collide).
  const beyond = await tx.query<{ entry: number | null; node: string | null; checkpoint: number | null }>(
    `SELECT (SELECT max(seq) FROM audit_entries WHERE seq >= $1) AS entry,
            (SELECT n.level || '/' || n.idx FROM generate_series(1, 62) AS l(level)
               CROSS JOIN LATERAL (SELECT a.level, a.idx FROM audit_nodes a
                 WHERE a.level = l.level AND a.idx >= ($1::bigint >> l.level) LIMIT 1) n LIMIT 1) AS node,
            (SELECT max(size) FROM audit_checkpoints WHERE size > $1) AS checkpoint`,
    [head.size],
  );
  const b = beyond.rows[0]!;
  if (b.checkpoint !== null) {
    refuse(
      `the database holds a signed checkpoint at size ${Number(b.checkpoint)} but its audit log has ${head.size} entries: entries were removed (a rollback)`,
    );
  }
  if (b.entry !== null) refuse(`the database holds audit entry ${Number(b.entry)} beyond its tree head (${head.size} entries)`);
  if (b.node !== null)
    refuse(`the database holds audit subtree ${b.node} beyond its tree head (${head.size} entries): a cut tail left debris`);

  // The checkpoint kept in the data dir, against the stored subtrees (its bytes are re-hashed below).
  if (kept !== undefined) {
    const root =
      kept.size === 0
        ? EMPTY_ROOT
        : await rootAt(tx, kept.size).catch((error: unknown) =>
            refuse(`the database's audit log cannot compute its root at size ${kept.size} (${(error as Error).message})`, error),
          );
    if (!root.equals(kept.root)) {
      refuse(
        `the database's audit log disagrees with the checkpoint in ${file}: its first ${kept.size} entries hash to ${root.toString('hex')}, the signed root is ${kept.root.toString('hex')}`,
      );
    }
  }

  // The prefix the marker covers still hashes (from the stored subtrees) to the marker's root.
  if (marker !== undefined && marker.size > 0) {
    const root = await rootAt(tx, marker.size).catch((error: unknown) =>
      refuse(`the database's audit log cannot compute its root at size ${marker.size} (${(error as Error).message})`, error),
    );
    if (!root.equals(marker.root)) {
      refuse(
        `the database's audit log disagrees with what this data dir proved (${VERIFIED_FILE}): its first ${marker.size} entries hash to ${root.toString('hex')}, not ${marker.root.toString('hex')}`,
      );
    }
  }
  // The stored checkpoints: signed by this key, and their rows say what their notes say.
  const from = marker?.size ?? 0;
  const { rows: cpRows } = await tx.query<{ size: number; root: Buffer; note: string }>(
    `SELECT size, root, note FROM audit_checkpoints
      WHERE size > $1 OR size = (SELECT max(size) FROM audit_checkpoints WHERE size <= $1) ORDER BY size`,
    [from],
  );
  const checkpoints: StoredNote[] = cpRows.map((r) => ({ size: Number(r.size), root: r.root, note: r.note }));
  for (const c of checkpoints) {
    let opened: Checkpoint;
    try {
      opened = openCheckpoint(c.note, key.verifier, key.origin);
    } catch (error) {
      refuse(
        `the database's checkpoint at size ${c.size} was not signed by this data dir's log key ${key.vkey} (${(error as Error).message}): use the data dir (keys/) that belongs to this database`,
        error,
      );
    }
    if (opened.size !== c.size || !opened.root.equals(c.root)) {
      refuse(`the database's checkpoint row at size ${c.size} does not say what its signed note says (size ${opened.size})`);
    }
    if (c.size === 0 && !c.root.equals(EMPTY_ROOT)) refuse("the database's signed checkpoint at size 0 is not the empty tree's");
  }
  // Successive checkpoints are consistent with each other (proofs from the stored subtrees).
  const pairs = checkpoints
    .slice(1)
    .map((c, i) => [checkpoints[i]!, c] as const)
    .filter(([a]) => a.size > 0);
  const ranges = pairs.map(([a, c]) => consistencyProofRanges(a.size, c.size));
  const nodes = await readNodes(tx, nodesOfRanges(ranges.flat()));
  pairs.forEach(([a, c], i) => {
    try {
      verifyConsistency(a.size, c.size, hashRanges(ranges[i]!, nodes), a.root, c.root);
    } catch (error) {
      refuse(`the database's signed checkpoints at sizes ${a.size} and ${c.size} are not consistent (${(error as Error).message})`, error);
    }
  });

  // Re-hash every entry after the marker and recompute every subtree, checkpoint root and the head.
  const range = marker?.range.clone() ?? new CompactRange();
  const wanted = new Map<number, Array<{ root: Buffer; what: string }>>();
  const want = (size: number, root: Buffer, what: string): void => {
    if (size <= from) return;
    wanted.set(size, [...(wanted.get(size) ?? []), { root, what }]);
  };
  for (const c of checkpoints) want(c.size, c.root, `the database's signed checkpoint at size ${c.size}`);
  if (kept !== undefined) want(kept.size, kept.root, `the checkpoint in ${file}`);
  let last: Buffer | null = null;
  // The next page is read while this one is hashed. Entries travel as text (the log holds only
  // valid UTF-8: audit_append converts text), half the bytes of bytea's hex form; bytes that are
  // not UTF-8 fail the conversion, which is a refusal like any other fault.
  const page = (start: number): Promise<[Array<{ seq: number; leaf_hash: Buffer; entry: string }>, Map<string, Buffer>]> => {
    const end = Math.min(head.size, start + PAGE);
    const read = Promise.all([
      tx
        .query<{ seq: number; leaf_hash: Buffer; entry: string }>(
          "SELECT seq, leaf_hash, convert_from(entry, 'UTF8') AS entry FROM audit_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq",
          [start, end],
        )
        .then((r) => r.rows),
      nodesEndingIn(tx, start, end),
    ]).catch((error: unknown) =>
      refuse(`the database's audit entries ${start}..${end - 1} cannot be read as log entries (${(error as Error).message})`, error),
    );
    read.catch(() => undefined); // a prefetch left behind by a refusal must not be an unhandled rejection
    return read;
  };
  let pending = from < head.size ? page(from) : undefined;
  for (let start = from; start < head.size; start += PAGE) {
    const end = Math.min(head.size, start + PAGE);
    const [rows, stored] = await pending!;
    pending = end < head.size ? page(end) : undefined;
    let expected = start;
    let completed = 0;
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expected) refuse(`the database's audit log has no entry ${expected} below its tree head (${head.size} entries)`);
      const leaf = hashLeaf(Buffer.from(row.entry, 'utf8'));
      if (!leaf.equals(row.leaf_hash)) refuse(`the database's audit entry ${seq} does not hash to its stored leaf hash`);
      range.append(leaf, (level, index, hash) => {
        completed++;
        const have = stored.get(nodeKey({ level, index }));
        if (have === undefined) refuse(`the database's audit subtree ${level}/${index} is missing`);
        if (!have.equals(hash)) refuse(`the database's audit subtree ${level}/${index} is not the hash of its entries`);
      });
      last = leaf;
      expected++;
      for (const w of wanted.get(range.size) ?? []) {
        const root = range.root();
        if (!root.equals(w.root)) {
          refuse(
            `the database's audit log disagrees with ${w.what}: its first ${range.size} entries hash to ${root.toString('hex')}, the signed root is ${w.root.toString('hex')}`,
          );
        }
      }
    }
    if (expected !== end) refuse(`the database's audit log has no entry ${expected} below its tree head (${head.size} entries)`);
    if (completed !== stored.size) refuse(`the database holds audit subtrees over entries ${start}..${end - 1} that no entry made`);
  }
  if (!range.root().equals(head.root) || !range.toBytes().equals(head.frontier)) {
    refuse(`the database's audit tree head (size ${head.size}) is not the hash of its entries`);
  }
  if (head.size > 0 && last === null) {
    const { rows } = await tx.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM audit_entries WHERE seq = $1', [head.size - 1]);
    last = rows[0]?.leaf_hash ?? null;
  }
  if (head.size > 0) {
    if (last === null || head.lastLeaf === null || !last.equals(head.lastLeaf)) {
      refuse(`the database's audit tree head names a last leaf that is not entry ${head.size - 1}'s`);
    }
  }
  const newest = checkpoints.at(-1);
  return {
    head,
    range,
    rehashed: head.size - from,
    checkpoints: checkpoints.length,
    newest: newest !== undefined && newest.size > 0 ? newest : undefined,
  };
}
