import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate, type Certificate } from '../../src/verify/certificate.js';
import { crlSource } from '../../src/verify/crl.js';
import { PURPOSE_ANY, PURPOSE_DOCUMENT_SIGNING, validatePath, type PathInput, type PathResult } from '../../src/verify/path.js';
import { inMemoryRevocation, noRevocation, unknownRevocation, type RevocationSource } from '../../src/verify/revocation.js';
import {
  DAY,
  directoryName,
  dnsName,
  makeCert,
  makeCrl,
  nameConstraints,
  rawExtension,
  simpleChain,
  x509,
  type TestCert,
} from './path-pki.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const DOC_SIGNING = '1.3.6.1.5.5.7.3.36';

function input(
  leaf: TestCert | Certificate,
  intermediates: Array<TestCert | Certificate>,
  anchors: Array<TestCert | Certificate>,
  more: Partial<PathInput> = {},
): PathInput {
  const c = (x: TestCert | Certificate): Certificate => ('certificate' in x ? x.certificate : x);
  return {
    leaf: c(leaf),
    intermediates: intermediates.map(c),
    anchors: anchors.map(c),
    time: NOW,
    purpose: PURPOSE_DOCUMENT_SIGNING,
    revocation: noRevocation(),
    ...more,
  };
}

function failedCheck(r: PathResult): string {
  return r.checks.find((c) => c.result !== 'PASSED')?.message ?? '';
}

const validity = { notBefore: new Date(NOW.getTime() - 100 * DAY), notAfter: new Date(NOW.getTime() + 100 * DAY) };

