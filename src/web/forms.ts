import type { IncomingMessage } from 'node:http';
import { ChanceryError } from '../errors.js';

/**
 * Form bodies of the pages, read here with hard caps: `application/x-www-form-urlencoded` and
 * `multipart/form-data` (RFC 7578) for file uploads. A body beyond its cap, a malformed body or
 * a part beyond the part limit is a WebFormError (a 4xx page, nothing done).
 */

export type WebFormErrorCode = 'ERR_WEB_FORM_TOO_LARGE' | 'ERR_WEB_FORM_MALFORMED';

export class WebFormError extends ChanceryError<WebFormErrorCode> {}

export interface FormPart {
  name: string;
  /** Present for a file input (possibly empty when no file was chosen). */
  filename?: string;
  data: Buffer;
}

export interface ParsedForm {
  fields: Map<string, string>;
  files: Map<string, FormPart>;
  /** Every value of each name, in order (checkboxes send one per ticked box). */
  all?: Map<string, string[]>;
}

/** The whole body, refusing it once it passes `limit` bytes (a declared length is checked first). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    throw new WebFormError('ERR_WEB_FORM_TOO_LARGE', `the form is larger than ${limit} bytes`, { detail: { limit } });
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > limit) {
      req.resume();
      throw new WebFormError('ERR_WEB_FORM_TOO_LARGE', `the form is larger than ${limit} bytes`, { detail: { limit } });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length);
}

export function parseUrlEncoded(body: Buffer): ParsedForm {
  const fields = new Map<string, string>();
  const all = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (!fields.has(name)) fields.set(name, value);
    all.set(name, [...(all.get(name) ?? []), value]);
  }
  return { fields, files: new Map(), all };
}

const MAX_PARTS = 16;
const MAX_PART_HEADER = 4096;

/** The boundary of a `multipart/form-data` content type, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const [type, ...params] = contentType.split(';').map((s) => s.trim());
  if (type?.toLowerCase() !== 'multipart/form-data') return undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    let value = p.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    // RFC 2046 §5.1.1: 1 to 70 characters.
    if (value.length >= 1 && value.length <= 70) return value;
  }
  return undefined;
}

/**
 * Parts of a multipart body: each part's name (and filename for files) from its
 * Content-Disposition, its bytes exactly as sent. The first part of a repeated name wins.
 */
export function parseMultipart(body: Buffer, boundary: string): ParsedForm {
  const bad = (why: string): never => {
    throw new WebFormError('ERR_WEB_FORM_MALFORMED', `the form is malformed: ${why}`);
  };
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const fields = new Map<string, string>();
  const files = new Map<string, FormPart>();
  let pos = body.indexOf(delimiter);
  if (pos < 0) bad('no boundary');
  let parts = 0;
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') break;
    if (body.subarray(pos, pos + 2).toString('latin1') !== '\r\n') bad('boundary not followed by CRLF');
    pos += 2;
    if (++parts > MAX_PARTS) bad(`more than ${MAX_PARTS} parts`);
    const headerEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    if (headerEnd < 0 || headerEnd - pos > MAX_PART_HEADER) bad('part headers do not end');
    const headers = body.subarray(pos, headerEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n', 'latin1'), delimiter]), headerEnd + 4);
    if (next < 0) bad('the last part is not closed');
    const data = body.subarray(headerEnd + 4, next);
    const disposition = headers.find((h) => h.toLowerCase().startsWith('content-disposition:'));
    if (disposition === undefined) bad('a part has no Content-Disposition');
    const name = dispositionParam(disposition!, 'name');
    if (name === undefined) bad('a part has no name');
    const filename = dispositionParam(disposition!, 'filename');
    if (filename !== undefined) {
      if (!files.has(name!)) files.set(name!, { name: name!, filename, data: Buffer.from(data) });
    } else if (!fields.has(name!)) {
      fields.set(name!, data.toString('utf8'));
    }
    pos = next + 2;
  }
  return { fields, files };
}

function dispositionParam(header: string, param: string): string | undefined {
  const re = new RegExp(`;\\s*${param}="((?:[^"\\\\]|\\\\.)*)"`, 'i');
  const m = re.exec(header);
  if (m !== null) return m[1]!.replace(/\\(.)/g, '$1');
  const bare = new RegExp(`;\\s*${param}=([^;\\s"]+)`, 'i').exec(header);
  return bare === null ? undefined : bare[1];
}
