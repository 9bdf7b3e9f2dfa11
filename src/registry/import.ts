import { bindRows } from '../audit/binding.js';
import type { AppendedEntry, AuditLog } from '../audit/types.js';
import type { Queryable } from '../db/types.js';
import { RegistryError, type RegistryErrorCode } from './errors.js';
import { parseName } from './fields.js';
import { insertEnterprisesBulk, selectExistingUsccs, type BulkEnterprise } from './store.js';
import { ENTERPRISE_STATUSES, type EnterpriseStatus } from './types.js';
import { parseUscc } from './uscc.js';

/**
 * Bulk import of an existing registry: CSV (a header naming the columns) or JSON Lines, one
 * enterprise per line, with the fields
 *
 *   uscc       the USCC, check characters verified (GB 32100-2015 and GB 11714)
 *   name       registered name, 1–200 characters
 *   division   optional; when given it MUST equal the USCC's positions 3–8
 *   status     active (default) | revoked | deregistered
 *   revokedAt  RFC 3339 time of the revocation or deregistration (required unless active)
 *   reason     optional reason of the revocation or deregistration (empty for active)
 *
 * Atomicity is per batch: the lines are read in batches of `batchSize` lines; a batch commits
 * in ONE transaction (its enterprises and their audit entries, through the audit log's group
 * commit) or not at all. The first batch holding a bad line is not committed and the import
 * stops there: the report names every bad line of that batch, `committedThroughLine` (every
 * record up to it is in) and `resumeFromLine` (the first line of the refused batch: fix the file
 * and run again with `fromLine`). Lines before `fromLine` are counted, not parsed. `checkOnly`
 * reads the whole file, reports every bad line (including USCCs the database already holds)
 * and writes nothing.
 *
 * Every imported enterprise gets the `enterprise.registered` entry a registration writes, and a
 * revoked or deregistered one also its `enterprise.revoked` / `enterprise.deregistered` entry,
 * so the log proves the registry's history as if each had been registered one by one.
 *
 * Duplicates are found within a batch (naming both lines) and against the database, which
 * includes the earlier batches of the same file. Nothing here buffers more than one batch:
 * lines longer than `maxLineBytes` and input beyond `maxBytes` are refused as they arrive, and
 * stop the import at once (the rest of their batch is not read).
 */

export type ImportFormat = 'csv' | 'jsonl';

export const IMPORT_COLUMNS = ['uscc', 'name', 'division', 'status', 'revokedAt', 'reason'] as const;
type Column = (typeof IMPORT_COLUMNS)[number];

export const DEFAULT_IMPORT_BATCH = 5000;
export const DEFAULT_MAX_LINE_BYTES = 4096;

export interface ImportOptions {
  format: ImportFormat;
  /** Records on lines before this one are skipped (resuming); default 1. */
  fromLine?: number;
  /** The number of the input's first line (an input that is a later part of a file); default 1. */
  firstLine?: number;
  /** Lines per transaction, default 5000. */
  batchSize?: number;
  /** Longest line accepted in bytes, default 4096. */
  maxLineBytes?: number;
  /** Most input bytes read; beyond it the import stops with ERR_REGISTRY_IMPORT_TOO_LARGE. */
  maxBytes?: number;
  /** Validate everything (and look up duplicates in the database) but write nothing. */
  checkOnly?: boolean;
  /** Most bad lines listed in the report, default 100. */
  maxErrors?: number;
  /** Called after each batch (committed or checked). */
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  /** Bytes of the input up to the end of the last line handled. */
  bytes: number;
  lines: number;
  imported: number;
}

export interface ImportLineError {
  line: number;
  code: RegistryErrorCode;
  message: string;
  uscc?: string;
}

