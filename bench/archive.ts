import { sha256, sha256Hex } from '../src/crypto/digest.js';
import { OID } from '../src/oids.js';
import { loadPolicies } from '../src/policy/policy.js';
import { envelopeSignatureValue, signCms } from '../src/sign/cms.js';
import { verifyEnvelope, type VerifyEnvelopeInput } from '../src/verify/envelope.js';
import { inMemoryRevocation } from '../src/verify/revocation.js';
import { verifyArchiveChain, type ArchiveChain } from '../src/verify/timestamp.js';
import { createOpensslTsa } from '../test/helpers/openssl-timestamper.js';
import { annualReport, createTestPki } from '../test/verify/envelope-pki.js';
import { opsPerSecond, round } from './lib.js';

/**
 * `npm run bench -- archive`: what an archive time-stamp of the log costs the offline verifier.
 * Full validation of an envelope whose signer certificate has expired, dated by a two-link
 * archive chain (the older TSA certificate expired too, renewed by the newer token), against the
 * same envelope validated while its certificate is valid and without any proof, in the same run;
 * and the chain's own validation against raw ECDSA P-256 verifications. Tokens come from
 * `openssl ts -reply` (made once, outside the timing).
 */
export async function runArchiveBench(baseline: Record<string, number>): Promise<Record<string, unknown>> {
  const day = 86_400_000;
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const later = new Date(now.getTime() + 2 * 365 * day);
  const pki = await createTestPki(now);
  const oldTsa = await createOpensslTsa(pki, { issue: { commonName: 'Old Archive TSA', notAfter: new Date(now.getTime() + 30 * day) } });
  const newTsa = await createOpensslTsa(pki, { issue: { commonName: 'New Archive TSA' } });
  try {
    const ent = await pki.enterprise();
    const doc = annualReport();
    const policy = loadPolicies().require('annual-report');
    const revocation = inMemoryRevocation([
      { issuer: pki.issuing.certificate, revoked: [] },
      { issuer: pki.root.certificate, revoked: [] },
    ]);
    const envelope = await signCms({ signer: ent.signer, chain: ent.chain, content: doc, detached: false, time: now });
    const note1 = Buffer.from('bench/log\n10\n' + 'A'.repeat(43) + '=\n\n— bench/log x\n');
    const note2 = Buffer.from('bench/log\n25\n' + 'B'.repeat(43) + '=\n\n— bench/log y\n');
    const stamp = (t: typeof oldTsa, n: Buffer) => t.timestamp({ hashAlgorithm: OID.sha256, digest: sha256(n) });
    const chain: ArchiveChain = {
      links: [
        { token: await stamp(oldTsa, note1), note: note1, treeSize: 10, recordedUnderNext: true },
        { token: await stamp(newTsa, note2), note: note2, treeSize: 25, recordedUnderNext: false },
      ],
    };
    const proofsOfExistence = [
      { signatureValueSha256: sha256Hex(envelopeSignatureValue(envelope)), source: 'archive-timestamp' as const, chain, detail: 'bench' },
    ];
    const rate = async (input: VerifyEnvelopeInput): Promise<number> => {
      const check = await verifyEnvelope(input);
      if (check.indication !== 'TOTAL_PASSED') throw new Error(`bench envelope did not pass: ${check.subIndication}`);
      return opsPerSecond(() => verifyEnvelope(input), 3000);
    };
    const base = { envelope, anchors: pki.anchors, revocation, policy };
    const plainNow = await rate({ ...base, time: new Date(now.getTime() + 60_000) });
    const archivedLater = await rate({ ...base, time: later, proofsOfExistence });
    const context = { anchors: pki.anchors, intermediates: [pki.issuing.certificate], revocation, time: later };
    if ((await verifyArchiveChain(chain, context)).proofTime === undefined) throw new Error('bench chain is not trusted');
    const chainPerSec = await opsPerSecond(() => verifyArchiveChain(chain, context), 3000);
    return {
      envelopeValidNowPerSec: plainNow,
      envelopeExpiredWithArchiveChainPerSec: archivedLater,
      archiveChainVsPlainEnvelope: round(archivedLater / plainNow, 3),
      archiveChainTwoLinksPerSec: chainPerSec,
      archiveChainVsEcdsaVerify: round(chainPerSec / baseline['ecdsaP256VerifyPerSec']!, 4),
    };
  } finally {
    oldTsa.close();
    newTsa.close();
  }
}
