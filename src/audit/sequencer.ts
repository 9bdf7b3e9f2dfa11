import { AsyncLocalStorage } from 'node:async_hooks';
import { BatchQueue, failed, succeeded, type Outcome } from '../batch.js';
import { SQLSTATE, sqlState, type Database, type Tx } from '../db/types.js';
import { encodeEntry, ENTRY_VERSION } from './entry.js';
import { AuditError } from './errors.js';
import { hashLeaf } from './merkle.js';
import { appendEntries, latestLeafOfSubject, lockTree, readSubjects } from './store.js';
import { SubjectFilter } from './subject-filter.js';
import type { Append, AppendedEntry, AuditLog, NewEntry } from './types.js';

export interface GroupCommitOptions {
  db: Database;
  /** The entries' `time`; injectable for tests. */
  clock?: () => Date;
  /** Most callers sharing one transaction, default 256. */
  maxBatch?: number;
  /** Callers allowed to wait; beyond it `record` fails fast with ERR_AUDIT_OVERLOADED. Default 10,000. */
  maxQueue?: number;
  /** Attempts of one caller's `work` on conflicts (40001, 40P01, and 23505 when asked), default 8. */
  maxAttempts?: number;
  /** Subjects whose latest leaf hash is remembered between batches, default 50,000. */
  subjectCacheSize?: number;
  /** Entries read per batch to catch up with what other processes appended, default 100,000. */
  catchUpPerBatch?: number;
  /** Called after each commit that appended entries, with the new tree size. */
  onCommitted?: (size: number) => void;
}

interface Pending {
  work: (tx: Tx, append: Append) => Promise<unknown>;
  retryOnUniqueViolation: boolean;
}

/** What one batch transaction has appended so far (restored when a caller's work fails). */
interface BatchState {
  next: number;
  last: Buffer | null;
  /** Subject → latest leaf hash, as of this batch (null: the subject has no entry yet). */
  heads: Map<string, Buffer | null>;
  /** Subject heads read from the database in this batch, valid at the batch's starting size. */
  looked: Map<string, Buffer | null>;
  rows: string[];
  /** The process knew every entry below the batch's start: its filter and cache are usable. */
  complete: boolean;
}

const MISSING = Symbol('missing');

/**
 * The audit log's write side: `record()` with group commit, sequenced on one row locked FOR UPDATE. Concurrent
 * callers queue; one transaction at a time takes a batch of them: it locks the tree head
 * (`audit_lock_tree`, FOR UPDATE), runs each caller's `work` in turn inside its own SAVEPOINT
 * (taken lazily, before the caller's first statement), so a failing caller rolls back only its
 * own statements and entries, then appends all entries with one `audit_append` call and
 * commits. Every caller settles only after that COMMIT (src/batch.ts settles a batch's callers
 * when its `run` resolves, which is after COMMIT): an entry MUST be acknowledged only once
 * durable. Indexes come from the locked head, so the log has no gaps and never forks, across
 * any number of processes. On PGlite (one connection) the same code runs; batches serialize.
 */
export class GroupCommitLog implements AuditLog {
  readonly #db: Database;
  readonly #clock: () => Date;
  readonly #maxAttempts: number;
  readonly #cacheSize: number;
  readonly #onCommitted: ((size: number) => void) | undefined;
  readonly #batches: BatchQueue<Pending, unknown>;
  readonly #inWork = new AsyncLocalStorage<{ active: boolean }>();
  /**
   * What this process knows of entries [0, #knownSize): every subject (#seen, a filter without
   * false negatives) and the latest leaf hash of recent subjects (#subjects, LRU). Both are
   * usable only while #knownSize equals the locked tree size; each batch first catches up on
   * entries other processes appended. A brand-new subject then costs no database lookup.
   */
  readonly #subjects = new Map<string, Buffer | null>();
  readonly #seen = new SubjectFilter();
  readonly #catchUpPerBatch: number;
  #knownSize = 0;