export interface ImportReport {
  format: ImportFormat;
  /** True when every line was read and (unless checkOnly) imported. */
  complete: boolean;
  checkOnly: boolean;
  /** Enterprises committed by this run (0 with checkOnly). */
  imported: number;
  /** Of them: imported as revoked and as deregistered. */
  revoked: number;
  deregistered: number;
  /** Records read and valid (with checkOnly: that would be imported). */
  valid: number;
  /** Last line number read. */
  lines: number;
  bytes: number;
  batches: number;
  /** Every record up to this line (from `fromLine` on) is committed; null before the first batch. */
  committedThroughLine: number | null;
  /** Where to resume after fixing the file (the first line of the refused batch), null when complete. */
  resumeFromLine: number | null;
  errors: ImportLineError[];
  /** More bad lines existed than `maxErrors` listed. */
  errorsTruncated: boolean;
  /** Set when the import stopped because the input was too large (the line where it was crossed). */
  tooLargeAtLine: number | null;
  elapsedMs: number;
  perSecond: number;
}

export interface ImportDeps {
  db: Queryable;
  audit: AuditLog;
  now: () => Date;
}

interface ImportRecord {
  line: number;
  e: BulkEnterprise;
}

/** A raw line from the splitter: its bytes, or why it has none. */
type RawLine = { line: number; bytes: Buffer } | { line: number; tooLong: true } | { line: number; tooLarge: true };

/**
 * Splits a byte stream into lines (LF, optional CR before it) without holding more than one line:
 * a line past `maxLineBytes` is skipped to its end and reported; past `maxBytes` the stream is
 * no longer read. A last line without LF counts as a line.
 */
async function* splitLines(
  source: AsyncIterable<Uint8Array>,
  firstLine: number,
  maxLineBytes: number,
  maxBytes: number,
  counter: { bytes: number; consumed: number },
): AsyncGenerator<RawLine> {
  let line = firstLine;
  let parts: Buffer[] = [];
  let partLength = 0;
  // Past maxLineBytes: reported at once, then the rest of the line is skipped unread.
  let skipping = false;
  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (counter.bytes + buf.length > maxBytes) {
      yield { line, tooLarge: true };
      return;
    }
    counter.bytes += buf.length;
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(10, start);
      const end = nl < 0 ? buf.length : nl;
      counter.consumed += (nl < 0 ? end : nl + 1) - start;
      if (!skipping) {
        if (partLength + (end - start) > maxLineBytes + 1) {
          skipping = true;
          parts = [];
          partLength = 0;
          yield { line, tooLong: true };
        } else if (end > start) {
          parts.push(buf.subarray(start, end));
          partLength += end - start;
        }
      }
      if (nl < 0) break;
      if (skipping) {
        skipping = false;
        line++;
      } else {
        yield finish();
      }
      start = nl + 1;
    }
  }
  if (!skipping && partLength > 0) yield finish();

  function finish(): RawLine {
    const n = line++;
    let bytes = parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts, partLength); // a copy: a held line must not pin its chunk
    parts = [];
    partLength = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length > maxLineBytes) return { line: n, tooLong: true };
    return { line: n, bytes };
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

class LineError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly uscc?: string,
  ) {
    super(message);
  }
}

