import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childrenOf, readDer, type DerElement } from '../../src/der/reader.js';
import { encodeHeader, oid, sequenceOf } from '../../src/der/writer.js';

/**
 * Tools of the differential test (differential.test.ts): a seeded PRNG and DER mutations, the
 * openssl CLI run over many inputs in few processes, and readers for what openssl prints.
 */

/** mulberry32: a small deterministic PRNG (same seed, same sequence, on every machine). */
export function prng(seed: number): { next(): number; int(n: number): number; pick<T>(items: readonly T[]): T } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (items) => items[Math.floor(next() * items.length)]! };
}

export type MutationKind = 'bit-flip' | 'insert-byte' | 'delete-byte' | 'length-byte' | 'ber-length' | 'truncate';
export const MUTATION_KINDS: readonly MutationKind[] = ['bit-flip', 'insert-byte', 'delete-byte', 'length-byte', 'ber-length', 'truncate'];

interface Node {
  tag: number;
  /** Offset of the identifier octet in the whole input. */
  at: number;
  headerLength: number;
  length: number;
  children: Node[] | undefined;
  value: Uint8Array;
}

/** The TLV tree of valid DER (for mutations that need to know where lengths are). */
function tree(der: Uint8Array): Node {
  const base = der.byteOffset;
  const walk = (el: DerElement): Node => {
    const at = el.bytes.byteOffset - base;
    const constructed = (el.tag & 0x20) !== 0;
    let children: Node[] | undefined;
    if (constructed) {
      try {
        children = childrenOf(el).map(walk);
      } catch {
        children = undefined;
      }
    }
    return { tag: el.tag, at, headerLength: el.bytes.length - el.value.length, length: el.value.length, children, value: el.value };
  };
  return walk(readDer(der));
}

function nodes(root: Node): Node[] {
  const out: Node[] = [root];
  for (const c of root.children ?? []) out.push(...nodes(c));
  return out;
}

/**
 * Re-encodes the tree with one node's length written in a BER form DER forbids (X.690 §10.1):
 * the long form for a short length, a leading zero length octet, or (constructed only) the
 * indefinite form with end-of-contents octets. Every other length stays minimal, so the result
 * is valid BER that differs from the DER only there.
 */
function berVariant(root: Node, target: Node, form: 'long-short' | 'leading-zero' | 'indefinite'): Buffer {
  const encode = (n: Node): Buffer => {
    const contents = n.children === undefined ? Buffer.from(n.value) : Buffer.concat(n.children.map(encode));
    if (n !== target) return Buffer.concat([encodeHeader(n.tag, contents.length), contents]);
    if (form === 'indefinite') return Buffer.concat([Buffer.from([n.tag, 0x80]), contents, Buffer.from([0, 0])]);
    const minimal = encodeHeader(n.tag, contents.length).subarray(1);
    const octets = minimal[0]! < 0x80 ? Buffer.from([minimal[0]!]) : minimal.subarray(1);
    const padded = form === 'leading-zero' ? Buffer.concat([Buffer.from([0]), octets]) : octets;
    return Buffer.concat([Buffer.from([n.tag, 0x80 | padded.length]), padded, contents]);
  };
  return encode(root);
}

/** One seeded mutation of valid DER `der`, described for the report. */
export function mutate(der: Buffer, kind: MutationKind, rng: ReturnType<typeof prng>): { bytes: Buffer; what: string } {
  const n = der.length;
  switch (kind) {
    case 'bit-flip': {
      const i = rng.int(n);
      const bit = rng.int(8);
      const out = Buffer.from(der);
      out[i]! ^= 1 << bit;
      return { bytes: out, what: `bit ${bit} of byte ${i}` };
    }
    case 'insert-byte': {
      const i = rng.int(n + 1);
      const b = rng.int(256);
      return {
        bytes: Buffer.concat([der.subarray(0, i), Buffer.from([b]), der.subarray(i)]),
        what: `0x${b.toString(16)} inserted at ${i}`,
      };
    }
    case 'delete-byte': {
      const i = rng.int(n);
      return { bytes: Buffer.concat([der.subarray(0, i), der.subarray(i + 1)]), what: `byte ${i} deleted` };
    }
    case 'length-byte': {
      // A length octet set to a nearby or random value, the rest untouched.
      const node = rng.pick(nodes(tree(der)));
      const i = node.at + node.headerLength - 1;
      const out = Buffer.from(der);
      const delta = rng.pick([-2, -1, 1, 2, 0x40, rng.int(256)]);
      out[i] = (out[i]! + delta) & 0xff;
      return { bytes: out, what: `length octet at ${i} changed by ${delta}` };
    }
    case 'ber-length': {
      const all = nodes(tree(der));
      const node = rng.pick(all);
      // The long form of a short length only exists below 128; above, the minimal form is already long.
      const forms = [
        ...(node.length < 0x80 ? (['long-short'] as const) : []),
        'leading-zero' as const,
        ...(node.children !== undefined ? (['indefinite'] as const) : []),
      ];
      const form = rng.pick(forms);
      return { bytes: berVariant(all[0]!, node, form), what: `${form} length of the TLV at ${node.at}` };
    }
    case 'truncate': {
      const i = rng.int(n);
      return { bytes: der.subarray(0, i), what: `truncated to ${i} bytes` };
    }
  }
}