  constructor(options: GroupCommitOptions) {
    this.#db = options.db;
    this.#clock = options.clock ?? (() => new Date());
    this.#maxAttempts = options.maxAttempts ?? 8;
    this.#cacheSize = options.subjectCacheSize ?? 50_000;
    this.#catchUpPerBatch = options.catchUpPerBatch ?? 100_000;
    this.#onCommitted = options.onCommitted;
    this.#batches = new BatchQueue<Pending, unknown>({
      run: (batch) => this.#runBatch(batch),
      maxBatch: options.maxBatch ?? 256,
      maxWaiting: options.maxQueue ?? 10_000,
      overloaded: (waiting) =>
        new AuditError('ERR_AUDIT_OVERLOADED', `${waiting} appends are waiting; try again shortly`, { detail: { retryAfterSeconds: 1 } }),
      closed: () => new AuditError('ERR_AUDIT_CLOSED', 'the audit log is shutting down'),
    });
  }

  record<T>(work: (tx: Tx, append: Append) => Promise<T>, options: { retryOnUniqueViolation?: boolean } = {}): Promise<T> {
    if (this.#inWork.getStore()?.active === true) {
      return Promise.reject(
        new AuditError(
          'ERR_AUDIT_MISUSE',
          'record() called from inside another record() work: it would wait for itself; use the tx and append you were given',
        ),
      );
    }
    return this.#batches.submit({
      work: work as Pending['work'],
      retryOnUniqueViolation: options.retryOnUniqueViolation === true,
    }) as Promise<T>;
  }

  /** Stops taking new work and waits until everything queued has settled. Idempotent. */
  close(): Promise<void> {
    return this.#batches.close();
  }

  /** One batch: each caller's outcome once the batch committed; a rejection fails the whole batch. */
  async #runBatch(batch: readonly Pending[]): Promise<Array<Outcome<unknown>>> {
    try {
      return await this.#tryBatch(batch);
    } catch (error) {
      if (!isRefusedLink(error)) throw error;
      // The database refused a chain link this process computed: its subject knowledge was
      // wrong. Forget it and run the batch again (work MAY run more than once).
      this.#forget();
      return await this.#tryBatch(batch);
    }
  }

  #forget(): void {
    this.#knownSize = 0;
    this.#subjects.clear();
    this.#seen.clear();
  }

  /** Runs a batch in one transaction: each caller's outcome after COMMIT, or the transaction's error. */
  async #tryBatch(batch: readonly Pending[]): Promise<Array<Outcome<unknown>>> {
    let outcomes: Array<Outcome<unknown>> = [];
    let state: BatchState | undefined;
    let startSize = -1;
    await this.#db.transaction(async (tx) => {
      const head = await lockTree(tx);
      startSize = head.size;
      await this.#catchUp(tx, head.size);
      state = {
        next: head.size,
        last: head.lastLeaf,
        heads: new Map(),
        looked: new Map(),
        rows: [],
        complete: this.#knownSize === head.size,
      };
      outcomes = [];
      let savepoints = 0;
      for (const pending of batch) {
        outcomes.push(await this.#runCaller(tx, pending, state, () => `audit_sp_${savepoints++}`));
      }
      if (state.rows.length > 0) await appendEntries(tx, head.size, state.rows);
    });
    const done = state!;
    if (done.complete && this.#knownSize === startSize) this.#remember(done);
    const onCommitted = this.#onCommitted;
    if (done.rows.length > 0 && onCommitted !== undefined) {
      // Told after COMMIT, before the callers resume; on its own turn, so that a throwing
      // listener cannot turn committed (acknowledgeable) entries into failed calls.
      const size = done.next;
      queueMicrotask(() => onCommitted(size));
    }
    return outcomes;
  }

  /** After a commit: the subject heads seen and written in the batch become known. */
  #remember(state: BatchState): void {
    for (const [subject, leaf] of state.looked) this.#cacheSet(subject, leaf);
    for (const [subject, leaf] of state.heads) {
      this.#cacheSet(subject, leaf);
      this.#seen.add(subject);
    }
    this.#knownSize = state.next;
  }

  /** Reads (a bounded part of) the entries appended since #knownSize, by any process. */
  async #catchUp(tx: Tx, size: number): Promise<void> {
    if (this.#knownSize > size) this.#forget(); // shorter than this process saw: never true of an intact log
    const until = Math.min(size, this.#knownSize + this.#catchUpPerBatch);
    for (let start = this.#knownSize; start < until; start += 10_000) {
      const end = Math.min(until, start + 10_000);
      for (const row of await readSubjects(tx, start, end)) {
        this.#seen.add(row.subject);
        if (this.#subjects.has(row.subject) || end - start < this.#cacheSize) this.#cacheSet(row.subject, row.leafHash);
      }
      this.#knownSize = end;
    }
  }

  #cacheSet(subject: string, leaf: Buffer | null): void {
    this.#subjects.delete(subject);
    this.#subjects.set(subject, leaf);
    if (this.#subjects.size > this.#cacheSize) {
      const oldest = this.#subjects.keys().next().value;
      if (oldest !== undefined) this.#subjects.delete(oldest);
    }
  }

  /** Runs one caller's work (with its conflict retries) inside the batch transaction. */
  async #runCaller(tx: Tx, pending: Pending, state: BatchState, nextSavepoint: () => string): Promise<Outcome<unknown>> {
    for (let attempt = 1; ; attempt++) {
      const mark = { next: state.next, last: state.last, rows: state.rows.length };
      const undo = new Map<string, Buffer | null | typeof MISSING>();
      let savepoint: string | undefined;
      let taking: Promise<void> | undefined;
      const takeSavepoint = (): Promise<void> => {
        taking ??= (async () => {
          savepoint = nextSavepoint();
          await tx.query(`SAVEPOINT ${savepoint}`);
        })();
        return taking;
      };
      const scoped = new CallerTx(tx, takeSavepoint);
      let chain: Promise<unknown> = Promise.resolve();
      const append: Append = (entry) => {
        if (scoped.finished) return Promise.reject(misuse('append() called after the work of its record() settled'));
        const result = chain.then(() => this.#appendOne(tx, state, undo, entry));
        chain = result.catch(() => undefined);
        return result;
      };
      const context = { active: true };
      try {
        const value = await this.#inWork.run(context, () => pending.work(scoped, append));
        context.active = false;
        scoped.finish();
        await chain;
        return succeeded(value);
      } catch (error) {
        context.active = false;
        scoped.finish();
        await chain;
        state.next = mark.next;
        state.last = mark.last;
        state.rows.length = mark.rows;
        for (const [subject, before] of undo) {
          if (before === MISSING) state.heads.delete(subject);
          else state.heads.set(subject, before);
        }
        if (taking !== undefined) {
          await taking.catch(() => undefined);
          if (savepoint !== undefined) await tx.query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
        }
        if (attempt < this.#maxAttempts && isConflict(error, pending.retryOnUniqueViolation)) {
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
          continue;
        }
        return failed(error);
      }
    }
  }

  async #appendOne(tx: Tx, state: BatchState, undo: Map<string, Buffer | null | typeof MISSING>, entry: NewEntry): Promise<AppendedEntry> {
    if (typeof entry !== 'object' || entry === null) throw new AuditError('ERR_AUDIT_ENTRY_INVALID', 'an entry must be an object');
    const subject = entry.subject;
    let subjectPrev: Buffer | null;
    if (state.heads.has(subject)) {
      subjectPrev = state.heads.get(subject)!;
    } else if (state.looked.has(subject)) {
      subjectPrev = state.looked.get(subject)!;
    } else if (state.complete && typeof subject === 'string' && this.#subjects.has(subject)) {
      subjectPrev = this.#subjects.get(subject)!;
    } else if (state.complete && typeof subject === 'string' && !this.#seen.mightContain(subject)) {
      subjectPrev = null;
    } else {
      subjectPrev = typeof subject === 'string' ? await latestLeafOfSubject(tx, subject) : null;
      state.looked.set(subject, subjectPrev);
    }
    const seq = state.next;
    const time = this.#clock().toISOString();
    const bytes = encodeEntry({
      v: ENTRY_VERSION,
      seq,
      time,
      kind: entry.kind,
      actor: entry.actor,
      subject,
      data: entry.data,
      prev: state.last === null ? null : state.last.toString('hex'),
      subjectPrev: subjectPrev === null ? null : subjectPrev.toString('hex'),
    });
    const leafHash = hashLeaf(bytes);
    if (!undo.has(subject)) undo.set(subject, state.heads.has(subject) ? state.heads.get(subject)! : MISSING);
    state.heads.set(subject, leafHash);
    state.last = leafHash;
    state.next = seq + 1;
    state.rows.push(bytes.toString('utf8'));
    return { index: seq, leafHash: leafHash.toString('hex'), time };
  }
}

