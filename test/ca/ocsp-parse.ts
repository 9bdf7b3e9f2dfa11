import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicOCSPResponse, OCSPResponse } from '@peculiar/asn1-ocsp';
import { importSpki } from '../../src/crypto/keys.js';
import { verifySignature } from '../../src/crypto/signature.js';
import { readCertificateFields } from '../../src/ca/certificate-fields.js';
import { childrenOf, readDer } from '../../src/der/reader.js';

export interface ParsedOcspResponse {
  /** RFC 6960 OCSPResponseStatus. */
  responseStatus: number;
  singles: Array<{ status: 'good' | 'revoked' | 'unknown'; revokedAt?: Date; reason?: number; serialHex: string }>;
  /** The echoed nonce extension value (extnValue contents), if any. */
  nonce?: Buffer;
  /** The responder signature verifies under the certificate it sent. */
  signatureValid?: boolean;
  producedAt?: Date;
}

/** Parses (with @peculiar/asn1-ocsp, an independent decoder) and checks an OCSP response for tests. */
export function parseOcspResponse(der: Buffer): ParsedOcspResponse {
  const response = AsnConvert.parse(der, OCSPResponse);
  if (response.responseBytes === undefined) return { responseStatus: response.responseStatus, singles: [] };
  const basicDer = Buffer.from(response.responseBytes.response.buffer);
  const basic = AsnConvert.parse(basicDer, BasicOCSPResponse);
  // The signed bytes are the exact tbsResponseData DER.
  const tbsDer = childrenOf(readDer(basicDer))[0]!.bytes;
  const responderDer = Buffer.from(AsnConvert.serialize(basic.certs![0]!));
  const key = importSpki(readCertificateFields(responderDer).spki);
  const signatureValid = verifySignature({ kind: 'ecdsa', hash: 'sha256', encoding: 'der' }, key, tbsDer, Buffer.from(basic.signature));
  const nonceExt = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === '1.3.6.1.5.5.7.48.1.2');
  return {
    responseStatus: response.responseStatus,
    signatureValid,
    producedAt: basic.tbsResponseData.producedAt,
    ...(nonceExt === undefined ? {} : { nonce: Buffer.from(nonceExt.extnValue.buffer) }),
    singles: basic.tbsResponseData.responses.map((s) => {
      const serialHex = Buffer.from(s.certID.serialNumber).toString('hex');
      if (s.certStatus.good !== undefined) return { status: 'good' as const, serialHex };
      if (s.certStatus.revoked !== undefined) {
        return {
          status: 'revoked' as const,
          serialHex,
          revokedAt: s.certStatus.revoked.revocationTime,
          ...(s.certStatus.revoked.revocationReason === undefined
            ? {}
            : { reason: Number((s.certStatus.revoked.revocationReason as unknown as { reason: number }).reason) }),
        };
      }
      return { status: 'unknown' as const, serialHex };
    }),
  };
}
