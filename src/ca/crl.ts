import type { Signer } from '../crypto/signer.js';
import { extension, signatureAlgorithmIdentifier } from './certificate-builder.js';
import { TAG } from '../der/tags.js';
import { x509Time } from '../der/time.js';
import { bitString, explicit, implicitPrimitive, sequence, sequenceOf, smallInteger, tlvOf, unsignedInteger } from '../der/writer.js';
import { EXT } from '../oids.js';
import { serialBytes } from './serial.js';

/** RFC 5280 §5 CRLs (v2), signed by the issuing CA: the full CRL, and one per partition. */

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
  /**
   * A partition's CRL: the issuingDistributionPoint (RFC 5280 §5.2.5, critical) naming `url`, the
   * exact URI its certificates' CRL distribution point carries (§6.3.3 (b)(2)(i) compares them).
   */
  partition?: { url: string; onlyContainsUserCerts: boolean };
}

/**
 * IssuingDistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL,
 * onlyContainsUserCerts [1] BOOLEAN DEFAULT FALSE, … }, with DistributionPointName ::= CHOICE {
 * fullName [0] GeneralNames, … } and GeneralName uniformResourceIdentifier [6] IA5String. IMPLICIT
 * tags (RFC 5280 Appendix A.2): a DEFAULT FALSE flag is left out (X.690 §11.5).
 */
export function issuingDistributionPoint(url: string, onlyContainsUserCerts: boolean): Buffer {
  const uri = implicitPrimitive(6, Buffer.from(url, 'ascii'));
  const fullName = tlvOf(0xa0, [uri]);
  const distributionPoint = tlvOf(0xa0, [fullName]);
  return onlyContainsUserCerts ? sequence(distributionPoint, implicitPrimitive(1, Buffer.from([0xff]))) : sequence(distributionPoint);
}

/** Builds and signs the CRL; returns its DER. Any number of entries (the list is never spread into a call). */
export async function buildCrl(input: CrlInput): Promise<Buffer> {
  const algorithm = signatureAlgorithmIdentifier(input.signer);
  // The entry extensions (one per reason code) and the revocation times (a cascade shares one) are
  // encoded once, not per entry: a partition holds up to ~100,000 entries.
  const reasons = new Map<number, Buffer>();
  const times = new Map<number, Buffer>();
  const revoked = input.entries.map((e) => {
    const at = e.revokedAt.getTime();
    let time = times.get(at);
    if (time === undefined) {
      if (times.size >= 4096) times.clear();
      time = x509Time(e.revokedAt);
      times.set(at, time);
    }
    if (e.reason === 0) return tlvOf(TAG.SEQUENCE, [unsignedInteger(serialBytes(e.serial)), time]);
    let reason = reasons.get(e.reason);
    if (reason === undefined) {
      reason = sequence(extension(EXT.crlReason, false, smallInteger(e.reason, TAG.ENUMERATED)));
      reasons.set(e.reason, reason);
    }
    return tlvOf(TAG.SEQUENCE, [unsignedInteger(serialBytes(e.serial)), time, reason]);
  });
  const extensions = sequence(
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
    extension(EXT.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, input.issuerKeyIdentifier))),
    extension(EXT.crlNumber, false, smallInteger(input.number)),
    ...(input.partition === undefined
      ? []
      : [
          extension(
            EXT.issuingDistributionPoint,
            true,
            issuingDistributionPoint(input.partition.url, input.partition.onlyContainsUserCerts),
          ),
        ]),
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
