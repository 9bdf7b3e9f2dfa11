import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_ZIP_LIMITS, crc32, readZip, writeZip } from '../../src/submissions/zip.js';
import { expectCode } from '../helpers/expect-code.js';

/**
 * The ZIP writer against an outside reader (Info-ZIP `unzip -t`, which tests every CRC), and the
 * bounded reader against hostile archives: truncation at every length, trailing data, path
 * traversal, duplicates, bombs that expand past the limits or lie about their size, CRC and
 * header mismatches, hidden data between entries.
 */

const dir = mkdtempSync(join(tmpdir(), 'chancery-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sample = () =>
  writeZip([
    { name: 'mimetype', data: Buffer.from('application/vnd.etsi.asic-e+zip'), store: true },
    { name: 'document.json', data: Buffer.from(JSON.stringify({ hello: 'world', n: [1, 2, 3] })) },
    { name: 'META-INF/signature.p7s', data: randomBytes(2000) },
  ]);

const refused = (bytes: Uint8Array, pattern: RegExp, limits = DEFAULT_ZIP_LIMITS) =>
  expectCode(() => readZip(bytes, limits), 'ERR_SUBMISSION_EVIDENCE_INVALID').then((e) => expect(e.message).toMatch(pattern));

describe('writeZip / readZip', () => {
  it('round-trips entries in order, and unzip -t accepts the archive', () => {
    const zip = sample();
    const entries = readZip(zip);
    expect(entries.map((e) => [e.name, e.method])).toEqual([
      ['mimetype', 0],
      ['document.json', 8],
      ['META-INF/signature.p7s', 8],
    ]);
    expect(entries[0]!.data.toString()).toBe('application/vnd.etsi.asic-e+zip');
    expect(entries[0]!.localExtraLength).toBe(0);
    writeFileSync(join(dir, 'a.zip'), zip);
    const out = execFileSync('unzip', ['-t', join(dir, 'a.zip')]).toString();
    expect(out).toMatch(/No errors detected/);
    // ASiC's mimetype rule, as an outside reader sees it: the first local entry, stored, at offset 30.
    expect(zip.subarray(30, 38).toString()).toBe('mimetype');
  });

  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789')).toString(16)).toBe('cbf43926');
  });

  it('refuses the archive truncated at every length', async () => {
    const zip = sample();
    for (let n = 0; n < zip.length; n += 7) await refused(zip.subarray(0, n), /truncated|end of central directory|does not end/);
  });

  it('refuses trailing data after the end record', async () => {
    await refused(Buffer.concat([sample(), Buffer.from('junk')]), /trailing data|end of central directory/);
  });

  it('refuses path traversal and unsafe names', async () => {
    for (const name of ['../evil', 'META-INF/../../evil', '/etc/passwd', 'a//b', 'dir/', 'a\\b', 'C:evil', './x', 'x\u0000y']) {
      await refused(writeZip([{ name, data: Buffer.from('x') }]), /safe file name|path traversal/);
    }
  });

  it('refuses duplicate entries, also when they differ only in case', async () => {
    await refused(
      writeZip([
        { name: 'a.txt', data: Buffer.from('1') },
        { name: 'a.txt', data: Buffer.from('2') },
      ]),
      /twice/,
    );
    await refused(
      writeZip([
        { name: 'META-INF/x', data: Buffer.from('1') },
        { name: 'meta-inf/X', data: Buffer.from('2') },
      ]),
      /twice/,
    );
  });

  it('refuses a zip bomb: an entry expanding past the limit, a total past the limit, too many entries', async () => {
    const bomb = writeZip([{ name: 'zeros', data: Buffer.alloc(DEFAULT_ZIP_LIMITS.maxEntryBytes + 1) }]);
    expect(bomb.length).toBeLessThan(20_000); // tiny on the wire
    await refused(bomb, /above the limit/);
    const small = { ...DEFAULT_ZIP_LIMITS, maxTotalBytes: 3000 };
    await refused(
      writeZip([
        { name: 'a', data: Buffer.alloc(2000) },
        { name: 'b', data: Buffer.alloc(2000) },
      ]),
      /expands to more than/,
      small,
    );
    await refused(
      writeZip(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: Buffer.from('x') }))),
      /5 entries, above the limit/,
      { ...DEFAULT_ZIP_LIMITS, maxEntries: 4 },
    );
  });

  it('refuses an entry that inflates to more than it declares (a lying header), bounded while inflating', async () => {
    const zip = writeZip([{ name: 'zeros', data: Buffer.alloc(1_000_000) }]);
    const lying = Buffer.from(zip);
    lying.writeUInt32LE(100, 22); // local uncompressed size
    const cd = lying.length - 22 - (46 + 'zeros'.length);
    lying.writeUInt32LE(100, cd + 24); // central uncompressed size
    await refused(lying, /does not inflate|inflates to/);
  });

  it('refuses a CRC mismatch, a local header that disagrees with the directory, and hidden data between entries', async () => {
    const zip = sample();
    const entries = readZip(zip);
    const data = Buffer.from(zip);
    // Flip a byte inside the stored mimetype: the CRC no longer matches.
    data[30 + 'mimetype'.length + 3]! ^= 0x01;
    await refused(data, /CRC-32/);
    const second = 30 + 'mimetype'.length + entries[0]!.data.length;
    const changed = Buffer.from(zip);
    changed.writeUInt16LE(0, second + 8);
    await refused(changed, /disagrees with the central directory/);
    // An extra local record slipped in before the directory, not listed in it.
    const cdOffset = zip.readUInt32LE(zip.length - 22 + 16);
    const hidden = writeZip([{ name: 'hidden', data: Buffer.from('payload') }]).subarray(0, 30 + 6 + 7);
    const smuggled = Buffer.concat([zip.subarray(0, cdOffset), hidden, zip.subarray(cdOffset)]);
    const end = smuggled.length - 22;
    smuggled.writeUInt32LE(cdOffset + hidden.length, end + 16);
    await refused(smuggled, /between its last entry and the central directory/);
  });

  it('refuses encrypted entries, data descriptors and unknown compression', async () => {
    const zip = writeZip([{ name: 'a', data: Buffer.from('abc') }]);
    const cd = zip.length - 22 - (46 + 1);
    for (const [offset, value, pattern] of [
      [6, 0x0801, /encrypted/],
      [6, 0x0808, /data descriptor/],
    ] as const) {
      const z = Buffer.from(zip);
      z.writeUInt16LE(value, offset);
      z.writeUInt16LE(value, cd + 8);
      await refused(z, pattern);
    }
    const m = Buffer.from(zip);
    m.writeUInt16LE(12, 8);
    m.writeUInt16LE(12, cd + 10);
    await refused(m, /compression method 12/);
  });

  it('never throws anything but its coded error on random mutations', () => {
    const zip = sample();
    for (let i = 0; i < 400; i++) {
      const z = Buffer.from(zip);
      const at = (i * 7919) % z.length;
      z[at]! ^= 1 << (i % 8);
      try {
        readZip(z);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('ERR_SUBMISSION_EVIDENCE_INVALID');
      }
    }
  });
});
