import { exportSpki } from '../crypto/keys.js';
import type { Signer } from '../crypto/signer.js';
import { encodeName } from './certificate-builder.js';
import { bitString, explicit, nullValue, oid, sequence, smallInteger } from './der.js';
import { pemEncode } from './pem.js';
import type { AttributeType } from './profiles.js';

/**
 * Makes a PKCS#10 request (RFC 2986) signed by a holder's Signer: what `chancery csr` writes. The
 * subject is optional — Chancery's CA decides the subject from its registry — so by default it is
 * empty.
 */
export async function buildCsr(signer: Signer, subject: ReadonlyArray<{ type: AttributeType; value: string }> = []): Promise<{ der: Buffer; pem: string }> {
  const info = sequence(smallInteger(0), encodeName(subject), exportSpki(signer.publicKey), explicit(0));
  const algorithm = csrSignatureAlgorithm(signer);
  const signature = await signer.sign(info);
  const der = sequence(info, algorithm, bitString(signature));
  return { der, pem: pemEncode('CERTIFICATE REQUEST', der) };
}

function csrSignatureAlgorithm(signer: Signer): Buffer {
  switch (signer.algorithm) {
    case 'ES256':
      return sequence(oid('1.2.840.10045.4.3.2'));
    case 'ES384':
      return sequence(oid('1.2.840.10045.4.3.3'));
    case 'EdDSA':
      return sequence(oid('1.3.101.112'));
    case 'RS256':
      return sequence(oid('1.2.840.113549.1.1.11'), nullValue());
    case 'PS256': {
      // RSASSA-PSS-params: SHA-256, MGF1 with SHA-256, salt 32 (RFC 4055 §3.1).
      const sha256 = sequence(oid('2.16.840.1.101.3.4.2.1'));
      return sequence(
        oid('1.2.840.113549.1.1.10'),
        sequence(explicit(0, sha256), explicit(1, sequence(oid('1.2.840.113549.1.1.8'), sha256)), explicit(2, smallInteger(32))),
      );
    }
  }
}

