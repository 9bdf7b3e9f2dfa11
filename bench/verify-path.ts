import { CHANCERY_ALGORITHMS } from '../src/verify/algorithms.js';
import { parseCertificate } from '../src/verify/certificate.js';
import { PURPOSE_DOCUMENT_SIGNING, validatePath, type PathInput } from '../src/verify/path.js';
import { inMemoryRevocation } from '../src/verify/revocation.js';
import { DAY, makeCert, x509 } from '../test/verify/path-pki.js';
import { opsPerSecond, round } from './lib.js';

/**
 * `npm run bench -- path`: path validation of a 2-certificate chain (a P-256 leaf under a P-256
 * issuing CA under a P-384 root) for document signing, with an in-memory revocation lookup for
 * both certificates below the root, as a ratio to raw `crypto.verify` ECDSA P-256 measured in the
 * same run. Three figures:
 *  - `warm`: the Certificate objects are reused (parsed once); signature results come from the
 *    per-link cache; time, validity, constraints and revocation are re-checked every call.
 *  - `fromBytes`: the certificates are parsed from their DER bytes on every call (as an envelope
 *    validation does), which the parse cache answers.
 *  - `uncachedSignatures`: a fresh algorithm-policy object every call defeats the signature cache,
 *    so both certificate signatures (one P-256, one P-384) are verified each time.
 */
export async function runPathBench(baseline: Record<string, number>): Promise<Record<string, unknown>> {
  const now = new Date();
  const root = await makeCert({
    subject: 'C=CN, O=Bench, CN=Bench Root',
    ca: true,
    keyAlg: 'P-384',
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 3650 * DAY),
  });
  const issuing = await makeCert({
    subject: 'C=CN, O=Bench, CN=Bench Issuing CA',
    ca: true,
    pathLen: 0,
    issuer: root,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 1000 * DAY),
  });
  const leaf = await makeCert({
    subject: 'C=CN, O=Bench Enterprise, CN=Bench Enterprise',
    issuer: issuing,
    eku: ['1.3.6.1.5.5.7.3.36'],
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 365 * DAY),
  });
  const revocation = inMemoryRevocation([
    { issuer: root.certificate, revoked: [] },
    { issuer: issuing.certificate, revoked: [{ serialNumberHex: '0bad', revokedAt: new Date(now.getTime() - DAY) }] },
  ]);
  const base: PathInput = {
    leaf: leaf.certificate,
    intermediates: [issuing.certificate],
    anchors: [root.certificate],
    time: now,
    purpose: PURPOSE_DOCUMENT_SIGNING,
    revocation,
  };

  const check = async (input: PathInput): Promise<void> => {
    const r = await validatePath(input);
    if (r.indication !== 'TOTAL_PASSED') throw new Error(`bench path did not validate: ${r.subIndication}`);
  };
  await check(base);

  const warm = await opsPerSecond(() => check({ ...base, time: new Date() }));
  const fromBytes = await opsPerSecond(() =>
    check({
      ...base,
      leaf: parseCertificate(leaf.der),
      intermediates: [parseCertificate(issuing.der)],
      anchors: [parseCertificate(root.der)],
      time: new Date(),
    }),
  );
  const uncached = await opsPerSecond(() => check({ ...base, time: new Date(), algorithms: { ...CHANCERY_ALGORITHMS } }));

  const raw = baseline['ecdsaP256VerifyPerSec']!;
  return {
    chain: 'P-256 leaf ← P-256 issuing CA ← P-384 root, in-memory revocation, document-signing purpose',
    warmPerSec: warm,
    warmRatioToP256Verify: round(warm / raw, 2),
    fromBytesPerSec: fromBytes,
    fromBytesRatioToP256Verify: round(fromBytes / raw, 2),
    uncachedSignaturesPerSec: uncached,
    uncachedSignaturesRatioToP256Verify: round(uncached / raw, 3),
  };
}
