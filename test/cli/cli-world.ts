import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pemEncode } from '../../src/der/pem.js';
import type { Holder, World } from '../submissions/fixtures.js';

/** Key and certificate files of a world's holders, for the CLI as a real process. */
export interface HolderFiles {
  key: string;
  cert: string;
  /** --key/--cert arguments. */
  args: string[];
}

export function holderFiles(w: World, h: Holder, dir: string): HolderFiles {
  const base = h.name.replace(/[^A-Za-z0-9-]/g, '_');
  const key = join(dir, `${base}.key.pem`);
  const cert = join(dir, `${base}.cert.pem`);
  writeFileSync(key, h.keyPem, { mode: 0o600 });
  writeFileSync(cert, h.certPem + pemEncode('CERTIFICATE', w.issuing));
  return { key, cert, args: ['--key', key, '--cert', cert] };
}

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'chancery-cli-sub-'));
}
