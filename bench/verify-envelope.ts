import { loadPolicies } from '../src/policy/policy.js';
import { signCms } from '../src/sign/cms.js';
import { signJws } from '../src/sign/jws.js';
import { crlSource } from '../src/verify/crl.js';
import { verifyEnvelope, type VerifyEnvelopeInput } from '../src/verify/envelope.js';
import { inMemoryRevocation } from '../src/verify/revocation.js';
import { annualReport, createTestPki } from '../test/verify/envelope-pki.js';
import { opsPerSecond, round } from './lib.js';

/**
 * `npm run bench -- envelope`: full validation of one envelope in process — parse, signed
 * attributes, ESS binding, signature, path (P-256 signer, issuing CA, root anchor), revocation
 * lookup of every certificate below the anchor, document schema and applicant binding under the
 * annual-report policy. Detached CMS and general JWS, each as a ratio to raw `crypto.verify`
 * ECDSA P-256 from the same run (target ≥ 0.2× for CMS). Revocation is looked up two ways: an
 * in-memory revocation list (the shape of the service's database source, without the database)
 * and supplied CRLs (their signatures are checked by the CRL source).
 */
export async function runEnvelopeBench(baseline: Record<string, number>): Promise<Record<string, unknown>> {
  const now = new Date('2026-03-01T08:00:00Z');
  const pki = await createTestPki(now);
  const ent = await pki.enterprise();
  const doc = annualReport();
  const policy = loadPolicies().require('annual-report');
  const memory = inMemoryRevocation([
    { issuer: pki.issuing.certificate, revoked: [{ serialNumberHex: 'ff01', revokedAt: now }] },
    { issuer: pki.root.certificate, revoked: [] },
  ]);
  const crls = crlSource([await pki.crl([{ serialHex: 'ff01', at: now }]), await pki.crl([], { issuer: 'root' })]);
  const cms = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: true, time: now });
  const jws = Buffer.from(JSON.stringify(await signJws({ signer: ent.signer, chain: ent.chain, payload: doc, time: now })));
  const base = { anchors: pki.anchors, policy, time: new Date(now.getTime() + 60_000) };

  const rate = async (input: VerifyEnvelopeInput): Promise<number> => {
    const check = await verifyEnvelope(input);
    if (check.indication !== 'TOTAL_PASSED') throw new Error(`bench envelope did not pass: ${check.subIndication}`);
    return opsPerSecond(async () => {
      const r = await verifyEnvelope(input);
      if (r.indication !== 'TOTAL_PASSED') throw new Error('bench envelope stopped passing');
    }, 3000);
  };
  const ecdsa = baseline['ecdsaP256VerifyPerSec']!;
  const cmsMemory = await rate({ ...base, envelope: cms, content: doc, revocation: memory });
  const cmsCrl = await rate({ ...base, envelope: cms, content: doc, revocation: crls });
  const jwsMemory = await rate({ ...base, envelope: jws, revocation: memory });
  const jwsCrl = await rate({ ...base, envelope: jws, revocation: crls });
  return {
    cmsDetachedPerSec: cmsMemory,
    cmsDetachedRatio: round(cmsMemory / ecdsa, 3),
    cmsDetachedWithCrlsPerSec: cmsCrl,
    cmsDetachedWithCrlsRatio: round(cmsCrl / ecdsa, 3),
    jwsGeneralPerSec: jwsMemory,
    jwsGeneralRatio: round(jwsMemory / ecdsa, 3),
    jwsGeneralWithCrlsPerSec: jwsCrl,
    jwsGeneralWithCrlsRatio: round(jwsCrl / ecdsa, 3),
    target: 'cmsDetachedRatio >= 0.2',
  };
}
