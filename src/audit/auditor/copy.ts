import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AuditError } from '../errors.js';

/**
 * The auditor's local copy of a log, as `chancery audit fetch` writes it and `audit verify
 * --dir` streams it:
 *
 *   DIR/copy.json                    {"format":"chancery-audit-copy/1","chunkSize":4096,"url":…}
 *   DIR/checkpoint                   the latest checkpoint fetched (a signed note, as served)
 *   DIR/checkpoints/<size>.note      every checkpoint fetch has seen
 *   DIR/entries/<chunk>.jsonl        entries in order, CHUNK_SIZE lines per file (the last may
 *                                    be shorter); <chunk> is the chunk number, 10 digits
 *
 * Each line is a JSON array `[index,"<leaf hash hex>",<entry>]` followed by \n: the index and
 * leaf hash are what the server claimed, `<entry>` the entry's exact bytes as served (RFC 8785
 * JSON, which never holds a raw newline). Entry bytes that would break the line (a newline,
 * which no canonical entry has) are written as a JSON string instead. The verifier slices the
 * entry bytes out of the line and never re-serializes them, so one JSON.parse per entry.
 */
export const COPY_FORMAT = 'chancery-audit-copy/1';
export const CHUNK_SIZE = 4096;
const LINE_HEAD = /^\[(0|[1-9][0-9]{0,15}),"([0-9a-f]{64})",/;

export interface CopyManifest {
  format: string;
  chunkSize: number;
  url?: string;
}

export interface CopiedEntry {
  /** The index the server gave this entry. */
  index: number;
  /** The leaf hash the server claimed. */
  leafHash: Buffer;
  /** The entry's bytes as served. */
  bytes: Buffer;
}

export function chunkPath(dir: string, chunk: number): string {
  return join(dir, 'entries', `${String(chunk).padStart(10, '0')}.jsonl`);
}

export function readManifest(dir: string): CopyManifest {
  const file = join(dir, 'copy.json');
  if (!existsSync(file))
    throw new AuditError('ERR_AUDIT_FETCH_FAILED', `${dir} is not a log copy made by \`chancery audit fetch\` (no copy.json)`);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as CopyManifest;
  if (manifest.format !== COPY_FORMAT || !Number.isSafeInteger(manifest.chunkSize) || manifest.chunkSize < 1) {
    throw new AuditError('ERR_AUDIT_FETCH_FAILED', `${file}: unknown format ${String(manifest.format)}`);
  }
  return manifest;
}

export function initCopy(dir: string, url: string): CopyManifest {
  mkdirSync(join(dir, 'entries'), { recursive: true });
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  if (existsSync(join(dir, 'copy.json'))) return readManifest(dir);
  const manifest: CopyManifest = { format: COPY_FORMAT, chunkSize: CHUNK_SIZE, url };
  writeAtomically(join(dir, 'copy.json'), `${JSON.stringify(manifest)}\n`);
  return manifest;
}

/** Chunk files present, in order (chunk numbers must run 0, 1, 2, … without a hole). */
export function listChunks(dir: string): number[] {
  const entriesDir = join(dir, 'entries');
  if (!existsSync(entriesDir)) return [];
  const chunks = readdirSync(entriesDir)
    .filter((f) => /^\d{10}\.jsonl$/.test(f))
    .map((f) => Number(f.slice(0, 10)))
    .sort((a, b) => a - b);
  chunks.forEach((c, i) => {
    if (c !== i) throw new AuditError('ERR_AUDIT_FETCH_FAILED', `${entriesDir}: chunk ${i} is missing`);
  });
  return chunks;
}

export function formatLine(index: number, leafHash: string, bytes: Buffer): Buffer {
  const safe = !bytes.includes(0x0a) && !bytes.includes(0x0d);
  const entry = safe ? bytes : Buffer.from(JSON.stringify(bytes.toString('utf8')), 'utf8');
  return Buffer.concat([Buffer.from(`[${index},"${leafHash}",`, 'utf8'), entry, Buffer.from(']\n', 'utf8')]);
}

/**
 * Splits a chunk into entries. A line that is not `[index,"hash",…]` yields `undefined` in its
 * place, so the verifier can name its position as malformed.
 */
export function parseChunk(data: Buffer): Array<CopiedEntry | undefined> {
  return [...chunkEntries(data)];
}

/** The same, one line at a time: nothing outlives the entry being checked (no heap growth). */
export function* chunkEntries(data: Buffer): Generator<CopiedEntry | undefined> {
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length;
    yield parseLine(data.subarray(start, end));
    start = end + 1;
  }
}

function parseLine(line: Buffer): CopiedEntry | undefined {
  const head = LINE_HEAD.exec(line.subarray(0, 100).toString('latin1'));
  if (head === null || line[line.length - 1] !== 0x5d) return undefined;
  let bytes = line.subarray(head[0].length, line.length - 1);
  if (bytes[0] === 0x22) {
    try {
      bytes = Buffer.from(JSON.parse(bytes.toString('utf8')) as string, 'utf8');
    } catch {
      return undefined;
    }
  }
  return { index: Number(head[1]), leafHash: Buffer.from(head[2]!, 'hex'), bytes };
}

export function writeAtomically(path: string, content: string | Buffer): void {
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/**
 * Appends entries to a copy: full chunks are written once, the last partial chunk is rewritten
 * (atomically) on each `flush`, so an interrupted fetch leaves whole lines only.
 */
export class CopyWriter {
  #chunk: number;
  #lines: Buffer[];
  #count: number;

  /** Continues after the `count` lines already in the copy; `partial` holds the last chunk's lines. */
  constructor(
    private readonly dir: string,
    private readonly chunkSize: number,
    count = 0,
    partial: Buffer[] = [],
  ) {
    this.#count = count;
    this.#chunk = Math.floor(count / chunkSize);
    this.#lines = partial;
  }

  get count(): number {
    return this.#count;
  }

  add(index: number, leafHashHex: string, bytes: Buffer): void {
    this.#lines.push(formatLine(index, leafHashHex, bytes));
    this.#count++;
    if (this.#lines.length === this.chunkSize) {
      writeAtomically(chunkPath(this.dir, this.#chunk), Buffer.concat(this.#lines));
      this.#chunk++;
      this.#lines = [];
    }
  }

  flush(): void {
    if (this.#lines.length > 0) writeAtomically(chunkPath(this.dir, this.#chunk), Buffer.concat(this.#lines));
  }
}

/** Writes a checkpoint into a copy: the latest, and into the history. */
export function writeCopyCheckpoint(dir: string, size: number, note: Buffer | string): void {
  writeAtomically(join(dir, 'checkpoints', `${size}.note`), note);
  writeAtomically(join(dir, 'checkpoint'), note);
}
