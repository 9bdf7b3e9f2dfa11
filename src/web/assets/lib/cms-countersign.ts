import type { webcrypto } from 'node:crypto';
import { childrenOf, expectTag, readDer, readOid, readSequence, toHex } from '../../../der/reader.js';
import { contextTag, TAG } from '../../../der/tags.js';
import { x509Time } from '../../../der/time.js';
import {
  explicit,
  nullValue,
  octetString,
  oid,
  sequence,
  sequenceOf,
  setOf,
  smallInteger,
  tlv,
  tlvOf,
  unsignedInteger,
} from '../../../der/writer.js';
import { OID } from '../../../oids.js';
import { SignError } from '../../../sign/errors.js';
import { commitmentTypeIndication } from '../../../sign/commitment.js';
import { OID_OF_DIGEST, type Decision } from '../../../verify/cms-attributes.js';
import { readCertificateIdentity } from '../../../verify/cms-parse.js';

/**
 * An officer's CMS countersignature (RFC 5652 §11.4), built in the browser from the project's own
 * DER reader and writer (bundled by esbuild), byte for byte what `chancery countersign` writes
 * (src/sign/cms.ts countersignCms): a SignerInfo whose signed attributes are signing-time,
 * message-digest (over the enterprise's signature value), signing-certificate-v2 and the decision
 * (with the officer's reason as its qualifier, when given) as commitment-type-indication — no content-type (RFC 5652 §11.4 forbids it) — added as an
 * unsigned countersignature attribute to the enterprise's SignerInfo, the officer's certificates
 * added to SignedData.certificates, every SET OF in DER order (X.690 §11.6). Every other byte of
 * the envelope is kept, so the signatures already there stay valid. Digest and signature are
 * passed in (WebCrypto in the page): this module holds no key and does no crypto of its own.
 */

