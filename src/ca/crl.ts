import type { Signer } from '../crypto/signer.js';
import { extension, signatureAlgorithmIdentifier } from './certificate-builder.js';
import { TAG } from '../der/tags.js';
import { x509Time } from '../der/time.js';
import { bitString, explicit, implicitPrimitive, sequence, sequenceOf, smallInteger, unsignedInteger } from '../der/writer.js';
import { EXT } from '../oids.js';
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

/** Builds and signs the CRL; returns its DER. Any number of entries (the list is never spread into a call). */
export async function buildCrl(input: CrlInput): Promise<Buffer> {
  const algorithm = signatureAlgorithmIdentifier(input.signer);
  const revoked = input.entries.map((e) =>
    e.reason === 0
      ? sequence(unsignedInteger(serialBytes(e.serial)), x509Time(e.revokedAt))
      : sequence(
          unsignedInteger(serialBytes(e.serial)),
          x509Time(e.revokedAt),
          sequence(extension(EXT.crlReason, false, smallInteger(e.reason, TAG.ENUMERATED))),
        ),
  );
  const extensions = sequence(
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
    extension(EXT.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, input.issuerKeyIdentifier))),
    extension(EXT.crlNumber, false, smallInteger(input.number)),
  );
  const tbs = sequence(
    smallInteger(1), // v2
    algorithm,
    input.issuerName,
    x509Time(input.thisUpdate),
    x509Time(input.nextUpdate),
    ...(revoked.length > 0 ? [sequenceOf(revoked)] : []),
    explicit(0, extensions),
  );
  const signature = await input.signer.sign(tbs);
  return sequence(tbs, algorithm, bitString(signature));
}