/** Splits one CSV line (RFC 4180 quoting, no line breaks inside a field) into its fields. */
export function splitCsvLine(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0)
          throw new LineError('ERR_REGISTRY_IMPORT_LINE_MALFORMED', 'a quoted field is not closed: the line is truncated or malformed');
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text[i] !== ',')
        throw new LineError('ERR_REGISTRY_IMPORT_LINE_MALFORMED', `unexpected character after a quoted field at column ${i + 1}`);
      i++;
    } else {
      const c = text.indexOf(',', i);
      if (c < 0) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, c));
      i = c + 1;
    }
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Builds one record from its fields (strings or absent), with the registry's own checks. */
function toRecord(fields: Partial<Record<Column, unknown>>, now: Date): BulkEnterprise {
  const code = fields.uscc;
  let uscc;
  try {
    uscc = parseUscc(typeof code === 'string' ? code.trim() : code);
  } catch (error) {
    if (error instanceof RegistryError) throw new LineError(error.code, error.message, typeof code === 'string' ? code : undefined);
    throw error;
  }
  const fail = (message: string): never => {
    throw new LineError('ERR_REGISTRY_INVALID', message, uscc.code);
  };
  const text = (column: Column): string | undefined => {
    const value = fields[column];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') return fail(`${column} must be a string`);
    return value;
  };
  let name: string;
  try {
    name = parseName(fields.name, 'name');
  } catch (error) {
    return fail((error as Error).message);
  }
  const division = text('division')?.trim();
  if (division !== undefined && division !== uscc.division) {
    fail(`division ${division} is not the USCC's division (positions 3–8: ${uscc.division})`);
  }
  const status = (text('status')?.trim() ?? 'active') as EnterpriseStatus;
  if (!ENTERPRISE_STATUSES.includes(status)) fail(`status must be one of ${ENTERPRISE_STATUSES.join(', ')}`);
  const revokedAtText = text('revokedAt')?.trim();
  const reasonText = text('reason');
  if (status === 'active') {
    if (revokedAtText !== undefined || reasonText !== undefined) fail('an active enterprise has no revokedAt or reason');
    return { uscc: uscc.code, name, division: uscc.division, status, statusChangedAt: null, statusReason: null };
  }
  if (revokedAtText === undefined) return fail(`a ${status} enterprise needs revokedAt (RFC 3339)`);
  const at = RFC3339.test(revokedAtText) ? new Date(revokedAtText) : new Date(NaN);
  if (Number.isNaN(at.getTime())) fail(`revokedAt ${JSON.stringify(revokedAtText)} is not an RFC 3339 time with a time zone`);
  if (at.getTime() > now.getTime()) fail(`revokedAt ${revokedAtText} is in the future`);
  let reason: string;
  try {
    reason =
      reasonText === undefined
        ? status === 'revoked'
          ? 'licence revoked'
          : 'deregistered at its own request'
        : parseName(reasonText, 'reason', 500);
  } catch (error) {
    return fail((error as Error).message);
  }
  return { uscc: uscc.code, name, division: uscc.division, status, statusChangedAt: at.toISOString(), statusReason: reason };
}

/** Reads the CSV header: the column of each known name; uscc and name are required. */
function parseHeader(text: string): Column[] {
  const names = splitCsvLine(text).map((n) => n.trim());
  const seen = new Set<string>();
  for (const n of names) {
    if (!(IMPORT_COLUMNS as readonly string[]).includes(n)) {
      throw new LineError(
        'ERR_REGISTRY_IMPORT_LINE_MALFORMED',
        `the header names an unknown column "${n}"; columns are ${IMPORT_COLUMNS.join(', ')}`,
      );
    }
    if (seen.has(n)) throw new LineError('ERR_REGISTRY_IMPORT_LINE_MALFORMED', `the header names column "${n}" twice`);
    seen.add(n);
  }
  if (!seen.has('uscc') || !seen.has('name')) {
    throw new LineError(
      'ERR_REGISTRY_IMPORT_LINE_MALFORMED',
      `the header must name at least uscc and name (columns: ${IMPORT_COLUMNS.join(', ')})`,
    );
  }
  return names as Column[];
}

/**
 * Imports enterprises from `source` (bytes), batch by batch; see the module comment for what is
 * committed when. Bad input never throws: it is in the report. Database faults do throw (the
 * batch in flight rolled back; the report of what committed is lost, the log and table say).
 */