/** The algorithms the browser sign-in keeps a key for (src/web/assets/signin.js). */
export type BrowserAlgorithm = 'ES256' | 'ES384' | 'EdDSA' | 'RS256';
export type DigestName = 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface BrowserCountersignOptions {
  algorithm: BrowserAlgorithm;
  /** The officer's certificate first, then intermediates (DER, the original bytes). */
  chain: Uint8Array[];
  decision: Decision;
  /** The officer's reason, in its signed form (src/verify/decision-reason.ts), as the commitment's qualifier. */
  reason?: string | undefined;
  /** The signing-time attribute (whole seconds are encoded). */
  time: Date;
  /** A digest (WebCrypto's names). */
  digest(name: DigestName, data: Uint8Array): Promise<Uint8Array>;
  /** Signs `data` with the officer's key; ECDSA answers in the DER form (see ecdsaSignatureToDer). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** Signature algorithm identifiers (RFC 5754, RFC 8419, RFC 4055) and the digest each uses, as src/sign/cms.ts has them. */
const ALGORITHM: Record<BrowserAlgorithm, { digest: DigestName; digestOid: string; signatureAlgorithm: () => Uint8Array }> = {
  ES256: { digest: 'SHA-256', digestOid: OID_OF_DIGEST.sha256, signatureAlgorithm: () => sequence(oid('1.2.840.10045.4.3.2')) },
  ES384: { digest: 'SHA-384', digestOid: OID_OF_DIGEST.sha384, signatureAlgorithm: () => sequence(oid('1.2.840.10045.4.3.3')) },
  // RFC 8419 §3.1: with Ed25519 the message digest uses SHA-512.
  EdDSA: { digest: 'SHA-512', digestOid: OID_OF_DIGEST.sha512, signatureAlgorithm: () => sequence(oid('1.3.101.112')) },
  RS256: {
    digest: 'SHA-256',
    digestOid: OID_OF_DIGEST.sha256,
    signatureAlgorithm: () => sequence(oid('1.2.840.113549.1.1.11'), nullValue()),
  },
};

/** The envelope (DER) with the officer's countersignature added; MUST NOT change any byte the enterprise signed. */
export async function countersignCmsEnvelope(envelope: Uint8Array, options: BrowserCountersignOptions): Promise<Uint8Array> {
  const leaf = options.chain[0];
  if (leaf === undefined)
    throw new SignError('ERR_SIGN_INVALID_INPUT', 'the certificate chain is empty: the signer certificate must come first');
  const alg = ALGORITHM[options.algorithm];
  if (alg === undefined)
    throw new SignError('ERR_SIGN_INVALID_INPUT', `no CMS countersignature for the key algorithm ${String(options.algorithm)}`);
  let parts: EnvelopeParts;
  try {
    parts = splitEnvelope(envelope);
  } catch (error) {
    throw new SignError('ERR_SIGN_ENVELOPE_UNREADABLE', `the envelope to countersign cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const id = readCertificateIdentity(leaf);
  const issuerSerial = sequence(sequence(tlv(contextTag(4, true), id.issuer)), tlv(TAG.INTEGER, id.serialContents));
  // SigningCertificateV2 { certs { ESSCertIDv2 { certHash (SHA-256, the DEFAULT), issuerSerial } } } (RFC 5035).
  const signingCertificateV2 = sequence(sequence(sequence(octetString(await options.digest('SHA-256', leaf)), issuerSerial)));
  const signedAttributes = [
    attribute(OID.signingTime, x509Time(options.time)),
    attribute(OID.messageDigest, octetString(await options.digest(alg.digest, parts.parentSignature))),
    attribute(OID.signingCertificateV2, signingCertificateV2),
    attribute(OID.commitmentTypeIndication, commitmentTypeIndication(options.decision, options.reason)),
  ];
  // The signature covers the DER SET OF (tag 0x31); the SignerInfo carries it as [0] IMPLICIT.
  const signedSet = tlvOf(TAG.SET, sortDer(signedAttributes));
  const signature = await options.sign(signedSet);
  const asImplicit = Uint8Array.from(signedSet);
  asImplicit[0] = contextTag(0, true);
  const counter = sequence(
    smallInteger(1),
    sequence(id.issuer, tlv(TAG.INTEGER, id.serialContents)),
    sequence(oid(alg.digestOid)),
    asImplicit,
    alg.signatureAlgorithm(),
    octetString(signature),
  );
  const unsigned = [...parts.unsignedAttributes, attribute(OID.countersignature, counter)];
  const signerInfo = sequenceOf([...parts.signerInfoHead, tlvOf(contextTag(1, true), sortDer(unsigned))]);
  const certificates = dedupe([...parts.certificates, ...options.chain]);
  const signedData = sequenceOf([
    ...parts.signedDataHead,
    tlvOf(contextTag(0, true), sortDer(certificates)),
    ...parts.crls,
    setOf(signerInfo),
  ]);
  return sequence(oid(OID.signedData), explicit(0, signedData));
}

/**
 * An ECDSA signature as WebCrypto gives it (r ‖ s, each the curve's size, IEEE P1363) in the DER
 * form CMS carries: ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 5753 §7.2, RFC 3279 §2.2.3).
 */
export function ecdsaSignatureToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0)
    throw new SignError('ERR_SIGN_INVALID_INPUT', `an ECDSA signature of ${raw.length} octets is not r ‖ s`);
  const half = raw.length / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}

/** The key the browser sign-in keeps (IndexedDB): a non-extractable CryptoKey and its WebCrypto parameters. */
export interface StoredSigningKey {
  alg: BrowserAlgorithm;
  key: webcrypto.CryptoKey;
  sign: webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams | webcrypto.RsaPssParams;
}

/** `digest` and `sign` for countersignCmsEnvelope from a WebCrypto implementation and the stored key. */
export function webCryptoSigning(
  subtle: webcrypto.SubtleCrypto,
  record: StoredSigningKey,
): Pick<BrowserCountersignOptions, 'digest' | 'sign'> {
  const ecdsa = typeof record.sign === 'object' && record.sign.name === 'ECDSA';
  return {
    digest: async (name, data) => new Uint8Array(await subtle.digest(name, data)),
    sign: async (data) => {
      const signature = new Uint8Array(await subtle.sign(record.sign, record.key, data));
      return ecdsa ? ecdsaSignatureToDer(signature) : signature;
    },
  };
}

function attribute(type: string, value: Uint8Array): Uint8Array {
  return sequence(oid(type), setOf(value));
}

interface EnvelopeParts {
  /** SignedData fields before `certificates`, as sent (version, digestAlgorithms, encapContentInfo). */
  signedDataHead: Uint8Array[];
  certificates: Uint8Array[];
  crls: Uint8Array[];
  /** SignerInfo fields before `unsignedAttrs`, as sent. */
  signerInfoHead: Uint8Array[];
  unsignedAttributes: Uint8Array[];
  parentSignature: Uint8Array;
}

/** The envelope's parts, each as sent, the way src/sign/cms.ts reads them. */
function splitEnvelope(envelope: Uint8Array): EnvelopeParts {
  const contentInfo = readSequence(readDer(envelope, 'the envelope'), 'ContentInfo');
  if (readOid(contentInfo[0], 'ContentInfo.contentType') !== OID.signedData) throw new Error('it is not a CMS SignedData');
  const fields = readSequence(childrenOf(expectTag(contentInfo[1], contextTag(0, true), 'content'), 'content')[0], 'SignedData');
  const signedDataHead = fields.slice(0, 3).map((f) => f.bytes);
  let certificates: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  let i = 3;
  if (fields[i]?.tag === contextTag(0, true)) certificates = childrenOf(fields[i++]!, 'certificates').map((c) => c.bytes);
  if (fields[i]?.tag === contextTag(1, true)) crls.push(fields[i++]!.bytes);
  const signerInfos = readSequence(fields[i], 'signerInfos', TAG.SET);
  if (signerInfos.length !== 1) throw new Error(`it has ${signerInfos.length} SignerInfos; a Chancery envelope has exactly one`);
  const si = readSequence(signerInfos[0], 'SignerInfo');
  const hasUnsigned = si[si.length - 1]?.tag === contextTag(1, true);
  const head = hasUnsigned ? si.slice(0, -1) : si;
  const signatureEl = expectTag(head[head.length - 1], TAG.OCTET_STRING, 'SignerInfo.signature');
  return {
    signedDataHead,
    certificates,
    crls,
    signerInfoHead: head.map((f) => f.bytes),
    unsignedAttributes: hasUnsigned ? childrenOf(si[si.length - 1]!, 'unsignedAttrs').map((a) => a.bytes) : [],
    parentSignature: signatureEl.value,
  };
}

/** DER order of SET OF elements (X.690 §11.6): by their encodings, octet by octet, a prefix first. */
function sortDer(items: readonly Uint8Array[]): Uint8Array[] {
  return [...items].sort(compareBytes);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function dedupe(certificates: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return certificates.filter((c) => {
    const key = toHex(c);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
