import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../db/types.js';
import type { Logger } from '../log.js';
import { openCheckpoint, signCheckpoint, type Checkpoint } from './checkpoint.js';
import type { ArchiveTimestamper } from './archive-timestamps.js';
import { AuditError } from './errors.js';
import type { LogKey } from './log-key.js';
import { latestCheckpoint, readTreeHead, storeCheckpoint, type StoredCheckpoint } from './store.js';

/** `<dataDir>/log-checkpoint`: the latest checkpoint this data dir's service signed, outside the database. */
export const CHECKPOINT_FILE = 'log-checkpoint';

export interface CheckpointerOptions {
  db: Database;
  logKey: LogKey;
  dataDir: string;
  logger: Logger;
  /** Delay between an append's commit and the checkpoint covering it, default 200 ms. */
  delayMs?: number;
  /** How often to look for entries appended by other processes, default 1000 ms. */
  pollMs?: number;
}

/**
 * Publishes checkpoints: signs (origin, size, root) of the database's tree head with the log
 * key, stores every one (audit_store_checkpoint checks the root against the tree) and writes the
 * latest to `<dataDir>/log-checkpoint`. A commit schedules one within `delayMs`; a poll catches
 * appends of other processes, so while entries arrive a checkpoint follows within about 1 s.
 */
export class Checkpointer {
  readonly #db: Database;
  readonly #key: LogKey;
  readonly #file: string;
  readonly #logger: Logger;
  readonly #delayMs: number;
  readonly #pollMs: number;
  #published = -1;
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #archiver: ArchiveTimestamper | undefined;

  constructor(options: CheckpointerOptions) {
    this.#db = options.db;
    this.#key = options.logKey;
    this.#file = join(options.dataDir, CHECKPOINT_FILE);
    this.#logger = options.logger;
    this.#delayMs = options.delayMs ?? 200;
    this.#pollMs = options.pollMs ?? 1000;
  }

  /** Publishes the current head (if new) and starts polling. */
  async start(): Promise<void> {
    await this.publish();
    this.#poll = setInterval(() => this.#publishQuietly(), this.#pollMs);
    this.#poll.unref();
  }

  /** An append committed: make sure a checkpoint follows within `delayMs`. */
  notify(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#publishQuietly();
    }, this.#delayMs);
    this.#timer.unref();
  }

  /**
   * Offers each checkpoint this process signs to `archiver`, which time-stamps one per interval
   * in the background (archive-timestamps.ts): a TSA failure never delays a checkpoint.
   */
  archiveWith(archiver: ArchiveTimestamper): void {
    this.#archiver = archiver;
  }

  /** Stops offering checkpoints for archive time-stamps and waits for one being taken. */
  async stopArchiving(): Promise<void> {
    const archiver = this.#archiver;
    this.#archiver = undefined;
    await archiver?.stop();
  }

  /** Stops the timers and publishes a last checkpoint for what was appended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.stopArchiving();
    clearTimeout(this.#timer);
    clearInterval(this.#poll);
    this.#timer = undefined;
    await this.#running;
    await this.publish().catch((error: unknown) => this.#logger.warn({ err: error }, 'final checkpoint failed'));
  }

  /**
   * Signs and stores a checkpoint for the current tree head unless one of that size exists.
   * Runs one at a time; a call during a run makes the run go again.
   */
  publish(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#publishOnce();
        } while (this.#again);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  #publishQuietly(): void {
    this.publish().catch((error: unknown) => this.#logger.error({ err: error }, 'checkpoint publication failed'));
  }

  async #publishOnce(): Promise<void> {
    const head = await readTreeHead(this.#db);
    if (head.size <= this.#published) return;
    const latest = await latestCheckpoint(this.#db);
    if (latest !== undefined && latest.size >= head.size) {
      // Another process signed this head (or a later one) already.
      this.#published = latest.size;
      this.#writeFile(latest);
      return;
    }
    const note = await signCheckpoint(this.#key.signer, this.#key.origin, { origin: this.#key.origin, size: head.size, root: head.root });
    const checkpoint = { size: head.size, root: head.root, note };
    await storeCheckpoint(this.#db, checkpoint);
    this.#published = head.size;
    this.#writeFile(checkpoint);
    this.#logger.debug({ size: head.size, root: head.root.toString('hex') }, 'checkpoint published');
    this.#archiver?.offer(checkpoint);
  }

  /** Replaces the file only with a larger checkpoint (several processes may share a data dir). */
  #writeFile(checkpoint: StoredCheckpoint): void {
    const current = readCheckpointFile(this.#file, this.#key);
    if (current !== undefined && current.size >= checkpoint.size) return;
    writeCheckpointFile(this.#file, checkpoint.note);
  }
}

/** Writes a signed checkpoint note to `file` atomically (temp file, fsync, rename). */
export function writeCheckpointFile(file: string, note: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    writeSync(fd, note);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/** The checkpoint in `file`, verified with the log key; undefined when there is no file. */
export function readCheckpointFile(file: string, key: LogKey): Checkpoint | undefined {
  if (!existsSync(file)) return undefined;
  const note = readFileSync(file);
  try {
    return openCheckpoint(note, key.verifier, key.origin);
  } catch (error) {
    throw new AuditError(
      'ERR_AUDIT_STATE_INCONSISTENT',
      `${file} is not a checkpoint of this log signed by its key (${(error as Error).message}); refusing to start: restore the file or the key`,
      { cause: error },
    );
  }
}
