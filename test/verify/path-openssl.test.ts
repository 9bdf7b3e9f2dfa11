import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificates } from '../../src/verify/certificate.js';
import { crlSource } from '../../src/verify/crl.js';
import { PURPOSE_ANY, validatePath } from '../../src/verify/path.js';
import { noRevocation } from '../../src/verify/revocation.js';
import { CA_EXT, LEAF_EXT, OpensslPki } from './path-openssl.js';

/**
 * Chains made by the openssl CLI, validated by Chancery and by `openssl verify`: the two must
 * agree on every variant. (openssl is the outside implementation here; where the two are
 * expected to differ by design, the case is not in this table.)
 */

const DAY = 86_400_000;

interface Case {
  name: string;
  trusted: string;
  untrusted: string[];
  leaf: string;
  crls?: string[];
  at?: Date;
  expected: boolean;
}

describe('path validation agrees with openssl verify on openssl-made chains', () => {
  const pki = new OpensslPki();
  const cases: Case[] = [];

  beforeAll(() => {
    const now = Date.now();
    const root = pki.root('root');
    const int = pki.issue('int', 'root', `${CA_EXT}basicConstraints=critical,CA:TRUE,pathlen:1\n`);
    const leaf = pki.issue('leaf', 'int', LEAF_EXT);
    cases.push({ name: 'a valid root → intermediate → leaf chain', trusted: root, untrusted: [int], leaf, expected: true });
    cases.push({
      name: 'the same chain after the leaf expired',
      trusted: root,
      untrusted: [int],
      leaf,
      at: new Date(now + 400 * DAY),
      expected: false,
    });
    cases.push({
      name: 'the same chain before the certificates were issued',
      trusted: root,
      untrusted: [int],
      leaf,
      at: new Date(now - 2 * DAY),
      expected: false,
    });
    cases.push({ name: 'the chain without its intermediate', trusted: root, untrusted: [], leaf, expected: false });
    const other = pki.root('other-root');
    cases.push({ name: 'the chain against another root', trusted: other, untrusted: [int], leaf, expected: false });

    const notCa = pki.issue(
      'not-ca',
      'root',
      'basicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
    );
    const underNotCa = pki.issue('under-not-ca', 'not-ca', LEAF_EXT);
    cases.push({ name: 'an intermediate with CA:FALSE', trusted: root, untrusted: [notCa], leaf: underNotCa, expected: false });

    const noCertSign = pki.issue(
      'no-certsign',
      'root',
      'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
    );
    const underNoCertSign = pki.issue('under-no-certsign', 'no-certsign', LEAF_EXT);
    cases.push({
      name: 'an intermediate whose keyUsage lacks keyCertSign',
      trusted: root,
      untrusted: [noCertSign],
      leaf: underNoCertSign,
      expected: false,
    });

    const len0 = pki.issue('len0', 'root', `${CA_EXT}basicConstraints=critical,CA:TRUE,pathlen:0\n`);
    const sub = pki.issue('sub', 'len0', CA_EXT);
    const underSub = pki.issue('under-sub', 'sub', LEAF_EXT);
    cases.push({ name: 'a sub-CA below a pathlen:0 CA', trusted: root, untrusted: [len0, sub], leaf: underSub, expected: false });
    const subOk = pki.issue('sub-ok', 'int', CA_EXT);
    const underSubOk = pki.issue('under-sub-ok', 'sub-ok', LEAF_EXT);
    cases.push({ name: 'a sub-CA within pathlen:1', trusted: root, untrusted: [int, subOk], leaf: underSubOk, expected: true });

    const nc = pki.issue('nc', 'root', `${CA_EXT}nameConstraints=critical,permitted;DNS:example.com\n`);
    const inside = pki.issue('inside', 'nc', `${LEAF_EXT}subjectAltName=DNS:www.example.com\n`);
    const outside = pki.issue('outside', 'nc', `${LEAF_EXT}subjectAltName=DNS:www.example.org\n`);
    cases.push({ name: 'a SAN inside the permitted DNS subtree', trusted: root, untrusted: [nc], leaf: inside, expected: true });
    cases.push({ name: 'a SAN outside the permitted DNS subtree', trusted: root, untrusted: [nc], leaf: outside, expected: false });

    const unknownCritical = pki.issue('unknown-critical', 'int', `${LEAF_EXT}1.3.6.1.4.1.55555.9=critical,ASN1:NULL\n`);
    cases.push({
      name: 'a leaf with an unknown critical extension',
      trusted: root,
      untrusted: [int],
      leaf: unknownCritical,
      expected: false,
    });
    const unknownPlain = pki.issue('unknown-plain', 'int', `${LEAF_EXT}1.3.6.1.4.1.55555.9=ASN1:NULL\n`);
    cases.push({
      name: 'a leaf with an unknown non-critical extension',
      trusted: root,
      untrusted: [int],
      leaf: unknownPlain,
      expected: true,
    });

    const rsa = pki.issue('rsa-int', 'root', CA_EXT, { key: 'rsa:2048' });
    const ed = pki.issue('ed-leaf', 'rsa-int', LEAF_EXT, { key: 'ed25519' });
    cases.push({
      name: 'an Ed25519 leaf under an RSA-2048 intermediate under a P-384 root',
      trusted: root,
      untrusted: [rsa],
      leaf: ed,
      expected: true,
    });

    const tampered = pki.path('tampered.pem');
    const der = Buffer.from(readFileSync(leaf, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    der.writeUInt8(der.readUInt8(der.length - 3) ^ 0x40, der.length - 3);
    writeFileSync(
      tampered,
      `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`,
    );
    cases.push({ name: 'a leaf whose signature was altered', trusted: root, untrusted: [int], leaf: tampered, expected: false });

    const revoked = pki.issue('revoked-leaf', 'int', LEAF_EXT);
    const rootCrl = pki.crl('root');
    const intCrl = pki.crl('int', ['revoked-leaf']);
    cases.push({
      name: 'a leaf revoked on its issuer CRL',
      trusted: root,
      untrusted: [int],
      leaf: revoked,
      crls: [rootCrl, intCrl],
      expected: false,
    });
    cases.push({ name: 'a leaf not on the current CRLs', trusted: root, untrusted: [int], leaf, crls: [rootCrl, intCrl], expected: true });
    cases.push({ name: 'a leaf whose issuer has no CRL', trusted: root, untrusted: [int], leaf, crls: [rootCrl], expected: false });
  }, 120_000);

  it('agrees on every variant', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(18);
    const disagreements: string[] = [];
    for (const c of cases) {
      const openssl = pki.verify({
        trusted: c.trusted,
        untrusted: c.untrusted,
        leaf: c.leaf,
        ...(c.crls === undefined ? {} : { crls: c.crls }),
        ...(c.at === undefined ? {} : { attime: c.at }),
      });
      const r = await validatePath({
        leaf: parseCertificates(readFileSync(c.leaf))[0]!,
        intermediates: c.untrusted.flatMap((f) => parseCertificates(readFileSync(f))),
        anchors: parseCertificates(readFileSync(c.trusted)),
        time: c.at ?? new Date(),
        purpose: PURPOSE_ANY,
        revocation: c.crls === undefined ? noRevocation() : crlSource(c.crls.map((f) => readFileSync(f))),
      });
      const ours = r.indication === 'TOTAL_PASSED';
      if (ours !== openssl || ours !== c.expected) {
        disagreements.push(
          `${c.name}: openssl ${openssl ? 'accepts' : 'rejects'}, Chancery ${ours ? 'accepts' : `rejects (${r.subIndication}: ${r.checks.find((x) => x.result !== 'PASSED')?.message})`}, expected ${c.expected ? 'accept' : 'reject'}`,
        );
      }
    }
    expect(disagreements).toEqual([]);
  }, 120_000);
});
