import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CryptoError } from './errors.js';
import { generateKeyPair, type KeyAlgorithm } from './keys.js';
import { keyObjectSigner, type Signer } from './signer.js';

/**
 * Where Chancery's own private keys live (CA, OCSP responder, service seal, log key). The file
 * store keeps each as an encrypted PKCS#8 PEM; an HSM store can implement the same interface.
 */
export interface KeyStore {
  has(name: string): Promise<boolean>;
  /** Creates a new key. MUST refuse to replace an existing one (ERR_CRYPTO_KEY_EXISTS). */
  generate(name: string, algorithm: KeyAlgorithm): Promise<Signer>;
  /** The signer of an existing key (ERR_CRYPTO_KEY_MISSING when there is none). */
  signer(name: string): Promise<Signer>;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Keys as `<dir>/<name>.key.pem`: PKCS#8 encrypted with AES-256-CBC under a PBKDF2-derived key
 * from the passphrase (OpenSSL's PBES2), file mode 0600. Loaded keys are cached in memory.
 */
export class FileKeyStore implements KeyStore {
  readonly #cache = new Map<string, Signer>();

  constructor(
    private readonly dir: string,
    private readonly passphrase: string,
  ) {}

  async has(name: string): Promise<boolean> {
    return existsSync(this.path(name));
  }

  async generate(name: string, algorithm: KeyAlgorithm): Promise<Signer> {
    const path = this.path(name);
    if (existsSync(path)) throw new CryptoError('ERR_CRYPTO_KEY_EXISTS', `key ${name} already exists; refusing to replace it`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPair(algorithm);
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: this.passphrase });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, pem, { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
    const signer = keyObjectSigner(name, privateKey, publicKey);
    this.#cache.set(name, signer);
    return signer;
  }

  async signer(name: string): Promise<Signer> {
    const cached = this.#cache.get(name);
    if (cached !== undefined) return cached;
    const path = this.path(name);
    if (!existsSync(path)) throw new CryptoError('ERR_CRYPTO_KEY_MISSING', `key ${name} does not exist in ${this.dir}`);
    let privateKey;
    try {
      privateKey = createPrivateKey({ key: readFileSync(path), format: 'pem', passphrase: this.passphrase });
    } catch (error) {
      throw new CryptoError(
        'ERR_CRYPTO_KEY_PASSPHRASE',
        `cannot decrypt key ${name} in ${this.dir}: wrong CHANCERY_KEY_PASSPHRASE, or the file is damaged`,
        { cause: error },
      );
    }
    const signer = keyObjectSigner(name, privateKey, createPublicKey(privateKey));
    this.#cache.set(name, signer);
    return signer;
  }

  private path(name: string): string {
    if (!NAME.test(name)) throw new CryptoError('ERR_CRYPTO_KEY_INVALID', `"${name}" is not a valid key name`);
    return join(this.dir, `${name}.key.pem`);
  }
}

/** File holding the generated dev-mode passphrase, inside the data dir. */
export const DEV_PASSPHRASE_FILE = 'dev-passphrase';

/**
 * The passphrase protecting keys at rest: CHANCERY_KEY_PASSPHRASE when set; otherwise (dev mode)
 * one generated once into `<dataDir>/dev-passphrase` with mode 0600. `warn` is called in dev
 * mode so the operator sees it loudly.
 */
export function resolveKeyPassphrase(dataDir: string, configured: string | undefined, warn: (message: string) => void): string {
  if (configured !== undefined) return configured;
  const file = join(dataDir, DEV_PASSPHRASE_FILE);
  if (!existsSync(file)) {
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  warn(
    `DEV MODE: CHANCERY_KEY_PASSPHRASE is not set; private keys are protected by a generated passphrase in ${file}. ` +
      'Anyone who can read the data dir can use the keys. Set CHANCERY_KEY_PASSPHRASE in production.',
  );
  return readFileSync(file, 'utf8').trim();
}
