import { digest, sha256Hex } from '../crypto/digest.js';
import type { Database, Queryable } from '../db/types.js';
import type { Logger } from '../log.js';
import { OID } from '../oids.js';
import { TsaError } from '../tsa/errors.js';
import type { TimeStamper } from '../tsa/types.js';
import { parseToken, tokenSignerCertificate } from '../verify/timestamp.js';
import type { StoredCheckpoint } from './store.js';
import type { AuditLog } from './types.js';

/**
 * Archive time-stamps of the log's head (the X-Road way of keeping evidence verifiable for
 * decades): now and then a signed checkpoint is time-stamped by an RFC 3161 TSA, over the
 * SHA-256 of the checkpoint note's exact bytes. The token is a time by which every entry under
 * that checkpoint existed, independent of the log key and of the signers' certificates; each
 * one is recorded in the log itself (`checkpoint.timestamped`, naming the token's SHA-256), so a
 * later time-stamped checkpoint also covers the earlier tokens: the log is the archive, and a
 * newer TSA certificate re-dates everything before it.
 */

/** Default time between archive time-stamps: the first checkpoint after it gets one. */
export const DEFAULT_ARCHIVE_INTERVAL_MS = 10 * 60_000;
/** The subject of `checkpoint.timestamped` entries: they form their own chain. */
export const ARCHIVE_SUBJECT = 'log:archive-timestamps';

export interface ArchiveTimestamperOptions {
  db: Database;
  /** Where the `checkpoint.timestamped` entries go. */
  log: AuditLog;
  stamper: TimeStamper;
  logger: Logger;
  intervalMs?: number | undefined;
  now?: () => Date;
  /** A checkpoint was time-stamped and recorded. */
  onStamped?: (stamp: StoredArchiveTimestamp) => void;
  /** Time-stamping failed (the TSA, the token, or recording it); retried at the next checkpoint. */
  onFailed?: (error: unknown) => void;
}

export interface StoredArchiveTimestamp {
  treeSize: number;
  /** The signed checkpoint note, exactly as time-stamped (UTF-8). */
  note: string;
  /** The RFC 3161 TimeStampToken, DER. */
  token: Buffer;
  genTime: Date;
  tsaCertificateSha256: string;
  /** Index of the `checkpoint.timestamped` entry recording it. */
  logIndex: number;
  stampedAt: Date;
}

/**
 * Time-stamps the first checkpoint offered after each interval. A TSA failure never blocks a
 * checkpoint or a request: `offer` returns at once, and a failure is logged, reported through
 * `onFailed` and tried again with the next checkpoint offered (nothing was stored, so it is still due).
 */
