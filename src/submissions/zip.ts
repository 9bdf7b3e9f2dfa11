import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SubmissionError } from './errors.js';

/**
 * A small ZIP writer and a bounded, strict ZIP reader (PKWARE APPNOTE 6.3: local file headers,
 * central directory, end of central directory; no ZIP64, encryption, data descriptors or
 * multi-disk archives), enough for ASiC containers (ETSI EN 319 162-1). The reader treats the
 * archive as hostile: it bounds the entry count, the archive size, every entry's and the total
 * decompressed size, and refuses path traversal, duplicate names, overlapping entries, a central
 * directory that disagrees with the local headers, bad CRCs and truncation, each with a sentence.
 */

export interface ZipEntryInput {
  name: string;
  data: Uint8Array;
  /** Store without compression (ASiC's `mimetype` must be stored). Default: deflate. */
  store?: boolean;
}

export interface ZipEntry {
  name: string;
  data: Buffer;
  /** 0 stored, 8 deflated. */
  method: number;
  /** Bytes of the extra field in the local header (ASiC's `mimetype` must have none). */
  localExtraLength: number;
}

export interface ZipLimits {
  maxArchiveBytes: number;
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxArchiveBytes: 48 * 1024 * 1024,
  maxEntries: 256,
  maxEntryBytes: 8 * 1024 * 1024,
  maxTotalBytes: 32 * 1024 * 1024,
};

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const UTF8_FLAG = 0x0800;
/** 1980-01-01 00:00 in MS-DOS time/date: a fixed stamp, so the same content gives the same bytes. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** The archive of `entries`, in order. */
export function writeZip(entries: readonly ZipEntryInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = Buffer.from(e.data);
    const method = e.store === true ? 0 : 8;
    const body = method === 0 ? data : deflateRawSync(data);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(UTF8_FLAG, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_FLAG, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** Reads every entry of an archive, in central-directory order. Throws ERR_SUBMISSION_EVIDENCE_INVALID. */
export function readZip(input: Uint8Array, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipEntry[] {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length > limits.maxArchiveBytes) throw bad(`the archive is ${buf.length} bytes, above the limit of ${limits.maxArchiveBytes}`);
  if (buf.length < 22) throw bad('the archive is truncated: it has no end of central directory record');
  // The end record is the last 22 bytes: this writer, and ASiC, use no archive comment.
  const endAt = buf.length - 22;
  if (buf.readUInt32LE(endAt) !== END)
    throw bad('the archive is truncated or has trailing data: no end of central directory record at its end');
  if (buf.readUInt16LE(endAt + 4) !== 0 || buf.readUInt16LE(endAt + 6) !== 0) throw bad('multi-disk archives are not accepted');
  const count = buf.readUInt16LE(endAt + 10);
  if (buf.readUInt16LE(endAt + 8) !== count) throw bad('the end record disagrees with itself on the number of entries');
  if (count === 0xffff || buf.readUInt32LE(endAt + 16) === 0xffffffff) throw bad('ZIP64 archives are not accepted');
  if (count > limits.maxEntries) throw bad(`the archive has ${count} entries, above the limit of ${limits.maxEntries}`);
  const cdSize = buf.readUInt32LE(endAt + 12);
  const cdOffset = buf.readUInt32LE(endAt + 16);
  if (cdOffset + cdSize !== endAt) throw bad('the central directory does not end where the end record begins (truncated or altered)');

  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  let at = cdOffset;
  let total = 0;
  let expectedLocal = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > endAt || buf.readUInt32LE(at) !== CENTRAL) throw bad(`central directory entry ${i + 1} is truncated or missing`);
    const flags = buf.readUInt16LE(at + 8);
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    const compressed = buf.readUInt32LE(at + 20);
    const size = buf.readUInt32LE(at + 24);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    const localAt = buf.readUInt32LE(at + 42);
    const nameEnd = at + 46 + nameLength;
    if (nameEnd + extraLength + commentLength > endAt) throw bad(`central directory entry ${i + 1} runs past the directory`);
    const name = decodeName(buf.subarray(at + 46, nameEnd), i + 1);
    at = nameEnd + extraLength + commentLength;
    if (names.has(name) || names.has(name.toLowerCase()) || [...names].some((n) => n.toLowerCase() === name.toLowerCase()))
      throw bad(`the archive holds "${name}" twice`);
    names.add(name);
    if ((flags & 0x0001) !== 0) throw bad(`"${name}" is encrypted`);
    if ((flags & 0x0008) !== 0) throw bad(`"${name}" uses a data descriptor, which is not accepted`);
    if (method !== 0 && method !== 8) throw bad(`"${name}" uses compression method ${method}; only stored and deflate are accepted`);
    if (size > limits.maxEntryBytes) throw bad(`"${name}" expands to ${size} bytes, above the limit of ${limits.maxEntryBytes}`);
    total += size;
    if (total > limits.maxTotalBytes) throw bad(`the archive expands to more than ${limits.maxTotalBytes} bytes`);
    if (method === 0 && compressed !== size) throw bad(`"${name}" is stored but its sizes differ`);

    // The local header must agree with the central directory, and entries must follow one another.
    if (localAt !== expectedLocal) throw bad(`"${name}" does not start where the previous entry ends (overlapping or hidden data)`);
    if (localAt + 30 > cdOffset || buf.readUInt32LE(localAt) !== LOCAL) throw bad(`the local header of "${name}" is truncated or missing`);
    const localNameLength = buf.readUInt16LE(localAt + 26);
    const localExtraLength = buf.readUInt16LE(localAt + 28);
    const dataAt = localAt + 30 + localNameLength + localExtraLength;
    if (
      buf.readUInt16LE(localAt + 6) !== flags ||
      buf.readUInt16LE(localAt + 8) !== method ||
      buf.readUInt32LE(localAt + 14) !== crc ||
      buf.readUInt32LE(localAt + 18) !== compressed ||
      buf.readUInt32LE(localAt + 22) !== size ||
      localNameLength !== nameLength ||
      !buf.subarray(localAt + 30, localAt + 30 + localNameLength).equals(Buffer.from(name, 'utf8'))
    )
      throw bad(`the local header of "${name}" disagrees with the central directory`);
    if (dataAt + compressed > cdOffset) throw bad(`the data of "${name}" is truncated`);
    expectedLocal = dataAt + compressed;
    const raw = buf.subarray(dataAt, dataAt + compressed);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, size) });
      } catch (error) {
        throw bad(`"${name}" does not inflate to its declared ${size} bytes: ${(error as Error).message}`);
      }
    }
    if (data.length !== size) throw bad(`"${name}" inflates to ${data.length} bytes, not the ${size} declared`);
    if (crc32(data) !== crc) throw bad(`"${name}" fails its CRC-32 check (altered or truncated)`);
    entries.push({ name, data, method, localExtraLength });
  }
  if (at !== endAt) throw bad('the central directory has data after its last entry');
  if (expectedLocal !== cdOffset) throw bad('the archive has data between its last entry and the central directory');
  return entries;
}

/** A safe relative name: UTF-8, `/`-separated, no empty, `.` or `..` segment, no absolute or drive path, no backslash or control character. */
function decodeName(bytes: Buffer, n: number): string {
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bad(`entry ${n}'s name is not UTF-8`);
  }
  // eslint-disable-next-line no-control-regex
  if (name === '' || name.length > 255 || /[\u0000-\u001f\u007f\\:]/.test(name))
    throw bad(`entry ${n}'s name ${JSON.stringify(name.slice(0, 80))} is not a safe file name`);
  const segments = name.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..'))
    throw bad(
      `entry ${n}'s name ${JSON.stringify(name.slice(0, 80))} is an absolute path, a directory or leaves the container (path traversal)`,
    );
  return name;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as ZIP uses it). */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function bad(message: string): SubmissionError {
  return new SubmissionError('ERR_SUBMISSION_EVIDENCE_INVALID', message);
}
