import { exportSpki } from '../crypto/keys.js';
import type { Signer } from '../crypto/signer.js';
import { encodeName, signatureAlgorithmIdentifier } from './certificate-builder.js';
import { pemEncode } from '../der/pem.js';
import { bitString, explicit, sequence, smallInteger } from '../der/writer.js';
import type { AttributeType } from './profiles.js';

/**
 * Makes a PKCS#10 request (RFC 2986) signed by a holder's Signer: what `chancery csr` writes. The
 * subject is optional — Chancery's CA decides the subject from its registry — so by default it is
 * empty.
 */
export async function buildCsr(
  signer: Signer,
  subject: ReadonlyArray<{ type: AttributeType; value: string }> = [],
): Promise<{ der: Buffer; pem: string }> {
  const info = sequence(smallInteger(0), encodeName(subject), exportSpki(signer.publicKey), explicit(0));
  const algorithm = signatureAlgorithmIdentifier(signer);
  const signature = await signer.sign(info);
  const der = sequence(info, algorithm, bitString(signature));
  return { der, pem: pemEncode('CERTIFICATE REQUEST', der) };
}