export class ArchiveTimestamper {
  readonly #o: ArchiveTimestamperOptions;
  readonly #intervalMs: number;
  readonly #now: () => Date;
  readonly #startedAt: number;
  #inFlight: Promise<void> | undefined;
  /** The largest checkpoint offered, and the largest tree size this process time-stamped. */
  #latest: StoredCheckpoint | undefined;
  #stampedSize = 0;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ArchiveTimestamperOptions) {
    this.#o = options;
    this.#intervalMs = options.intervalMs ?? DEFAULT_ARCHIVE_INTERVAL_MS;
    this.#now = options.now ?? (() => new Date());
    this.#startedAt = this.#now().getTime();
  }

  /**
   * A checkpoint was published: time-stamp it in the background when one is due. Never throws.
   * The latest checkpoint offered is kept: when it was not time-stamped (not due yet, a run was
   * going, or the TSA failed), it is offered again one interval later, so a log that goes quiet
   * still gets its head time-stamped; any newer checkpoint meanwhile replaces it.
   */
  offer(checkpoint: StoredCheckpoint): void {
    if (this.#stopped) return;
    if (this.#latest === undefined || checkpoint.size > this.#latest.size) this.#latest = checkpoint;
    if (this.#inFlight !== undefined) return;
    const offered = this.#latest;
    this.#inFlight = this.stampIfDue(offered)
      .then((stamped) => stamped !== undefined || this.#stampedSize >= offered.size)
      .catch((error: unknown) => {
        this.#o.logger.warn(
          { err: error, size: offered.size },
          'archive time-stamp of the checkpoint failed; retried at the next checkpoint',
        );
        this.#o.onFailed?.(error);
        return false;
      })
      .then((covered) => {
        this.#inFlight = undefined;
        const latest = this.#latest;
        if (latest === undefined || (covered && latest.size <= offered.size)) return;
        if (this.#retry !== undefined || this.#stopped) return;
        this.#retry = setTimeout(() => {
          this.#retry = undefined;
          if (this.#latest !== undefined) this.offer(this.#latest);
        }, this.#intervalMs);
        this.#retry.unref();
      });
  }

  /** Waits for a time-stamp being taken. */
  async drain(): Promise<void> {
    await this.#inFlight;
  }

  /** Takes no more offers, cancels the retry and waits for a time-stamp being taken (before the log closes). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#inFlight;
  }

  /**
   * Time-stamps `checkpoint` when the latest archive time-stamp is at least the interval old (or,
   * when the log has none yet, the interval has passed since this timestamper was made) and none
   * covers it yet; returns what was stored, or undefined when none was
   * due. Throws when the TSA fails or its token is not over this note.
   */
  async stampIfDue(checkpoint: StoredCheckpoint): Promise<StoredArchiveTimestamp | undefined> {
    const dueSince = new Date(this.#now().getTime() - this.#intervalMs);
    if (!(await this.#isDue(this.#o.db, checkpoint.size, dueSince))) return undefined;
    const note = Buffer.from(checkpoint.note, 'utf8');
    const imprint = digest('sha256', note);
    const token = Buffer.from(await this.#o.stamper.timestamp({ hashAlgorithm: OID.sha256, digest: imprint }));
    let genTime: Date;
    let tsaCertificateSha256: string;
    try {
      const { tstInfo } = parseToken(token);
      if (tstInfo.hashAlgorithm !== OID.sha256 || !imprint.equals(Buffer.from(tstInfo.hashedMessage)))
        throw new TsaError('ERR_TSA_REPLY_INVALID', "the archive time-stamp's messageImprint is not the SHA-256 of the checkpoint note");
      const signer = tokenSignerCertificate(token);
      if (signer === undefined) throw new TsaError('ERR_TSA_REPLY_INVALID', "the archive time-stamp does not carry its TSA's certificate");
      genTime = tstInfo.genTime;
      tsaCertificateSha256 = sha256Hex(signer.der);
    } catch (error) {
      if (error instanceof TsaError) throw error;
      throw new TsaError('ERR_TSA_REPLY_INVALID', `the archive time-stamp cannot be read: ${(error as Error).message}`, { cause: error });
    }
    const stampedAt = this.#now();
    const stored = await this.#o.log.record(async (tx, append) => {
      // The tree head is locked here: another process that time-stamped meanwhile is seen.
      if (!(await this.#isDue(tx, checkpoint.size, dueSince))) return undefined;
      const entry = await append({
        kind: 'checkpoint.timestamped',
        actor: 'system',
        subject: ARCHIVE_SUBJECT,
        data: {
          treeSize: checkpoint.size,
          root: checkpoint.root.toString('hex'),
          noteSha256: imprint.toString('hex'),
          tokenSha256: sha256Hex(token),
          genTime: genTime.toISOString(),
          tsaCertificateSha256,
        },
      });
      await tx.query(
        `INSERT INTO tsa_checkpoint_timestamps (tree_size, token, gen_time, tsa_certificate_sha256, log_index, stamped_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [checkpoint.size, token, genTime, Buffer.from(tsaCertificateSha256, 'hex'), entry.index, stampedAt],
      );
      return { treeSize: checkpoint.size, note: checkpoint.note, token, genTime, tsaCertificateSha256, logIndex: entry.index, stampedAt };
    });
    if (stored !== undefined) {
      this.#stampedSize = Math.max(this.#stampedSize, stored.treeSize);
      this.#o.logger.info(
        { size: stored.treeSize, genTime: stored.genTime.toISOString(), logIndex: stored.logIndex },
        'checkpoint time-stamped',
      );
      this.#o.onStamped?.(stored);
    }
    return stored;
  }

  /**
   * Due unless a time-stamp is younger than the interval or covers `size` already (which is then
   * remembered); on a log with none at all, due once the interval has passed since this was made.
   */
  async #isDue(q: Queryable, size: number, dueSince: Date): Promise<boolean> {
    const { rows } = await q.query<{ stamped_at: Date; tree_size: number }>(
      'SELECT stamped_at, tree_size FROM tsa_checkpoint_timestamps ORDER BY tree_size DESC LIMIT 1',
    );
    const latest = rows[0];
    if (latest === undefined) return this.#startedAt <= dueSince.getTime();
    if (Number(latest.tree_size) >= size) {
      this.#stampedSize = Math.max(this.#stampedSize, Number(latest.tree_size));
      return false;
    }
    return new Date(latest.stamped_at).getTime() <= dueSince.getTime();
  }
}

interface Row {
  tree_size: number;
  note: string;
  token: Buffer;
  gen_time: Date;
  tsa_certificate_sha256: Buffer;
  log_index: number;
  stamped_at: Date;
}

const SELECT = `SELECT t.tree_size, c.note, t.token, t.gen_time, t.tsa_certificate_sha256, t.log_index, t.stamped_at
  FROM tsa_checkpoint_timestamps t JOIN audit_checkpoints c ON c.size = t.tree_size`;

function fromRow(r: Row): StoredArchiveTimestamp {
  return {
    treeSize: Number(r.tree_size),
    note: r.note,
    token: Buffer.from(r.token),
    genTime: new Date(r.gen_time),
    tsaCertificateSha256: Buffer.from(r.tsa_certificate_sha256).toString('hex'),
    logIndex: Number(r.log_index),
    stampedAt: new Date(r.stamped_at),
  };
}

/** The time-stamped checkpoint of the smallest tree size at or above `size`, or undefined. */
export async function archiveTimestampAtOrAfter(q: Queryable, size: number): Promise<StoredArchiveTimestamp | undefined> {
  const { rows } = await q.query<Row>(`${SELECT} WHERE t.tree_size >= $1 ORDER BY t.tree_size LIMIT 1`, [size]);
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/** The latest time-stamped checkpoint, or undefined when none is. */
export async function latestArchiveTimestamp(q: Queryable): Promise<StoredArchiveTimestamp | undefined> {
  const { rows } = await q.query<Row>(`${SELECT} ORDER BY t.tree_size DESC LIMIT 1`);
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

/**
 * The renewal chain from the time-stamped checkpoint at or after `size`: that one, then the first
 * time-stamp under each TSA certificate after it, at most `below` in tree size (ascending). Each
 * link re-dates the ones before it while their TSA certificates are still valid.
 */
export async function archiveTimestampChain(q: Queryable, size: number, below: number): Promise<StoredArchiveTimestamp[]> {
  const first = await archiveTimestampAtOrAfter(q, size);
  if (first === undefined || first.treeSize > below) return [];
  const { rows } = await q.query<Row>(
    `SELECT * FROM (
       SELECT DISTINCT ON (t.tsa_certificate_sha256) t.tree_size, c.note, t.token, t.gen_time, t.tsa_certificate_sha256, t.log_index, t.stamped_at
         FROM tsa_checkpoint_timestamps t JOIN audit_checkpoints c ON c.size = t.tree_size
        WHERE t.tree_size > $1 AND t.tree_size <= $2 AND t.tsa_certificate_sha256 <> $3
        ORDER BY t.tsa_certificate_sha256, t.tree_size
     ) renewals ORDER BY tree_size LIMIT 32`,
    [first.treeSize, below, Buffer.from(first.tsaCertificateSha256, 'hex')],
  );
  return [first, ...rows.map(fromRow)];
}