/** The result of one openssl run over one input. */
export interface OpensslRun {
  code: number;
  output: string;
}

/**
 * Runs `openssl <args…> -in <file>` once per input, all inputs of a batch in one shell process
 * (two shells in parallel, for the two cores), and returns each exit code and combined output.
 */
export async function opensslEach(inputs: readonly Uint8Array[], args: readonly string[], shells = 2): Promise<OpensslRun[]> {
  if (inputs.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'chancery-differential-'));
  try {
    inputs.forEach((bytes, i) => writeFileSync(join(dir, `${i}.der`), bytes));
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const chunks: number[][] = Array.from({ length: shells }, () => []);
    inputs.forEach((_, i) => chunks[i % shells]!.push(i));
    const runs = await Promise.all(
      chunks.map(
        (indices) =>
          new Promise<string>((resolve, reject) => {
            const script = `for i in ${indices.join(' ')}; do echo "@@@BEGIN $i"; openssl ${quoted} -in "${dir}/$i.der" 2>&1; echo "@@@END $? $i"; done`;
            execFile('sh', ['-c', script], { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' }, (error, stdout) =>
              error === null ? resolve(stdout) : reject(error),
            );
          }),
      ),
    );
    const out: OpensslRun[] = new Array<OpensslRun>(inputs.length);
    for (const text of runs) {
      for (const m of text.matchAll(/@@@BEGIN (\d+)\n([\s\S]*?)@@@END (\d+) \d+\n/g))
        out[Number(m[1])] = { code: Number(m[3]), output: m[2]! };
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs openssl once with `stdin` as input; resolves with exit code and stdout. */
export function opensslOnce(args: readonly string[], stdin?: Uint8Array | string): Promise<OpensslRun> {
  return new Promise((resolve) => {
    const child = execFile('openssl', args, { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(stdin);
  });
}

/**
 * OpenSSL's printed name of each OID (what `-text` and `-print` write for an extension or an
 * algorithm), found by asking `openssl asn1parse` about a SEQUENCE of them: one process for all.
 */
export async function opensslNames(oids: Iterable<string>): Promise<Map<string, string>> {
  const list = [...new Set(oids)];
  const out = new Map<string, string>();
  if (list.length === 0) return out;
  const run = await opensslOnce(['asn1parse', '-inform', 'DER'], sequenceOf(list.map((o) => oid(o))));
  const names = [...run.output.matchAll(/OBJECT\s+:(.*)$/gm)].map((m) => m[1]!.trim());
  if (names.length !== list.length) throw new Error(`openssl asn1parse named ${names.length} of ${list.length} OIDs`);
  list.forEach((o, i) => out.set(o, names[i]!));
  return out;
}

/** The name options under which openssl prints a name the way node's X509Certificate does (one RDN a line). */
export const NAME_OPTIONS = 'esc_2253,esc_ctrl,utf8,sep_multiline,sname';

/**
 * The attribute values of a name printed one RDN per line (node's `subject`, or openssl with
 * NAME_OPTIONS): multi-valued RDNs split at " + ", RFC 2253 escapes (`\,`, `\XX`) undone.
 */
export function printedNameValues(text: string): string[][] {
  // Only the indentation goes: a value's own leading and trailing spaces are escaped (`\ `).
  const lines = text
    .split('\n')
    .map((l) => l.trimStart())
    .filter((l) => l.length > 0);
  return lines.map((line) =>
    line.split(' + ').map((atv) => {
      const value = atv.slice(atv.indexOf('=') + 1);
      const bytes: number[] = [];
      for (let i = 0; i < value.length; i++) {
        const c = value[i]!;
        if (c === '\\' && /^[0-9A-Fa-f]{2}$/.test(value.slice(i + 1, i + 3))) {
          bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
          i += 2;
        } else if (c === '\\' && i + 1 < value.length) {
          bytes.push(...Buffer.from(value[++i]!, 'utf8'));
        } else {
          bytes.push(...Buffer.from(c, 'utf8'));
        }
      }
      return Buffer.from(bytes).toString('utf8');
    }),
  );
}

/** Extension lines of openssl `-text` output: `<name>: critical` or `<name>:` at one indentation. */
export function printedExtensions(section: string, indent: number): Array<{ name: string; critical: boolean }> {
  const out: Array<{ name: string; critical: boolean }> = [];
  const prefix = ' '.repeat(indent);
  for (const line of section.split('\n')) {
    if (!line.startsWith(prefix) || line[indent] === ' ') continue;
    const m = /^(.*?):\s*(critical)?\s*$/.exec(line.slice(indent));
    if (m !== null) out.push({ name: m[1]!, critical: m[2] === 'critical' });
  }
  return out;
}
