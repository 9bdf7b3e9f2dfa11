import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCheckpoint } from '../checkpoint.js';
import { AuditError } from '../errors.js';
import { parseNote } from '../note.js';
import type { LogClient } from './client.js';
import { chunkPath, CopyWriter, initCopy, listChunks, parseChunk, writeCopyCheckpoint } from './copy.js';

export interface FetchResult {
  /** Size of the checkpoint fetched (what the copy now covers). */
  checkpointSize: number;
  /** Entries in the copy. */
  entries: number;
  /** Entries downloaded by this run. */
  downloaded: number;
}

/**
 * `chancery audit fetch`: downloads the log's latest checkpoint and the entries it covers into a
 * local copy (copy.ts), resuming where an earlier run stopped. It checks nothing (that is
 * `audit verify`); it writes the checkpoint last, so a copy never claims more than it holds.
 */
export async function fetchLog(client: LogClient, dir: string, onProgress?: (done: number, total: number) => void): Promise<FetchResult> {
  const manifest = initCopy(dir, client.url);
  const note = await client.checkpoint();
  let size: number;
  try {
    size = parseCheckpoint(parseNote(note).text).size;
  } catch (error) {
    throw new AuditError('ERR_AUDIT_FETCH_FAILED', `the log's checkpoint is malformed: ${(error as Error).message}`, { cause: error });
  }

  // Where the copy stands: complete chunks, then the lines of the last (partial) one.
  const chunks = listChunks(dir);
  let next = 0;
  let writer = new CopyWriter(dir, manifest.chunkSize);
  if (chunks.length > 0) {
    const lastChunk = chunks.length - 1;
    const data = readFileSync(chunkPath(dir, lastChunk));
    const parsed = parseChunk(data);
    const last = parsed[parsed.length - 1];
    if (parsed.length > 0 && last === undefined) {
      throw new AuditError('ERR_AUDIT_FETCH_FAILED', `${chunkPath(dir, lastChunk)} is damaged; fetch into a new directory`);
    }
    next = last === undefined ? 0 : last.index + 1;
    const count = lastChunk * manifest.chunkSize + parsed.length;
    writer = new CopyWriter(dir, manifest.chunkSize, count, parsed.length >= manifest.chunkSize ? [] : splitLines(data));
  }

  let downloaded = 0;
  const page = (start: number) => client.entries(start, Math.min(size, start + 1000));
  let pending = next < size ? page(next) : undefined;
  while (pending !== undefined) {
    const got = await pending;
    const after = got.entries.length > 0 ? got.entries[got.entries.length - 1]!.index + 1 : got.end;
    next = Math.max(after, next + 1);
    pending = next < size ? page(next) : undefined;
    for (const e of got.entries) writer.add(e.index, e.leafHash, Buffer.from(e.entry, 'utf8'));
    writer.flush();
    downloaded += got.entries.length;
    onProgress?.(Math.min(next, size), size);
  }

  writeCopyCheckpoint(dir, size, note);
  return { checkpointSize: size, entries: writer.count, downloaded };
}

function splitLines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0x0a, start);
    if (end < 0) end = data.length - 1;
    out.push(data.subarray(start, end + 1));
    start = end + 1;
  }
  return out;
}

/** The checkpoint a copy holds, or undefined before the first complete fetch. */
export function copyCheckpoint(dir: string): Buffer | undefined {
  const file = join(dir, 'checkpoint');
  return existsSync(file) ? readFileSync(file) : undefined;
}
