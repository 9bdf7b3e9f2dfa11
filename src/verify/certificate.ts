import type { KeyObject } from 'node:crypto';
import { sha256Hex } from '../crypto/digest.js';
import { importSpki } from '../crypto/keys.js';
import { looksLikePem } from '../der/pem.js';
import { decodeCertificateFields } from './certificate-parser.js';
import type { CertificateFields, Extension } from './certificate-types.js';
import { asVerifyError, malformed, VerifyError } from './errors.js';
import { ParseCache } from './parse-cache.js';
import { pemBlocks } from './pem-input.js';
import { PROCESSED_CRITICAL_EXTENSIONS } from './processed-extensions.js';

/**
 * X.509 certificates (RFC 5280 §4) as read-only objects: `parseCertificate` and
 * `parseCertificates` are the entry points (the parser itself is certificate-parser.ts, the
 * extension decoders certificate-extensions.ts, the field types certificate-types.ts).
 */

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Certificate extends CertificateFields {}

/** A parsed certificate. Read-only: callers MUST NOT mutate its buffers (instances are cached). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Certificate {
  #publicKey: KeyObject | undefined;
  #publicKeyError: VerifyError | undefined;
  #fingerprint: string | undefined;
  #description: string | undefined;

  /** @internal use parseCertificate */
  constructor(fields: CertificateFields) {
    Object.assign(this, fields);
  }

  get subjectDer(): Buffer {
    return this.subject.der;
  }

  get issuerDer(): Buffer {
    return this.issuer.der;
  }

  /** The subject public key; throws ERR_VERIFY_MALFORMED when node cannot import it. */
  get publicKey(): KeyObject {
    const key = this.tryPublicKey();
    if (key === undefined) throw this.#publicKeyError!;
    return key;
  }

  /** The subject public key, or undefined (with `publicKeyProblem` set) when it cannot be read. */
  tryPublicKey(): KeyObject | undefined {
    if (this.#publicKey === undefined && this.#publicKeyError === undefined) {
      try {
        this.#publicKey = importSpki(this.spki);
      } catch (error) {
        this.#publicKeyError = new VerifyError('ERR_VERIFY_MALFORMED', `the public key of certificate ${this.describe()} cannot be read`, {
          cause: error,
        });
      }
    }
    return this.#publicKey;
  }

  /** Why the public key cannot be read, when it cannot. */
  get publicKeyProblem(): string | undefined {
    this.tryPublicKey();
    return this.#publicKeyError?.message;
  }

  /** SHA-256 of the DER, lowercase hex. */
  get sha256Fingerprint(): string {
    return (this.#fingerprint ??= sha256Hex(this.der));
  }

  /** Subject and issuer are the same name (RFC 5280 §6.1: self-issued). */
  get selfIssued(): boolean {
    return this.subject.equals(this.issuer);
  }

  get isCa(): boolean {
    return this.basicConstraints?.ca === true;
  }

  /** Critical extensions this validator does not process (RFC 5280 §6.1.4 (o), §6.1.5 (f)). */
  get unknownCriticalExtensions(): string[] {
    return this.extensions.filter((e) => e.critical && !PROCESSED_CRITICAL_EXTENSIONS.has(e.oid)).map((e) => e.oid);
  }

  extension(oid: string): Extension | undefined {
    return this.extensions.find((e) => e.oid === oid);
  }

  /** Short human description: subject and serial. */
  describe(): string {
    if (this.#description === undefined) {
      // Bounded: a hostile certificate may carry thousands of attributes.
      const shown = this.subject.describe();
      const serial = this.serialNumberHex.length > 42 ? `${this.serialNumberHex.slice(0, 42)}…` : this.serialNumberHex;
      this.#description = `"${shown}" (serial ${serial})`;
    }
    return this.#description;
  }
}

/** Parsed certificates kept by exact bytes: the same bytes always parse to the same object. */
const cache = new ParseCache<Certificate>(1024, true);

/**
 * Parses one DER certificate. Throws VerifyError ERR_VERIFY_MALFORMED when the bytes are not a
 * DER Certificate; profile faults do not throw, they land in `problems`. The result is cached by
 * exact bytes (it is immutable), so re-parsing the same certificate is a map lookup.
 */
export function parseCertificate(der: Uint8Array): Certificate {
  return cache.get(der, decodeCertificate, undefined);
}

function decodeCertificate(der: Uint8Array): Certificate {
  try {
    return new Certificate(decodeCertificateFields(Buffer.from(der)));
  } catch (error) {
    throw asVerifyError(error);
  }
}

/** Reads every certificate from PEM text (any number of CERTIFICATE blocks) or one DER blob. */
export function parseCertificates(input: Uint8Array | string, what = 'the input'): Certificate[] {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? Buffer.from(input).toString('latin1') : undefined;
  if (text === undefined) return [parseCertificate(input as Uint8Array)];
  const blocks = pemBlocks(text, 'CERTIFICATE');
  if (blocks.length === 0) throw malformed(`${what} contains no PEM CERTIFICATE block`);
  return blocks.map((b) => parseCertificate(b));
}