export async function importEnterprises(
  deps: ImportDeps,
  source: AsyncIterable<Uint8Array>,
  options: ImportOptions,
  actor: string,
): Promise<ImportReport> {
  const started = Date.now();
  const batchSize = options.batchSize ?? DEFAULT_IMPORT_BATCH;
  const fromLine = options.fromLine ?? 1;
  const maxErrors = options.maxErrors ?? 100;
  const checkOnly = options.checkOnly === true;
  const counter = { bytes: 0, consumed: 0 };
  const report: ImportReport = {
    format: options.format,
    complete: false,
    checkOnly,
    imported: 0,
    revoked: 0,
    deregistered: 0,
    valid: 0,
    lines: 0,
    bytes: 0,
    batches: 0,
    committedThroughLine: null,
    resumeFromLine: null,
    errors: [],
    errorsTruncated: false,
    tooLargeAtLine: null,
    elapsedMs: 0,
    perSecond: 0,
  };
  const addError = (error: ImportLineError): void => {
    if (report.errors.length < maxErrors) report.errors.push(error);
    else report.errorsTruncated = true;
  };

  let header: Column[] | undefined = options.format === 'csv' ? undefined : [];
  let batch: ImportRecord[] = [];
  let batchErrors = 0;
  let batchFirstLine: number | undefined;
  // What was found wrong in the batch being read: reported when that batch is flushed, so that
  // lines read after a batch that turns out to fail (see inFlight) leave no trace in the report.
  let heldErrors: ImportLineError[] = [];
  let heldTooLargeAt: number | null = null;
  let stopped = false;
  // Where the batch that stopped the import ended (the report's lines and bytes).
  let stoppedAt: { lines: number; bytes: number } | undefined;
  // The commit of the previous batch, still running while the next batch is read and parsed:
  // the database commits one batch while this process prepares the next. A batch is committed
  // only after the one before it has (flush waits for it), so batches still commit in order and
  // the first failing one stops the import as before.
  let inFlight: Promise<void> | undefined;
  const settle = async (): Promise<void> => {
    const pending = inFlight;
    inFlight = undefined;
    if (pending !== undefined) await pending;
  };

  const flush = async (lastLine: number): Promise<void> => {
    await settle();
    const held = heldErrors;
    heldErrors = [];
    const tooLargeAt = heldTooLargeAt;
    heldTooLargeAt = null;
    if (stopped || batchFirstLine === undefined) {
      batch = [];
      batchFirstLine = undefined;
      batchErrors = 0;
      return;
    }
    for (const error of held) addError(error);
    if (tooLargeAt !== null) report.tooLargeAtLine = tooLargeAt;
    const records = batch;
    const first = batchFirstLine;
    batch = [];
    batchFirstLine = undefined;
    let bad = batchErrors;
    batchErrors = 0;
    const readBytes = counter.bytes;
    const consumed = counter.consumed;
    // Duplicates inside the batch name both lines; the first occurrence stays.
    const byUscc = new Map<string, number>();
    const unique: ImportRecord[] = [];
    for (const r of records) {
      const earlier = byUscc.get(r.e.uscc);
      if (earlier !== undefined) {
        addError({
          line: r.line,
          code: 'ERR_REGISTRY_IMPORT_DUPLICATE',
          message: `USCC ${r.e.uscc} is also on line ${earlier}`,
          uscc: r.e.uscc,
        });
        bad++;
      } else {
        byUscc.set(r.e.uscc, r.line);
        unique.push(r);
      }
    }
    const reportExisting = async (): Promise<number> => {
      const existing = await selectExistingUsccs(
        deps.db,
        unique.map((r) => r.e.uscc),
      );
      for (const r of unique) {
        if (existing.has(r.e.uscc)) {
          addError({
            line: r.line,
            code: 'ERR_REGISTRY_ENTERPRISE_EXISTS',
            message: `enterprise ${r.e.uscc} is already registered (in the database or an earlier batch of this input)`,
            uscc: r.e.uscc,
          });
        }
      }
      return existing.size;
    };
    const finish = (): void => {
      if (bad > 0 && !checkOnly) {
        report.resumeFromLine = first;
        stopped = true;
        stoppedAt = { lines: lastLine, bytes: readBytes };
      }
      options.onProgress?.({ bytes: consumed, lines: lastLine, imported: report.imported });
    };
    report.batches++;
    if (bad > 0 || checkOnly) {
      const existing = await reportExisting();
      bad += existing;
      if (checkOnly) report.valid += unique.length - existing;
      finish();
      return;
    }
    const committing = commitBatch(deps, unique, actor).then(async (conflict) => {
      if (conflict) {
        // Another writer registered one of them between the batch's read and its insert.
        if ((await reportExisting()) === 0) {
          addError({
            line: first,
            code: 'ERR_REGISTRY_ENTERPRISE_EXISTS',
            message: 'an enterprise of this batch was registered meanwhile',
          });
        }
        bad++;
      } else {
        report.imported += unique.length;
        report.valid += unique.length;
        for (const r of unique) {
          if (r.e.status === 'revoked') report.revoked++;
          else if (r.e.status === 'deregistered') report.deregistered++;
        }
        report.committedThroughLine = lastLine;
      }
      finish();
    });
    committing.catch(() => undefined); // awaited (and its fault thrown) by the next flush or at the end
    inFlight = committing;
  };

  let lastLine = (options.firstLine ?? 1) - 1;
  const lines = splitLines(
    source,
    options.firstLine ?? 1,
    options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    options.maxBytes ?? Infinity,
    counter,
  );
  try {
    for await (const raw of lines) {
      lastLine = raw.line;
      if ('tooLarge' in raw) {
        heldTooLargeAt = raw.line;
        heldErrors.push({
          line: raw.line,
          code: 'ERR_REGISTRY_IMPORT_TOO_LARGE',
          message: `the input is larger than the limit of ${options.maxBytes} bytes (crossed on line ${raw.line})`,
        });
        if (batchFirstLine === undefined) batchFirstLine = raw.line;
        batchErrors++;
        lastLine = raw.line - 1;
        break;
      }
      const isHeader = header === undefined;
      if (!isHeader && raw.line < fromLine) continue;
      const fail = (code: RegistryErrorCode, message: string, uscc?: string): void => {
        heldErrors.push({ line: raw.line, code, message, ...(uscc === undefined ? {} : { uscc }) });
        batchFirstLine ??= raw.line;
        batchErrors++;
      };
      if ('tooLong' in raw) {
        fail('ERR_REGISTRY_IMPORT_LINE_TOO_LONG', `the line is longer than ${options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES} bytes`);
        // Not worth reading the rest of a line that long (it may be a whole file without line breaks).
        if (isHeader || !checkOnly) {
          lastLine = raw.line;
          break;
        }
      } else {
        let text: string;
        try {
          text = utf8.decode(raw.bytes);
        } catch {
          fail('ERR_REGISTRY_IMPORT_ENCODING', 'the line is not UTF-8');
          if (isHeader) break;
          text = '';
        }
        // A blank line is skipped; a line that failed decoding is already reported.
        if (text.trim() !== '') {
          try {
            if (isHeader) {
              header = parseHeader(text.replace(/^\uFEFF/, ''));
              continue;
            }
            const fields = options.format === 'csv' ? csvFields(text, header!) : jsonFields(text);
            batchFirstLine ??= raw.line;
            batch.push({ line: raw.line, e: toRecord(fields, deps.now()) });
          } catch (error) {
            if (!(error instanceof LineError)) throw error;
            fail(error.code, error.message, error.uscc);
            if (isHeader) break;
          }
        }
      }
      if (batchFirstLine !== undefined && raw.line - batchFirstLine + 1 >= batchSize) {
        await flush(raw.line);
        if (stopped) break;
      }
    }
    if (!stopped) await flush(lastLine);
    await settle();
  } finally {
    await inFlight?.catch(() => undefined);
    await lines.return(undefined);
  }
  if (header === undefined && report.errors.length === 0) {
    addError({
      line: options.firstLine ?? 1,
      code: 'ERR_REGISTRY_IMPORT_LINE_MALFORMED',
      message: 'the CSV input is empty: it has no header line',
    });
  }
  report.errors.sort((a, b) => a.line - b.line);
  report.lines = stoppedAt?.lines ?? lastLine;
  report.bytes = stoppedAt?.bytes ?? counter.bytes;
  report.complete = report.errors.length === 0 && report.tooLargeAtLine === null;
  if (!report.complete && report.resumeFromLine === null && !checkOnly) report.resumeFromLine = report.errors[0]?.line ?? null;
  report.elapsedMs = Date.now() - started;
  report.perSecond = report.elapsedMs > 0 ? Math.round((report.imported * 1000) / report.elapsedMs) : 0;
  return report;
}

