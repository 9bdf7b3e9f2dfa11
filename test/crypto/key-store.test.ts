import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileKeyStore, resolveKeyPassphrase } from '../../src/crypto/key-store.js';
import { verifySignature } from '../../src/crypto/signature.js';
import { expectCode } from '../helpers/expect-code.js';

const PASS = 'test-only passphrase, not a secret';
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'chancery-keys-'));

describe('FileKeyStore', () => {
  it.each(['P-256', 'P-384', 'Ed25519', 'RSA-2048'] as const)('generates a %s key whose signatures verify after reloading', async (alg) => {
    const dir = tempDir();
    const made = await new FileKeyStore(dir, PASS).generate('seal', alg);
    const loaded = await new FileKeyStore(dir, PASS).signer('seal');
    const data = Buffer.from('receipt body');
    const sig = await loaded.sign(data);
    const scheme =
      alg === 'Ed25519'
        ? ({ kind: 'ed25519' } as const)
        : alg === 'RSA-2048'
          ? ({ kind: 'rsa-pkcs1', hash: 'sha256' } as const)
          : ({ kind: 'ecdsa', hash: alg === 'P-256' ? 'sha256' : 'sha384', encoding: 'der' } as const);
    expect(verifySignature(scheme, made.publicKey, data, sig)).toBe(true);
    expect(verifySignature(scheme, made.publicKey, Buffer.from('other'), sig)).toBe(false);
    expect(loaded.algorithm).toBe(made.algorithm);
  });

  it('stores keys encrypted, readable by the owner only', async () => {
    const dir = tempDir();
    await new FileKeyStore(dir, PASS).generate('issuing-ca', 'P-256');
    const file = join(dir, 'issuing-ca.key.pem');
    expect(readFileSync(file, 'utf8')).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses to replace an existing key', async () => {
    const store = new FileKeyStore(tempDir(), PASS);
    await store.generate('root-ca', 'P-384');
    await expectCode(() => store.generate('root-ca', 'P-384'), 'ERR_CRYPTO_KEY_EXISTS');
  });

  it('names a wrong passphrase without revealing it', async () => {
    const dir = tempDir();
    await new FileKeyStore(dir, PASS).generate('log', 'Ed25519');
    const error = await expectCode(() => new FileKeyStore(dir, 'wrong passphrase given').signer('log'), 'ERR_CRYPTO_KEY_PASSPHRASE');
    expect(error.message).not.toContain('wrong passphrase given');
  });

  it('reports a missing key and refuses names that could escape the directory', async () => {
    const store = new FileKeyStore(tempDir(), PASS);
    await expectCode(() => store.signer('absent'), 'ERR_CRYPTO_KEY_MISSING');
    await expectCode(() => store.generate('../evil', 'P-256'), 'ERR_CRYPTO_KEY_INVALID');
  });

  it('signs ECDSA in IEEE P1363 form when asked (JOSE)', async () => {
    const signer = await new FileKeyStore(tempDir(), PASS).generate('seal', 'P-256');
    const sig = await signer.sign(Buffer.from('x'), { dsaEncoding: 'ieee-p1363' });
    expect(sig).toHaveLength(64);
    expect(verifySignature({ kind: 'ecdsa', hash: 'sha256', encoding: 'ieee-p1363' }, signer.publicKey, Buffer.from('x'), sig)).toBe(true);
  });
});

describe('resolveKeyPassphrase', () => {
  it('uses the configured passphrase without touching the data dir', () => {
    const dir = tempDir();
    const warnings: string[] = [];
    expect(resolveKeyPassphrase(dir, PASS, (m) => warnings.push(m))).toBe(PASS);
    expect(warnings).toEqual([]);
  });

  it('in dev mode generates one passphrase once (mode 0600) and warns loudly each start', () => {
    const dir = tempDir();
    const warnings: string[] = [];
    const first = resolveKeyPassphrase(dir, undefined, (m) => warnings.push(m));
    const second = resolveKeyPassphrase(dir, undefined, (m) => warnings.push(m));
    expect(first).toBe(second);
    expect(first.length).toBeGreaterThanOrEqual(40);
    expect(statSync(join(dir, 'dev-passphrase')).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('DEV MODE');
    expect(warnings[0]).not.toContain(first);
  });
});