function isConflict(error: unknown, uniqueToo: boolean): boolean {
  const state = sqlState(error);
  if (state === SQLSTATE.serializationFailure || state === SQLSTATE.deadlockDetected) return true;
  return uniqueToo && state === SQLSTATE.uniqueViolation;
}

/** audit_append refused what it was given (a wrong prev or subjectPrev). */
function isRefusedLink(error: unknown): boolean {
  return error instanceof Error && sqlState(error) === 'P0001' && error.message.startsWith('audit_append:');
}

function misuse(message: string): AuditError {
  return new AuditError('ERR_AUDIT_MISUSE', message);
}

/**
 * The transaction a caller's work sees: the batch transaction behind a savepoint taken before
 * its first statement, unusable once its work has settled.
 */
class CallerTx implements Tx {
  #finished = false;

  constructor(
    private readonly tx: Tx,
    private readonly beforeFirstStatement: () => Promise<void>,
  ) {}

  get finished(): boolean {
    return this.#finished;
  }

  finish(): void {
    this.#finished = true;
  }

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }> {
    this.#check();
    await this.beforeFirstStatement();
    return this.tx.query<R>(sql, params);
  }

  async execScript(sql: string): Promise<void> {
    this.#check();
    await this.beforeFirstStatement();
    await this.tx.execScript(sql);
  }

  #check(): void {
    if (this.#finished) throw misuse('the tx of a record() work was used after that work settled');
  }
}