describe('validatePath', () => {
  let root: TestCert;
  let issuing: TestCert;
  let leaf: TestCert;

  beforeAll(async () => {
    ({ root, issuing, leaf } = await simpleChain(NOW));
  });

  it('passes a leaf → issuing CA → root path for document signing, with a readable check for every step', async () => {
    const r = await validatePath(input(leaf, [issuing], [root]));
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.subIndication).toBeUndefined();
    expect(r.path.map((c) => c.subject.attribute('2.5.4.3')[0])).toEqual([
      'Fuzhou Minjiang Foods',
      'Path Test Issuing CA',
      'Path Test Root',
    ]);
    const ids = r.checks.map((c) => c.id);
    expect(ids.filter((i) => i === 'path.signature')).toHaveLength(2);
    expect(ids.filter((i) => i === 'path.validity')).toHaveLength(3);
    expect(ids.filter((i) => i === 'path.revocation')).toHaveLength(2);
    expect(ids).toContain('path.purpose');
    for (const check of r.checks) {
      expect(check.result).toBe('PASSED');
      expect(check.message).toMatch(/^[A-Z].*\.$/);
    }
  });

  it('finds the path whatever the order of the intermediates and despite decoys with the same name', async () => {
    const decoy = await makeCert({ subject: issuing.subject, ca: true, issuer: root, ...validity });
    const stranger = await makeCert({ subject: 'CN=Unrelated CA', ca: true, ...validity });
    const r = await validatePath(input(leaf, [decoy, stranger, issuing, decoy], [root]));
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.path[1]!.der.equals(issuing.der)).toBe(true);
  });

  it('accepts the leaf passed in as its own trust anchor only for its purpose', async () => {
    const self = await makeCert({ subject: 'CN=Self', eku: [DOC_SIGNING], ...validity });
    const r = await validatePath(input(self, [], [self]));
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(r.path).toHaveLength(1);
  });

  describe('time', () => {
    it('reports a leaf expired at the validation time as OUT_OF_BOUNDS_NO_POE (INDETERMINATE)', async () => {
      const r = await validatePath(input(leaf, [issuing], [root], { time: new Date(leaf.certificate.notAfter.getTime() + 1000) }));
      expect([r.indication, r.subIndication]).toEqual(['INDETERMINATE', 'OUT_OF_BOUNDS_NO_POE']);
      expect(failedCheck(r)).toMatch(/expired on/);
    });

    it('reports OUT_OF_BOUNDS_NOT_REVOKED when revocation shows the expired leaf was not revoked', async () => {
      const revocation = inMemoryRevocation([
        { issuer: root.certificate, revoked: [] },
        { issuer: issuing.certificate, revoked: [] },
      ]);
      const r = await validatePath(
        input(leaf, [issuing], [root], { time: new Date(leaf.certificate.notAfter.getTime() + 1000), revocation }),
      );
      expect(r.subIndication).toBe('OUT_OF_BOUNDS_NOT_REVOKED');
    });

    it('reports a certificate used before its notBefore as NOT_YET_VALID (TOTAL_FAILED)', async () => {
      const r = await validatePath(input(leaf, [issuing], [root], { time: new Date(leaf.certificate.notBefore.getTime() - 1000) }));
      expect([r.indication, r.subIndication]).toEqual(['TOTAL_FAILED', 'NOT_YET_VALID']);
    });

    it('reports an expired intermediate and an expired trust anchor too', async () => {
      const oldRoot = await makeCert({
        subject: 'CN=Old Root',
        ca: true,
        notBefore: new Date(NOW.getTime() - 400 * DAY),
        notAfter: new Date(NOW.getTime() - DAY),
      });
      const ica = await makeCert({ subject: 'CN=ICA', ca: true, issuer: oldRoot, ...validity });
      const ee = await makeCert({ subject: 'CN=EE', issuer: ica, eku: [DOC_SIGNING], ...validity });
      const r = await validatePath(input(ee, [ica], [oldRoot]));
      expect(r.subIndication).toBe('OUT_OF_BOUNDS_NO_POE');
      expect(r.checks.find((c) => c.result === 'FAILED')?.certificateIndex).toBe(2);
    });

    it('compares the validation time in whole seconds (X.509 validity has no fractions)', async () => {
      const r = await validatePath(input(leaf, [issuing], [root], { time: new Date(leaf.certificate.notAfter.getTime() + 999) }));
      expect(r.indication).toBe('TOTAL_PASSED');
    });
  });

  describe('revocation', () => {
    it('reports a leaf revoked before the validation time as REVOKED, and passes it before the revocation', async () => {
      const revokedAt = new Date(NOW.getTime() - DAY);
      const revocation = inMemoryRevocation([
        { issuer: root.certificate, revoked: [] },
        {
          issuer: issuing.certificate,
          revoked: [{ serialNumberHex: leaf.certificate.serialNumberHex, revokedAt, reason: 'keyCompromise' }],
        },
      ]);
      const r = await validatePath(input(leaf, [issuing], [root], { revocation }));
      expect([r.indication, r.subIndication]).toEqual(['TOTAL_FAILED', 'REVOKED']);
      expect(failedCheck(r)).toMatch(/revoked on .*keyCompromise/);
      const before = await validatePath(input(leaf, [issuing], [root], { revocation, time: new Date(revokedAt.getTime() - 60_000) }));
      expect(before.indication).toBe('TOTAL_PASSED');
    });

    it('reports REVOKED rather than expiry when an expired certificate was also revoked', async () => {
      const revocation = inMemoryRevocation([
        { issuer: root.certificate, revoked: [] },
        { issuer: issuing.certificate, revoked: [{ serialNumberHex: leaf.certificate.serialNumberHex, revokedAt: NOW }] },
      ]);
      const r = await validatePath(
        input(leaf, [issuing], [root], { revocation, time: new Date(leaf.certificate.notAfter.getTime() + DAY) }),
      );
      expect(r.subIndication).toBe('REVOKED');
    });

    it('reports an intermediate CA revoked on the root CRL as REVOKED', async () => {
      const rootCrl = await makeCrl(root, [{ serialHex: issuing.certificate.serialNumberHex, at: new Date(NOW.getTime() - 2 * DAY) }], {
        thisUpdate: new Date(NOW.getTime() - DAY),
        nextUpdate: new Date(NOW.getTime() + 6 * DAY),
      });
      const issuingCrl = await makeCrl(issuing, [], {
        thisUpdate: new Date(NOW.getTime() - DAY),
        nextUpdate: new Date(NOW.getTime() + 6 * DAY),
      });
      const r = await validatePath(input(leaf, [issuing], [root], { revocation: crlSource([rootCrl, issuingCrl]) }));
      expect(r.subIndication).toBe('REVOKED');
      expect(r.checks.find((c) => c.subIndication === 'REVOKED')?.certificateIndex).toBe(1);
    });

    it('passes with current CRLs for every certificate below the anchor', async () => {
      const rootCrl = await makeCrl(root, [], { thisUpdate: new Date(NOW.getTime() - DAY), nextUpdate: new Date(NOW.getTime() + 6 * DAY) });
      const issuingCrl = await makeCrl(issuing, [{ serialHex: '0bad', at: new Date(NOW.getTime() - DAY) }], {
        thisUpdate: new Date(NOW.getTime() - DAY),
        nextUpdate: new Date(NOW.getTime() + 6 * DAY),
      });
      const r = await validatePath(input(leaf, [issuing], [root], { revocation: crlSource([rootCrl, issuingCrl]) }));
      expect(r.indication).toBe('TOTAL_PASSED');
    });

    it('is INDETERMINATE (TRY_LATER) when the status cannot be established, never passed', async () => {
      const r = await validatePath(input(leaf, [issuing], [root], { revocation: unknownRevocation('the responder is down') }));
      expect([r.indication, r.subIndication]).toEqual(['INDETERMINATE', 'TRY_LATER']);
      const rootCrl = await makeCrl(root, [], { thisUpdate: new Date(NOW.getTime() - DAY), nextUpdate: new Date(NOW.getTime() + 6 * DAY) });
      const stale = await makeCrl(issuing, [], {
        thisUpdate: new Date(NOW.getTime() - 10 * DAY),
        nextUpdate: new Date(NOW.getTime() - 3 * DAY),
      });
      const r2 = await validatePath(input(leaf, [issuing], [root], { revocation: crlSource([rootCrl, stale]) }));
      expect(r2.subIndication).toBe('TRY_LATER');
      expect(failedCheck(r2)).toMatch(/superseded/);
    });

    it('asks about every certificate below the trust anchor and never about the anchor', async () => {
      const asked: string[] = [];
      const spy: RevocationSource = {
        status: (cert) => {
          asked.push(cert.subject.attribute('2.5.4.3')[0]!);
          return Promise.resolve({ status: 'good', source: 'spy' });
        },
      };
      await validatePath(input(leaf, [issuing], [root], { revocation: spy }));
      expect(asked.sort()).toEqual(['Fuzhou Minjiang Foods', 'Path Test Issuing CA']);
    });

    it('treats a revocation source that throws as unknown', async () => {
      const r = await validatePath(
        input(leaf, [issuing], [root], { revocation: { status: () => Promise.reject(new Error('socket hang up')) } }),
      );
      expect(r.subIndication).toBe('TRY_LATER');
      expect(failedCheck(r)).toMatch(/socket hang up/);
    });
  });

  describe('signatures and algorithms', () => {
    it('reports a tampered certificate signature as CERTIFICATE_CHAIN_GENERAL_FAILURE', async () => {
      const der = Buffer.from(leaf.der);
      der.writeUInt8(der.readUInt8(der.length - 5) ^ 0x01, der.length - 5);
      const r = await validatePath(input(parseCertificate(der), [issuing], [root]));
      expect([r.indication, r.subIndication]).toEqual(['INDETERMINATE', 'CERTIFICATE_CHAIN_GENERAL_FAILURE']);
      expect(failedCheck(r)).toMatch(/does not verify/);
    });

    it('reports a tampered certificate body (a changed subject) the same way', async () => {
      const der = Buffer.from(leaf.der);
      const at = der.indexOf(Buffer.from('Fuzhou'));
      der.writeUInt8('G'.charCodeAt(0), at);
      const r = await validatePath(input(parseCertificate(der), [issuing], [root]));
      expect(r.subIndication).toBe('CERTIFICATE_CHAIN_GENERAL_FAILURE');
    });

    it('refuses a chain through an RSA-1024 CA as CRYPTO_CONSTRAINTS_FAILURE naming the reason', async () => {
      const weak = await makeCert({ subject: 'CN=Weak CA', ca: true, issuer: root, keyAlg: 'RSA-1024', ...validity });
      const ee = await makeCert({ subject: 'CN=EE', issuer: weak, eku: [DOC_SIGNING], ...validity });
      const r = await validatePath(input(ee, [weak], [root]));
      expect(r.subIndication).toBe('CRYPTO_CONSTRAINTS_FAILURE');
      expect(failedCheck(r)).toMatch(/1024 bits/);
    });

    it('validates Ed25519, P-384 and RSA-2048 links', async () => {
      const ed = await makeCert({ subject: 'CN=Ed CA', ca: true, issuer: root, keyAlg: 'Ed25519', ...validity });
      const rsa = await makeCert({ subject: 'CN=RSA CA', ca: true, issuer: ed, keyAlg: 'RSA-2048', ...validity });
      const ee = await makeCert({ subject: 'CN=EE', issuer: rsa, keyAlg: 'P-384', eku: [DOC_SIGNING], ...validity });
      const r = await validatePath(input(ee, [ed, rsa], [root]));
      expect(r.indication, failedCheck(r)).toBe('TOTAL_PASSED');
    });
  });

  describe('constraints', () => {
    it('reports a leaf without the documentSigning EKU as CHAIN_CONSTRAINTS_FAILURE', async () => {
      const ee = await makeCert({ subject: 'CN=EE', issuer: issuing, eku: ['1.3.6.1.5.5.7.3.2'], ...validity });
      const r = await validatePath(input(ee, [issuing], [root]));
      expect([r.indication, r.subIndication]).toEqual(['INDETERMINATE', 'CHAIN_CONSTRAINTS_FAILURE']);
      expect(failedCheck(r)).toMatch(/1\.3\.6\.1\.5\.5\.7\.3\.36/);
      const none = await makeCert({ subject: 'CN=EE', issuer: issuing, ...validity });
      expect((await validatePath(input(none, [issuing], [root]))).subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
    });

    it('requires digitalSignature or nonRepudiation of a document-signing leaf', async () => {
      const ee = await makeCert({
        subject: 'CN=EE',
        issuer: issuing,
        eku: [DOC_SIGNING],
        keyUsage: x509.KeyUsageFlags.keyEncipherment,
        ...validity,
      });
      const r = await validatePath(input(ee, [issuing], [root]));
      expect(r.subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
      const nr = await makeCert({
        subject: 'CN=EE',
        issuer: issuing,
        eku: [DOC_SIGNING],
        keyUsage: x509.KeyUsageFlags.nonRepudiation,
        ...validity,
      });
      expect((await validatePath(input(nr, [issuing], [root]))).indication).toBe('TOTAL_PASSED');
    });

    it('refuses an intermediate that is not a CA, or lacks keyCertSign', async () => {
      const notCa = await makeCert({ subject: 'CN=Not a CA', issuer: root, ...validity });
      const ee = await makeCert({ subject: 'CN=EE', issuer: notCa, eku: [DOC_SIGNING], ...validity });
      const r = await validatePath(input(ee, [notCa], [root]));
      expect(r.subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
      expect(failedCheck(r)).toMatch(/not a CA/);
      const noSign = await makeCert({
        subject: 'CN=No Sign CA',
        ca: true,
        keyUsage: x509.KeyUsageFlags.cRLSign,
        issuer: root,
        ...validity,
      });
      const ee2 = await makeCert({ subject: 'CN=EE', issuer: noSign, eku: [DOC_SIGNING], ...validity });
      expect(failedCheck(await validatePath(input(ee2, [noSign], [root])))).toMatch(/keyCertSign/);
    });

    it('enforces pathLenConstraint, not counting self-issued intermediates', async () => {
      const ica = await makeCert({ subject: 'CN=ICA', ca: true, pathLen: 0, issuer: root, ...validity });
      const sub = await makeCert({ subject: 'CN=Sub', ca: true, issuer: ica, ...validity });
      const ee = await makeCert({ subject: 'CN=EE', issuer: sub, eku: [DOC_SIGNING], ...validity });
      const r = await validatePath(input(ee, [ica, sub], [root]));
      expect(r.subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
      expect(failedCheck(r)).toMatch(/path length/);
      // A key rollover: ICA' (new key) issued by ICA (old key), same name — self-issued, not counted.
      const rolled = await makeCert({ subject: 'CN=ICA', ca: true, issuer: ica, ...validity });
      const ee2 = await makeCert({ subject: 'CN=EE', issuer: rolled, eku: [DOC_SIGNING], ...validity });
      const r2 = await validatePath(input(ee2, [ica, rolled], [root]));
      expect(r2.indication, failedCheck(r2)).toBe('TOTAL_PASSED');
      expect(r2.path).toHaveLength(4);
    });

    it('applies DNS name constraints from the trust anchor itself', async () => {
      const ncRoot = await makeCert({
        subject: 'CN=NC Root',
        ca: true,
        extensions: [nameConstraints([dnsName('example.com')], [dnsName('bad.example.com')])],
        ...validity,
      });
      const good = await makeCert({
        subject: 'CN=good',
        issuer: ncRoot,
        eku: [DOC_SIGNING],
        san: [{ type: 'dns', value: 'www.example.com' }],
        ...validity,
      });
      const outside = await makeCert({
        subject: 'CN=outside',
        issuer: ncRoot,
        eku: [DOC_SIGNING],
        san: [{ type: 'dns', value: 'example.org' }],
        ...validity,
      });
      const excluded = await makeCert({
        subject: 'CN=excluded',
        issuer: ncRoot,
        eku: [DOC_SIGNING],
        san: [{ type: 'dns', value: 'x.bad.example.com' }],
        ...validity,
      });
      expect((await validatePath(input(good, [], [ncRoot]))).indication).toBe('TOTAL_PASSED');
      const r = await validatePath(input(outside, [], [ncRoot]));
      expect(r.subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
      expect(failedCheck(r)).toMatch(/outside the permitted subtrees/);
      expect(failedCheck(await validatePath(input(excluded, [], [ncRoot])))).toMatch(/excluded subtree/);
    });

    it('intersects permitted subtrees down the path: a lower CA cannot widen them', async () => {
      const ica1 = await makeCert({
        subject: 'CN=ICA1',
        ca: true,
        issuer: root,
        extensions: [nameConstraints([dnsName('bar.example.com')], undefined)],
        ...validity,
      });
      const ica2 = await makeCert({
        subject: 'CN=ICA2',
        ca: true,
        issuer: ica1,
        extensions: [nameConstraints([dnsName('foo.example.com'), dnsName('bar.example.com')], undefined)],
        ...validity,
      });
      const ee = await makeCert({
        subject: 'CN=EE',
        issuer: ica2,
        eku: [DOC_SIGNING],
        san: [{ type: 'dns', value: 'foo.example.com' }],
        ...validity,
      });
      expect((await validatePath(input(ee, [ica1, ica2], [root]))).subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
    });

    it('applies directoryName constraints to subject names', async () => {
      const ica = await makeCert({
        subject: 'C=CN, O=Registry, CN=Scoped CA',
        ca: true,
        issuer: root,
        extensions: [nameConstraints([directoryName('C=CN, O=Registry')], undefined)],
        ...validity,
      });
      const inside = await makeCert({ subject: 'C=CN, O=Registry, CN=Inside', issuer: ica, eku: [DOC_SIGNING], ...validity });
      const outside = await makeCert({ subject: 'C=CN, O=Elsewhere, CN=Outside', issuer: ica, eku: [DOC_SIGNING], ...validity });
      expect((await validatePath(input(inside, [ica], [root]))).indication).toBe('TOTAL_PASSED');
      expect((await validatePath(input(outside, [ica], [root]))).subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
    });

    it('refuses an unknown critical extension on the leaf, an intermediate or the anchor, and ignores non-critical ones', async () => {
      const unknown = rawExtension('1.3.6.1.4.1.55555.1', true);
      const eeBad = await makeCert({ subject: 'CN=EE', issuer: issuing, eku: [DOC_SIGNING], extensions: [unknown], ...validity });
      expect(failedCheck(await validatePath(input(eeBad, [issuing], [root])))).toMatch(/critical extension.*1\.3\.6\.1\.4\.1\.55555\.1/);
      const icaBad = await makeCert({ subject: 'CN=ICA', ca: true, issuer: root, extensions: [unknown], ...validity });
      const ee = await makeCert({ subject: 'CN=EE', issuer: icaBad, eku: [DOC_SIGNING], ...validity });
      expect((await validatePath(input(ee, [icaBad], [root]))).subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
      const rootBad = await makeCert({ subject: 'CN=Root', ca: true, extensions: [unknown], ...validity });
      const ee2 = await makeCert({ subject: 'CN=EE', issuer: rootBad, eku: [DOC_SIGNING], ...validity });
      expect((await validatePath(input(ee2, [], [rootBad]))).subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
      const eeOk = await makeCert({
        subject: 'CN=EE',
        issuer: issuing,
        eku: [DOC_SIGNING],
        extensions: [rawExtension('1.3.6.1.4.1.55555.1', false)],
        ...validity,
      });
      expect((await validatePath(input(eeOk, [issuing], [root]))).indication).toBe('TOTAL_PASSED');
    });

    it('requires one of the required certificate policies when asked', async () => {
      const policy = '2.25.246176504630350160250129726162839165097.3.1';
      const ica = await makeCert({ subject: 'CN=ICA', ca: true, issuer: root, policies: ['2.5.29.32.0'], ...validity });
      const withPolicy = await makeCert({ subject: 'CN=EE', issuer: ica, eku: [DOC_SIGNING], policies: [policy], ...validity });
      const other = await makeCert({ subject: 'CN=EE', issuer: ica, eku: [DOC_SIGNING], policies: ['1.2.3.4'], ...validity });
      const r = await validatePath(input(withPolicy, [ica], [root], { requiredPolicies: [policy] }));
      expect(r.indication, failedCheck(r)).toBe('TOTAL_PASSED');
      expect(r.policies).toEqual([policy]);
      expect((await validatePath(input(other, [ica], [root], { requiredPolicies: [policy] }))).subIndication).toBe(
        'CHAIN_CONSTRAINTS_FAILURE',
      );
      expect((await validatePath(input(other, [ica], [root]))).indication).toBe('TOTAL_PASSED');
    });

    it('matches an expected peer name against the subjectAltName only', async () => {
      const ee = await makeCert({
        subject: 'CN=www.example.com',
        issuer: issuing,
        san: [
          { type: 'dns', value: '*.example.com' },
          { type: 'ip', value: '192.0.2.7' },
        ],
        ...validity,
      });
      const at = (peerName: string): Promise<PathResult> => validatePath(input(ee, [issuing], [root], { purpose: PURPOSE_ANY, peerName }));
      expect((await at('www.example.com')).indication).toBe('TOTAL_PASSED');
      expect((await at('192.0.2.7')).indication).toBe('TOTAL_PASSED');
      expect((await at('a.b.example.com')).subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
      expect((await at('192.0.2.8')).subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
    });
  });

  describe('path building', () => {
    it('returns NO_CERTIFICATE_CHAIN_FOUND when the issuer is missing or not trusted', async () => {
      const r = await validatePath(input(leaf, [], [root]));
      expect([r.indication, r.subIndication]).toEqual(['INDETERMINATE', 'NO_CERTIFICATE_CHAIN_FOUND']);
      expect(failedCheck(r)).toMatch(/Path Test Issuing CA/);
      const otherRoot = await makeCert({ subject: 'CN=Other Root', ca: true, ...validity });
      expect((await validatePath(input(leaf, [issuing, root], [otherRoot]))).subIndication).toBe('NO_CERTIFICATE_CHAIN_FOUND');
    });

    it('backtracks past an expired intermediate to a valid one with the same name and key', async () => {
      const expired = await makeCert({
        subject: issuing.subject,
        keys: issuing.keys,
        ca: true,
        issuer: root,
        notBefore: new Date(NOW.getTime() - 900 * DAY),
        notAfter: new Date(NOW.getTime() - 800 * DAY),
      });
      const r = await validatePath(input(leaf, [expired, issuing], [root]));
      expect(r.indication).toBe('TOTAL_PASSED');
      expect(r.path[1]!.der.equals(issuing.der)).toBe(true);
    });

    it('cuts a cycle of cross-signed CAs that never reaches an anchor, quickly', async () => {
      const a = await makeCert({ subject: 'CN=A', ca: true, ...validity });
      const b = await makeCert({ subject: 'CN=B', ca: true, issuer: a, ...validity });
      const aByB = await makeCert({ subject: 'CN=A', keys: a.keys, ca: true, issuer: b, ...validity });
      const ee = await makeCert({ subject: 'CN=EE', issuer: a, eku: [DOC_SIGNING], ...validity });
      const started = performance.now();
      const r = await validatePath(input(ee, [a, b, aByB], [root]));
      expect(performance.now() - started).toBeLessThan(5000);
      expect(r.subIndication).toBe('NO_CERTIFICATE_CHAIN_FOUND');
    });

    it('stops a chain of 40 certificates at the depth limit with a clean result', async () => {
      const chain: TestCert[] = [root];
      for (let i = 0; i < 40; i++)
        chain.push(await makeCert({ subject: `CN=Level ${i}`, ca: true, issuer: chain[chain.length - 1]!, ...validity }));
      const ee = await makeCert({ subject: 'CN=Deep EE', issuer: chain[chain.length - 1]!, eku: [DOC_SIGNING], ...validity });
      const intermediates = chain.slice(1).reverse();
      const r = await validatePath(input(ee, intermediates, [root]));
      expect([r.indication, r.subIndication]).toEqual(['INDETERMINATE', 'CHAIN_CONSTRAINTS_FAILURE']);
      expect(failedCheck(r)).toMatch(/8 intermediate/);
      const deeper = await validatePath(input(ee, intermediates, [root], { maxDepth: 40 }));
      expect(deeper.indication).toBe('TOTAL_PASSED');
      expect(deeper.path).toHaveLength(42);
    }, 60_000);

    it('honours maxDepth exactly', async () => {
      expect((await validatePath(input(leaf, [issuing], [root], { maxDepth: 1 }))).indication).toBe('TOTAL_PASSED');
      const r = await validatePath(input(leaf, [issuing], [root], { maxDepth: 0 }));
      expect(r.subIndication).toBe('CHAIN_CONSTRAINTS_FAILURE');
    });

    it('never throws and never passes without the genuine path, over shuffled and mutated pools (fixed seed)', async () => {
      const other = await makeCert({ subject: 'CN=Other Root', ca: true, ...validity });
      const sameNameOtherKey = await makeCert({ subject: issuing.subject, ca: true, issuer: other, ...validity });
      const pool: Buffer[] = [issuing.der, root.der, other.der, sameNameOtherKey.der, leaf.der];
      await fc.assert(
        fc.asyncProperty(
          fc.shuffledSubarray(pool),
          fc.array(fc.tuple(fc.integer({ min: 0, max: pool.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
          fc.boolean(),
          async (subset, mutations, trustOther) => {
            const mutated = new Map<number, Buffer>();
            for (const [which, at, value] of mutations) {
              const bytes = Buffer.from(mutated.get(which) ?? pool[which]!);
              bytes.writeUInt8(value, at % bytes.length);
              mutated.set(which, bytes);
            }
            const certs: Certificate[] = [];
            for (const der of subset) {
              const bytes = mutated.get(pool.indexOf(der)) ?? der;
              try {
                certs.push(parseCertificate(bytes));
              } catch {
                // an unparseable certificate never reaches the validator
              }
            }
            const leafBytes = mutated.get(4) ?? leaf.der;
            let leafCert: Certificate;
            try {
              leafCert = parseCertificate(leafBytes);
            } catch {
              return;
            }
            const r = await validatePath({
              leaf: leafCert,
              intermediates: certs,
              anchors: trustOther ? [other.certificate] : [root.certificate],
              time: NOW,
              purpose: PURPOSE_DOCUMENT_SIGNING,
              revocation: noRevocation(),
            });
            const genuine = !trustOther && leafCert.der.equals(leaf.der) && certs.some((c) => c.der.equals(issuing.der));
            if (r.indication === 'TOTAL_PASSED') expect(genuine).toBe(true);
            if (genuine) expect(r.indication).toBe('TOTAL_PASSED');
          },
        ),
        { seed: 6, numRuns: 300 },
      );
    }, 60_000);

    it('ends within its work budget on many same-name CAs with distinct keys', async () => {
      const pool: TestCert[] = [];
      for (let i = 0; i < 30; i++)
        pool.push(await makeCert({ subject: 'CN=Same Name CA', ca: true, issuer: pool[i - 1] ?? root, ...validity }));
      const ee = await makeCert({ subject: 'CN=EE', issuer: pool[pool.length - 1]!, eku: [DOC_SIGNING], ...validity });
      const started = performance.now();
      const r = await validatePath(input(ee, pool, [root], { maxDepth: 100 }));
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(['TOTAL_PASSED', 'INDETERMINATE']).toContain(r.indication);
    }, 60_000);
  });
});

describe('name constraints on a very large certificate', () => {
  it('checks 300,000 subjectAltNames against 300,000 excluded subtrees without overflowing the stack (refused by the work bound)', async () => {
    const { addNameConstraints, checkNames, initialNameConstraints } = await import('../../src/verify/path/name-constraints.js');
    const state = initialNameConstraints();
    const excluded = Array.from({ length: 300_000 }, (_, i) => ({ base: { type: 'dns' as const, value: `x${i}.example` } }));
    expect(addNameConstraints(state, { excluded } as never)).toBeUndefined();
    expect(state.excluded).toHaveLength(300_000);
    const subjectAltName = Array.from({ length: 300_000 }, (_, i) => ({ type: 'dns' as const, value: `host${i}.example.org` }));
    const cert = { subject: { isEmpty: true, attribute: () => [] }, subjectAltName } as never;
    expect(checkNames(state, cert)).toContain('denial-of-service guard');
  });
});
