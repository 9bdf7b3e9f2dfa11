import type { Signer } from '../crypto/signer.js';
import { extension, signatureAlgorithmIdentifier } from './certificate-builder.js';
import { bitString, explicit, sequence, smallInteger, TAG, unsignedInteger, x509Time } from './der.js';
import { serialBytes } from './serial.js';

/** RFC 5280 §5 full CRLs (v2), signed by the issuing CA. */

export interface CrlEntry {
  serial: string;
  revokedAt: Date;
  /** CRLReason code; 0 (unspecified) is written as no reasonCode extension (RFC 5280 §5.3.1). */
  reason: number;
}

export interface CrlInput {
  issuerName: Buffer;
  issuerKeyIdentifier: Buffer;
  signer: Signer;
  number: number;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: readonly CrlEntry[];
}

const ID_CE_CRL_REASONS = '2.5.29.21';
const ID_CE_CRL_NUMBER = '2.5.29.20';
const ID_CE_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';

/** Builds and signs the CRL; returns its DER. */
export async function buildCrl(input: CrlInput): Promise<Buffer> {
  const algorithm = signatureAlgorithmIdentifier(input.signer);
  const revoked = input.entries.map((e) =>
    e.reason === 0
      ? sequence(unsignedInteger(serialBytes(e.serial)), x509Time(e.revokedAt))
      : sequence(unsignedInteger(serialBytes(e.serial)), x509Time(e.revokedAt), sequence(extension(ID_CE_CRL_REASONS, false, smallInteger(e.reason, TAG.enumerated)))),
  );
  const extensions = sequence(
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
    extension(ID_CE_AUTHORITY_KEY_IDENTIFIER, false, sequence(Buffer.concat([Buffer.from([0x80, input.issuerKeyIdentifier.length]), input.issuerKeyIdentifier]))),
    extension(ID_CE_CRL_NUMBER, false, smallInteger(input.number)),
  );
  const tbs = sequence(
    smallInteger(1), // v2
    algorithm,
    input.issuerName,
    x509Time(input.thisUpdate),
    x509Time(input.nextUpdate),
    ...(revoked.length > 0 ? [sequence(...revoked)] : []),
    explicit(0, extensions),
  );
  const signature = await input.signer.sign(tbs);
  return sequence(tbs, algorithm, bitString(signature));
}