function csvFields(text: string, header: readonly Column[]): Partial<Record<Column, string>> {
  const values = splitCsvLine(text);
  if (values.length !== header.length) {
    throw new LineError(
      'ERR_REGISTRY_IMPORT_LINE_MALFORMED',
      `the line has ${values.length} field${values.length === 1 ? '' : 's'}, the header ${header.length}: it is truncated or malformed`,
    );
  }
  const out: Partial<Record<Column, string>> = {};
  header.forEach((column, i) => {
    out[column] = values[i]!;
  });
  return out;
}

function jsonFields(text: string): Partial<Record<Column, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LineError('ERR_REGISTRY_IMPORT_LINE_MALFORMED', `the line is not JSON (truncated or malformed): ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LineError('ERR_REGISTRY_IMPORT_LINE_MALFORMED', 'the line is not a JSON object');
  }
  for (const key of Object.keys(value)) {
    if (!(IMPORT_COLUMNS as readonly string[]).includes(key)) {
      throw new LineError('ERR_REGISTRY_IMPORT_LINE_MALFORMED', `unknown member "${key}"; members are ${IMPORT_COLUMNS.join(', ')}`);
    }
  }
  return value as Partial<Record<Column, unknown>>;
}

/**
 * One batch in one transaction: a multi-row INSERT, then the entries a registration (and a
 * revocation or deregistration) would have written, appended together by the group commit.
 * True when a USCC was already there (nothing of the batch committed).
 */
async function commitBatch(deps: ImportDeps, records: readonly ImportRecord[], actor: string): Promise<boolean> {
  if (records.length === 0) return false;
  const registeredAt = deps.now().toISOString();
  try {
    await deps.audit.record(async (tx, append) => {
      // The INSERT runs in the database while this process encodes and hashes the entries: the
      // appends are made in slices with a turn of the event loop between them, so that the
      // INSERT (sent once its savepoint is taken) is on its way before most of them are made.
      const inserting = insertEnterprisesBulk(
        tx,
        records.map((r) => r.e),
        registeredAt,
      );
      inserting.catch(() => undefined); // awaited below, after the appends
      // Each enterprise's row is bound to its latest entry (the status entry, when there is one).
      const latest: Array<Promise<{ subject: string; entry: AppendedEntry }>> = [];
      for (let start = 0; start < records.length; start += APPEND_SLICE) {
        if (start > 0) await new Promise((resolve) => setImmediate(resolve));
        for (const { e } of records.slice(start, start + APPEND_SLICE)) {
          const subject = `enterprise:${e.uscc}`;
          const registered = append({
            kind: 'enterprise.registered',
            actor,
            subject,
            data: { uscc: e.uscc, name: e.name, division: e.division, checkOverridden: false },
          });
          const last =
            e.status === 'active'
              ? registered
              : append({
                  kind: e.status === 'revoked' ? 'enterprise.revoked' : 'enterprise.deregistered',
                  actor,
                  subject,
                  data: { uscc: e.uscc, reason: e.statusReason, certificatesRevoked: 0 },
                });
          latest.push(Promise.all([registered, last]).then(([, entry]) => ({ subject, entry })));
        }
      }
      const bound = Promise.all(latest);
      bound.catch(() => undefined); // awaited below unless the INSERT failed
      const inserted = await inserting;
      if (inserted !== records.length) throw new ImportConflict();
      await bindRows(tx, await bound);
    });
    return false;
  } catch (error) {
    if (error instanceof ImportConflict) return true;
    throw error;
  }
}

class ImportConflict extends Error {}

/** Appends made between two turns of the event loop while the batch's INSERT runs. */
const APPEND_SLICE = 500;
