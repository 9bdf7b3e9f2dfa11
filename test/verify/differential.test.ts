import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCertificate, compileTemplate, encodeName, keyIdentifier, type IssuerContext } from '../../src/ca/certificate-builder.js';
import { buildCrl } from '../../src/ca/crl.js';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { parseCertificationRequest, type CertificationRequestData } from '../../src/ca/csr.js';
import { loadProfiles, type ProfileId } from '../../src/ca/profiles.js';
import { exportSpki, importSpki } from '../../src/crypto/keys.js';
import { generateUserKey, signerFromPem, type UserKeyAlgorithm } from '../../src/crypto/private-key-file.js';
import type { Signer } from '../../src/crypto/signer.js';
import { pemDecodeAll, pemEncode } from '../../src/der/pem.js';
import { countersignCms, signCms } from '../../src/sign/cms.js';
import { parseCertificate, type Certificate } from '../../src/verify/certificate.js';
import { parseCmsSignedData, type CmsSignedData } from '../../src/verify/cms-parse.js';
import { parseCrl, type Crl } from '../../src/verify/crl.js';
import { parseNameDer, type Name } from '../../src/verify/name.js';
import { vectorSuite } from '../helpers/vectors.js';
import {
  MUTATION_KINDS,
  mutate,
  NAME_OPTIONS,
  opensslEach,
  opensslNames,
  opensslOnce,
  prng,
  type OpensslRun,
} from './differential-support.js';
import { printedExtensions, printedNameValues } from './differential-support.js';
import { annualReport } from './envelope-pki.js';

/**
 * Differential test of our hand-written DER parsers against outside ones: node's
 * crypto.X509Certificate (OpenSSL's d2i_X509) for certificates, and the openssl CLI for CRLs
 * (`openssl crl`), PKCS#10 requests (`openssl req`), CMS envelopes (`openssl cms -cmsout -print`)
 * and certificate extensions (`openssl storeutl -text`). Inputs: the certificates and CRLs of the
 * x509-limbo and PKITS vectors (wycheproof holds no certificate material), what the project's
 * own CA and signing code and openssl make at test time, and a few thousand seeded mutations of
 * those (bit flips, inserted and deleted bytes, changed length octets, BER length forms,
 * truncations). Both sides must agree on accept/reject and on the decoded fields; every
 * disagreement is either a bug to fix or one of the ALLOWED reasons below, each with the clause
 * that makes our answer the right one. The counts are printed as one JSON line.
 */

const SEED = 0x5280_0690;
const MUTATIONS = { certificate: 2400, crl: 420, csr: 240, cms: 420 } as const;

/** Why our answer may differ from the outside parser's, with the clause that makes ours right. */
const ALLOWED: Record<string, string> = {
  'ber-length': 'X.690 §10.1: DER lengths use the definite form with the fewest octets; the other parser also decodes BER lengths',
  'ber-indefinite-length': 'X.690 §10.1: DER uses the definite form only; the indefinite form (0x80 … 00 00) is BER',
  'trailing-bytes':
    'X.690 §8.1.1: an encoding is identifier, length and contents, nothing after it; the input is one value (RFC 5280 §4.1, ' +
    'RFC 2986 §4, RFC 5652 §3), where node and openssl read one value and ignore the rest',
  'der-boolean': 'X.690 §11.1: a DER BOOLEAN TRUE is 0xFF; the other parser takes any non-zero octet',
  'der-time':
    'RFC 5280 §4.1.2.5.1, §4.1.2.5.2, §5.1.2.4 (X.690 §11.7, §11.8): a time is YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ of a real ' +
    'instant; openssl checks the text only when it prints it',
  'der-constructed':
    'X.690 §8.9.1, §8.11.1: a SEQUENCE or SET is encoded constructed; the other parser takes the tag with the constructed bit cleared',
  'der-primitive-string':
    'X.690 §10.2: DER encodes string types (OCTET STRING, BIT STRING, character strings) primitive; the constructed form is BER',
  'key-unreadable':
    "RFC 5280 §4.1.2.7: subjectPublicKey is a BIT STRING whose contents the certificate's DER does not constrain; ours parses the " +
    'certificate and marks the key unreadable (publicKeyProblem, which path validation refuses), openssl refuses the whole certificate',
  'spki-normalized':
    'RFC 5280 §4.1.1.3: the signature covers the SubjectPublicKeyInfo as encoded, so ours keeps its bytes; node exports the key it ' +
    'decoded, re-encoded (the same key)',
  'name-value':
    'RFC 5280 §4.1.2.4: AttributeValue ::= ANY DEFINED BY AttributeType; a value that is not a valid directory string (X.680 §41: ' +
    'another type, malformed UTF-8, a letter in a NumericString) is kept as its bytes and compared exactly (RFC 5280 §7.1), where ' +
    'openssl refuses the whole name',
  'der-bitstring-unused-bits': 'X.690 §11.2.1: in DER, each unused bit in the final octet of a BIT STRING is zero',
  'certificate-version': 'RFC 5280 §4.1.2.1: the version is v1, v2 or v3; openssl reads a certificate of any version',
  'cms-version': 'RFC 5652 §5.1: SignedData.version is derived from the content (3 when eContentType is not id-data, etc.)',
  'csr-not-der':
    'RFC 2986 §4.2 and RFC 5280 §4.2: the signature covers the DER of CertificationRequestInfo, and an extension value is the DER ' +
    'of its type; openssl req reads the outer structure and leaves requested extensions undecoded',
  'cms-not-signed-data':
    'RFC 5652 §3, §5: the content type says what the content is; a Chancery envelope is id-signedData, anything else is not read as one',
};

interface Tally {
  inputs: number;
  agreeAccept: number;
  agreeReject: number;
  fieldsCompared: number;
  disagreements: Record<string, number>;
  unexplained: string[];
}

const newTally = (): Tally => ({ inputs: 0, agreeAccept: 0, agreeReject: 0, fieldsCompared: 0, disagreements: {}, unexplained: [] });

/** CHANCERY_DIFFERENTIAL_DUMP=<dir>: the bytes of each unexplained case are written there (to look at with openssl asn1parse). */
const DUMP = process.env['CHANCERY_DIFFERENTIAL_DUMP'];
let dumped = 0;

function disagree(t: Tally, reason: string | undefined, detail: string, bytes?: Uint8Array): void {
  if (reason !== undefined && reason in ALLOWED) {
    t.disagreements[reason] = (t.disagreements[reason] ?? 0) + 1;
    return;
  }
  if (DUMP !== undefined && bytes !== undefined) writeFileSync(join(DUMP, `${dumped++}.der`), bytes);
  if (t.unexplained.length < 40) t.unexplained.push(DUMP === undefined ? detail : `${dumped - 1}.der: ${detail}`);
  else if (t.unexplained.length === 40) t.unexplained.push('…');
}

/** Why we refused, when the reason is one of the allowed classes (our error messages name the rule). */
function ourRefusal(message: string): string | undefined {
  if (/non-minimal length encoding|long length form for a short length/.test(message)) return 'ber-length';
  if (/indefinite-length/.test(message)) return 'ber-indefinite-length';
  if (/bytes after its DER encoding/.test(message)) return 'trailing-bytes';
  if (/is not a DER BOOLEAN/.test(message)) return 'der-boolean';
  if (/non-zero unused bits/.test(message)) return 'der-bitstring-unused-bits';
  if (/certificate version \d+ is unknown/.test(message)) return 'certificate-version';
  if (/SignedData\.version is \d+; RFC 5652 §5\.1 requires/.test(message)) return 'cms-version';
  if (/^the CSR is not a DER PKCS#10 request/.test(message)) return 'csr-not-der';
  if (/is not a DER UTCTime|is not a DER GeneralizedTime|is not a real date|neither UTCTime nor GeneralizedTime/.test(message))
    return 'der-time';
  if (/not SignedData \(1\.2\.840\.113549\.1\.7\.2\)/.test(message)) return 'cms-not-signed-data';
  const tags = /has tag 0x([0-9a-f]{2}), expected 0x([0-9a-f]{2})/.exec(message);
  if (tags === null) return undefined;
  const [found, expected] = [parseInt(tags[1]!, 16), parseInt(tags[2]!, 16)];
  // The same tag but for the constructed bit (X.690 §8.1.2.5).
  if ((found ^ expected) === 0x20) return (expected & 0x20) !== 0 ? 'der-constructed' : 'der-primitive-string';
  return undefined;
}

/** A name with a value we keep as bytes (not a valid directory string): see 'name-value'. */
const opaqueValue = (...names: Name[]): boolean => names.some((n) => n.rdns.some((rdn) => rdn.some((a) => a.value === undefined)));

/** Why we accept a certificate OpenSSL refuses, when it is an allowed class. */
function whyWeAcceptCertificate(c: Certificate): string | undefined {
  if (opaqueValue(c.subject, c.issuer)) return 'name-value';
  if (c.tryPublicKey() === undefined) return 'key-unreadable';
  return undefined;
}

interface Input {
  source: string;
  bytes: Buffer;
}

/** Each input once (by bytes), in order. */
function unique(inputs: Input[]): Input[] {
  const seen = new Set<string>();
  return inputs.filter((i) => {
    const key = i.bytes.toString('latin1');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function mutations(bases: readonly Input[], count: number, rng: ReturnType<typeof prng>): Input[] {
  const out: Input[] = [];
  for (let i = 0; i < count; i++) {
    const base = bases[i % bases.length]!;
    const kind = MUTATION_KINDS[Math.floor(i / bases.length) % MUTATION_KINDS.length]!;
    const m = mutate(base.bytes, kind, rng);
    out.push({ source: `${base.source} / ${kind}: ${m.what}`, bytes: m.bytes });
  }
  return out;
}

const attempt = <T>(f: () => T): Attempt<T> => {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
};

/** Our name as the values of each RDN (undefined where the value is not a valid string: compared by count only). */
const ourValues = (name: Name): Array<Array<string | undefined>> => name.rdns.map((rdn) => rdn.map((a) => a.value));

function sameValues(ours: Array<Array<string | undefined>>, theirs: string[][]): boolean {
  if (ours.length !== theirs.length) return false;
  return ours.every((rdn, i) => rdn.length === theirs[i]!.length && rdn.every((v, k) => v === undefined || v === theirs[i]![k]));
}

const serialValue = (hex: string): bigint => {
  const v = BigInt(`0x${hex === '' ? '0' : hex}`);
  return (parseInt(hex.slice(0, 2) || '0', 16) & 0x80) !== 0 ? v - (1n << BigInt(hex.length * 4)) : v;
};
const nodeSerial = (s: string): bigint => (s.startsWith('-') ? -BigInt(`0x${s.slice(1)}`) : BigInt(`0x${s}`));
const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);
const printedTime = (text: string | undefined): number | undefined =>
  text === undefined ? undefined : seconds(new Date(text.replace(/\.\d+ /, ' ')));

// ---------------------------------------------------------------------------------------------
// The corpus

interface Corpus {
  certificates: Input[];
  crls: Input[];
  csrs: Input[];
  envelopes: Input[];
}

function pemInputs(source: string, text: string, label: string): Input[] {
  return (pemDecodeAll(text, [label]) ?? []).map((bytes, i) => ({ source: `${source}#${i}`, bytes }));
}

function vectorInputs(): { certificates: Input[]; crls: Input[] } {
  const certificates: Input[] = [];
  const crls: Input[] = [];
  const limbo = vectorSuite('x509-limbo');
  if (limbo !== undefined) {
    type Testcase = {
      id: string;
      trusted_certs: string[];
      untrusted_intermediates: string[];
      peer_certificate: string;
      crls?: string[] | null;
    };
    const suite = JSON.parse(readFileSync(join(limbo, 'limbo.json'), 'utf8')) as { testcases: Testcase[] };
    for (const t of suite.testcases) {
      for (const pem of [...t.trusted_certs, ...t.untrusted_intermediates, t.peer_certificate]) {
        certificates.push(...pemInputs(`limbo ${t.id}`, pem, 'CERTIFICATE'));
      }
      for (const pem of t.crls ?? []) crls.push(...pemInputs(`limbo ${t.id}`, pem, 'X509 CRL'));
    }
  }
  const pkits = vectorSuite('pkits');
  if (pkits !== undefined) {
    const files = JSON.parse(readFileSync(join(pkits, 'pkits-files.json'), 'utf8')) as {
      certificates: Record<string, string>;
      crls: Record<string, string>;
    };
    for (const [name, pem] of Object.entries(files.certificates)) certificates.push(...pemInputs(`pkits ${name}`, pem, 'CERTIFICATE'));
    for (const [name, pem] of Object.entries(files.crls)) crls.push(...pemInputs(`pkits ${name}`, pem, 'X509 CRL'));
    const legacy = join(pkits, 'nist-legacy-botan');
    for (const test of readdirSync(legacy).filter((d) => d.startsWith('test'))) {
      for (const file of readdirSync(join(legacy, test))) {
        const bytes = readFileSync(join(legacy, test, file));
        if (file.endsWith('.crt')) certificates.push({ source: `nist-legacy ${test}/${file}`, bytes });
        if (file.endsWith('.crl')) crls.push({ source: `nist-legacy ${test}/${file}`, bytes });
      }
    }
    for (const file of ['root.crt', 'root.crl']) {
      if (!existsSync(join(legacy, file))) continue;
      (file.endsWith('.crt') ? certificates : crls).push({ source: `nist-legacy ${file}`, bytes: readFileSync(join(legacy, file)) });
    }
  }
  return { certificates: unique(certificates), crls: unique(crls) };
}

const KEYS: readonly UserKeyAlgorithm[] = ['P-256', 'P-384', 'Ed25519', 'RSA-2048', 'RSA-PSS-2048'];

/** Certificates, CRLs, CSRs and CMS envelopes made by the project's own CA and signing code, and by openssl. */
async function generatedInputs(now: Date): Promise<Corpus> {
  const signers = new Map<UserKeyAlgorithm, { signer: Signer; pem: string }>();
  for (const alg of KEYS) {
    const { privateKeyPem } = generateUserKey(alg);
    signers.set(alg, { signer: signerFromPem(alg, privateKeyPem), pem: privateKeyPem });
  }
  const key = (alg: UserKeyAlgorithm): Signer => signers.get(alg)!.signer;
  const profiles = loadProfiles();
  const day = 86_400_000;
  const name = (
    cn: string,
    extra: Array<{ type: 'O' | 'OU' | 'serialNumber' | 'organizationIdentifier' | 'L' | 'ST'; value: string }> = [],
  ) => encodeName([{ type: 'C', value: 'CN' }, ...extra, { type: 'CN', value: cn }]);
  let serials = 0;
  const serial = (): Buffer => Buffer.from(`40${(++serials).toString(16).padStart(30, '0')}`, 'hex');
  const urls = {
    crl: 'http://chancery.invalid/ca/issuing.crl',
    ocsp: 'http://chancery.invalid/ocsp',
    caIssuers: 'http://chancery.invalid/ca/issuing.pem',
  };

  const rootSigner = key('P-384');
  const rootName = name('Differential Root CA', [{ type: 'O', value: 'Chancery 测试' }]);
  const rootSpki = exportSpki(rootSigner.publicKey);
  const root = await buildCertificate(compileTemplate(profiles.get('root')!, 'self', undefined), {
    serial: serial(),
    notBefore: new Date(now.getTime() - day),
    notAfter: new Date(now.getTime() + 3650 * day),
    subject: rootName,
    spki: rootSpki,
    selfSigner: rootSigner,
  });
  const rootIssuer: IssuerContext = {
    name: rootName,
    keyIdentifier: keyIdentifier(rootSpki),
    signer: rootSigner,
    notAfter: new Date(now.getTime() + 3650 * day),
  };
  const issuingSigner = key('P-256');
  const issuingName = name('Differential Issuing CA', [{ type: 'O', value: 'Chancery, "Registry" + Co' }]);
  const issuingSpki = exportSpki(issuingSigner.publicKey);
  const rootUrls = { crl: 'http://chancery.invalid/ca/root.crl', caIssuers: 'http://chancery.invalid/ca/root.pem' };
  const issuing = await buildCertificate(compileTemplate(profiles.get('issuing-ca')!, rootIssuer, rootUrls), {
    serial: serial(),
    notBefore: new Date(now.getTime() - day),
    notAfter: new Date(now.getTime() + 3000 * day),
    subject: issuingName,
    spki: issuingSpki,
  });
  const issuingContext: IssuerContext = {
    name: issuingName,
    keyIdentifier: keyIdentifier(issuingSpki),
    signer: issuingSigner,
    notAfter: new Date(now.getTime() + 3000 * day),
  };
  const certificates: Input[] = [
    { source: 'generated root', bytes: root },
    { source: 'generated issuing-ca', bytes: issuing },
  ];
  const leafProfiles: ProfileId[] = ['enterprise-signing', 'officer', 'ocsp-responder', 'service-seal', 'admin', 'auditor'];
  const leaves = new Map<string, Buffer>();
  for (const [i, id] of leafProfiles.entries()) {
    const alg = KEYS[i % KEYS.length]!;
    const der = await buildCertificate(compileTemplate(profiles.get(id)!, issuingContext, urls), {
      serial: serial(),
      notBefore: new Date(now.getTime() - day),
      // Past 2049: GeneralizedTime (RFC 5280 §4.1.2.5) for one of them.
      notAfter: new Date(now.getTime() + (i === 2 ? 9000 : 365) * day),
      subject: name(`${id} holder`, [
        { type: 'O', value: 'Fuzhou Minjiang Foods' },
        { type: 'organizationIdentifier', value: 'NTRCN-91350100M000100Y43' },
        { type: 'serialNumber', value: `S-${i}` },
      ]),
      spki: exportSpki(key(alg).publicKey),
      ...(id === 'officer' ? { officer: { role: 'approver' as const, jurisdiction: '350100' } } : {}),
    });
    leaves.set(id, der);
    certificates.push({ source: `generated ${id} (${alg})`, bytes: der });
  }

  const crls: Input[] = [];
  const at = new Date(now.getTime() - 3600_000);
  for (const [count, issuer, label] of [
    [0, issuingContext, 'issuing'],
    [3, issuingContext, 'issuing'],
    [40, rootIssuer, 'root'],
  ] as const) {
    crls.push({
      source: `generated ${label} CRL with ${count} entries`,
      bytes: await buildCrl({
        issuerName: issuer.name,
        issuerKeyIdentifier: issuer.keyIdentifier,
        signer: issuer.signer,
        number: 7 + count,
        thisUpdate: at,
        nextUpdate: new Date(at.getTime() + 7 * day),
        entries: Array.from({ length: count }, (_, k) => ({
          serial: (0x4000 + k * 977).toString(16).padStart(6, '0'),
          revokedAt: at,
          reason: [0, 1, 4, 5][k % 4]!,
        })),
      }),
    });
  }

  const csrs: Input[] = [];
  for (const alg of KEYS) {
    csrs.push({ source: `generated CSR (${alg})`, bytes: (await buildCsr(key(alg))).der });
    const subject = [
      { type: 'C', value: 'CN' },
      { type: 'O', value: '福州闽江食品' },
      { type: 'CN', value: 'x' },
    ] as const;
    csrs.push({ source: `generated CSR with subject (${alg})`, bytes: (await buildCsr(key(alg), subject)).der });
  }

  const envelopes: Input[] = [];
  const content = annualReport();
  const entChain = [leaves.get('enterprise-signing')!, issuing];
  const entSigner = key('P-256');
  const detached = await signCms({ signer: entSigner, chain: entChain, content, detached: true, time: now });
  envelopes.push({ source: 'generated CMS, detached', bytes: detached });
  envelopes.push({
    source: 'generated CMS, encapsulated',
    bytes: await signCms({ signer: entSigner, chain: entChain, content, detached: false, time: now }),
  });
  envelopes.push({
    source: 'generated CMS, countersigned',
    bytes: await countersignCms(detached, {
      signer: key('P-384'),
      chain: [leaves.get('officer')!],
      decision: 'approve',
      time: new Date(now.getTime() + 60_000),
    }),
  });

  // openssl's own: a self-signed certificate with SAN and policies, a CSR with extensions, a CAdES CMS.
  const pem = signers.get('P-256')!.pem;
  const dir = mkdtempSync(join(tmpdir(), 'chancery-differential-gen-'));
  try {
    writeFileSync(join(dir, 'key.pem'), pem);
    writeFileSync(join(dir, 'doc.json'), content);
    const subj = ['-subj', '/C=CN/ST=Fujian/O=Openssl Made/CN=openssl.example'];
    const ext = [
      'subjectAltName=DNS:openssl.example,IP:192.0.2.7,email:a@openssl.example',
      'certificatePolicies=1.2.3.4',
      'keyUsage=critical,digitalSignature',
    ];
    const addext = ext.flatMap((e) => ['-addext', e]);
    const key = ['-key', join(dir, 'key.pem')];
    await opensslOnce(['req', '-x509', ...key, ...subj, ...addext, '-days', '30', '-outform', 'DER', '-out', join(dir, 'cert.der')]);
    await opensslOnce(['req', '-x509', ...key, ...subj, '-days', '30', '-out', join(dir, 'cert.pem')]);
    await opensslOnce(['req', '-new', ...key, ...subj, ...addext, '-outform', 'DER', '-out', join(dir, 'req.der')]);
    const sign = [
      'cms',
      '-sign',
      '-binary',
      '-in',
      join(dir, 'doc.json'),
      '-signer',
      join(dir, 'cert.pem'),
      '-inkey',
      join(dir, 'key.pem'),
      '-outform',
      'DER',
    ];
    await opensslOnce([...sign, '-md', 'sha256', '-cades', '-nosmimecap', '-out', join(dir, 'cms.der')]);
    await opensslOnce([...sign, '-nodetach', '-md', 'sha384', '-out', join(dir, 'cms-attached.der')]);
    certificates.push({ source: 'openssl req -x509', bytes: readFileSync(join(dir, 'cert.der')) });
    csrs.push({ source: 'openssl req', bytes: readFileSync(join(dir, 'req.der')) });
    envelopes.push({ source: 'openssl cms -sign -cades', bytes: readFileSync(join(dir, 'cms.der')) });
    envelopes.push({ source: 'openssl cms -sign -nodetach', bytes: readFileSync(join(dir, 'cms-attached.der')) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { certificates, crls, csrs, envelopes };
}

// ---------------------------------------------------------------------------------------------
// Comparisons

type Attempt<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Records the two verdicts on one input; true when both accepted (the fields are compared next).
 * `whyWeAccept` names the allowed reason when only ours accepts; ours refusing alone is
 * classified from our error message.
 */
function judge<T>(
  t: Tally,
  label: string,
  input: Input,
  ours: Attempt<T>,
  theirs: { ok: boolean; why: string },
  whyWeAccept: (value: T) => string | undefined,
): boolean {
  t.inputs++;
  if (ours.ok === theirs.ok) {
    if (ours.ok) t.agreeAccept++;
    else t.agreeReject++;
    return ours.ok;
  }
  const reason = ours.ok ? whyWeAccept(ours.value) : ourRefusal(ours.message);
  const detail = `${label} ${input.source}: ours ${ours.ok ? 'accepts' : `refuses (${ours.message})`}, the other parser ${theirs.ok ? 'accepts' : `refuses (${theirs.why})`}`;
  disagree(t, reason, detail, input.bytes);
  return false;
}

/** A field comparison of one input: `equal` false is an unexplained disagreement unless `allowed` names a reason. */
function fields(t: Tally, label: string, input: Input): (what: string, equal: boolean, detail: () => string, allowed?: string) => void {
  return (what, equal, detail, allowed) => {
    t.fieldsCompared++;
    if (!equal) disagree(t, allowed, `${label} ${input.source}: ${what} differs (${detail()})`, input.bytes);
  };
}

const listed = (items: ReadonlyArray<{ name: string; critical: boolean }>): string =>
  JSON.stringify(items.map((e) => `${e.name}${e.critical ? ' (critical)' : ''}`));

async function compareCertificates(inputs: Input[], t: Tally): Promise<void> {
  const both: Array<{ input: Input; ours: Certificate }> = [];
  for (const input of inputs) {
    const ours = attempt(() => parseCertificate(input.bytes));
    const theirs = attempt(() => new X509Certificate(input.bytes));
    if (
      !judge(t, 'certificate', input, ours, { ok: theirs.ok, why: theirs.ok ? '' : theirs.message }, whyWeAcceptCertificate) ||
      !ours.ok ||
      !theirs.ok
    )
      continue;
    both.push({ input, ours: ours.value });
    const c = ours.value;
    const x = theirs.value;
    const field = fields(t, 'certificate', input);
    field(
      'the serial number',
      serialValue(c.serialNumberHex) === nodeSerial(x.serialNumber),
      () => `${c.serialNumberHex} vs ${x.serialNumber}`,
    );
    // node gives no string (undefined) for an empty name.
    field(
      'the subject',
      sameValues(ourValues(c.subject), printedNameValues(x.subject ?? '')),
      () => `${JSON.stringify(ourValues(c.subject))} vs ${JSON.stringify(x.subject)}`,
    );
    field(
      'the issuer',
      sameValues(ourValues(c.issuer), printedNameValues(x.issuer ?? '')),
      () => `${JSON.stringify(ourValues(c.issuer))} vs ${JSON.stringify(x.issuer)}`,
    );
    field('notBefore', seconds(c.notBefore) === printedTime(x.validFrom), () => `${c.notBefore.toISOString()} vs ${x.validFrom}`);
    field('notAfter', seconds(c.notAfter) === printedTime(x.validTo), () => `${c.notAfter.toISOString()} vs ${x.validTo}`);
    // A key node cannot load (an unknown algorithm, a malformed point) has no SPKI to compare.
    const spki = attempt(() => x.publicKey.export({ type: 'spki', format: 'der' }));
    if (!spki.ok) continue;
    const sameKey = attempt(() =>
      createPublicKey({ key: c.spki, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' }).equals(spki.value),
    );
    const normalized = sameKey.ok && sameKey.value ? 'spki-normalized' : undefined;
    field('the SPKI', spki.value.equals(c.spki), () => `${c.spki.toString('hex')} vs ${spki.value.toString('hex')}`, normalized);
  }
  await compareCertificateText(both, t);
}

/**
 * Extension OIDs with their critical flags, and the signature algorithms, as openssl prints them:
 * every certificate both sides accepted, in one `openssl storeutl -text` run, each one followed
 * by a marker CRL so that a certificate openssl cannot print is noticed, not miscounted.
 */
async function compareCertificateText(items: Array<{ input: Input; ours: Certificate }>, t: Tally): Promise<void> {
  if (items.length === 0) return;
  const marker = await buildCrl({
    issuerName: encodeName([{ type: 'CN', value: 'marker' }]),
    issuerKeyIdentifier: Buffer.alloc(20),
    signer: signerFromPem('marker', generateUserKey('P-256').privateKeyPem),
    number: 1,
    thisUpdate: new Date('2026-01-01T00:00:00Z'),
    nextUpdate: new Date('2026-02-01T00:00:00Z'),
    entries: [],
  });
  const bundle = items.map((i) => pemEncode('CERTIFICATE', i.input.bytes) + pemEncode('X509 CRL', marker)).join('');
  const dir = mkdtempSync(join(tmpdir(), 'chancery-differential-store-'));
  let run: OpensslRun;
  try {
    writeFileSync(join(dir, 'bundle.pem'), bundle);
    run = await opensslOnce(['storeutl', '-noout', '-text', join(dir, 'bundle.pem')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const objects = run.output.split(/^\d+: /m).slice(1);
  const names = await opensslNames(
    items.flatMap((i) => [i.ours.signatureAlgorithm.oid, i.ours.tbsSignatureAlgorithm.oid, ...i.ours.extensions.map((e) => e.oid)]),
  );
  let k = 0;
  for (const { input, ours } of items) {
    const printed = objects[k]?.startsWith('Certificate') === true ? objects[k++]! : undefined;
    if (objects[k]?.startsWith('CRL') === true) k++;
    const field = fields(t, 'certificate', input);
    field('the openssl text', printed !== undefined, () => 'node accepts it but openssl storeutl cannot print it');
    if (printed === undefined) continue;
    // openssl prints tbsCertificate.signature in the data (8 spaces), signatureAlgorithm after it (4).
    const inner = /^ {8}Signature Algorithm: (.*)$/m.exec(printed)?.[1]?.trim();
    const outer = /^ {4}Signature Algorithm: (.*)$/m.exec(printed)?.[1]?.trim();
    field(
      'the tbsCertificate signature algorithm',
      inner === names.get(ours.tbsSignatureAlgorithm.oid),
      () => `${ours.tbsSignatureAlgorithm.oid} vs "${inner}"`,
    );
    field(
      'the signature algorithm',
      outer === names.get(ours.signatureAlgorithm.oid),
      () => `${ours.signatureAlgorithm.oid} vs "${outer}"`,
    );
    const section = /^ {8}X509v3 extensions:\n([\s\S]*?)^ {4}Signature Algorithm/m.exec(printed)?.[1] ?? '';
    const theirs = listed(printedExtensions(section, 12));
    const expected = listed(ours.extensions.map((e) => ({ name: names.get(e.oid)!, critical: e.critical })));
    field('the extensions', theirs === expected, () => `${expected} vs ${theirs}`);
  }
}

/** `openssl <args> -in <each input>` as the other parser's verdicts and printed text. */
async function opensslVerdicts(inputs: Input[], args: readonly string[]): Promise<Array<{ ok: boolean; why: string; text: string }>> {
  const runs = await opensslEach(
    inputs.map((i) => i.bytes),
    args,
  );
  return runs.map((run) => ({ ok: run.code === 0, why: firstLine(run), text: run.output }));
}

async function compareCrls(inputs: Input[], t: Tally): Promise<void> {
  const theirs = await opensslVerdicts(inputs, ['crl', '-inform', 'DER', '-noout', '-issuer', '-nameopt', NAME_OPTIONS, '-text']);
  const ours = inputs.map((i) => attempt(() => parseCrl(i.bytes)));
  const names = await opensslNames(
    ours.flatMap((o) => (o.ok ? [o.value.signatureAlgorithm.oid, ...o.value.extensions.map((e) => e.oid)] : [])),
  );
  const whyWeAccept = (crl: Crl): string | undefined =>
    opaqueValue(crl.issuer, ...[...crl.entries.values()].flat().map((e) => e.certificateIssuer)) ? 'name-value' : undefined;
  inputs.forEach((input, i) => {
    const o = ours[i]!;
    if (judge(t, 'CRL', input, o, theirs[i]!, whyWeAccept) && o.ok) compareCrlFields(input, o.value, theirs[i]!.text, names, t);
  });
}

function compareCrlFields(input: Input, crl: Crl, text: string, names: Map<string, string>, t: Tally): void {
  const field = fields(t, 'CRL', input);
  const issuer = /^issuer=\n((?: {4}.*\n)*)/m.exec(text)?.[1] ?? '';
  field(
    'the issuer',
    sameValues(ourValues(crl.issuer), printedNameValues(issuer)),
    () => `${JSON.stringify(ourValues(crl.issuer))} vs ${JSON.stringify(issuer)}`,
  );
  const last = /^ {8}Last Update: (.*)$/m.exec(text)?.[1];
  field('thisUpdate', seconds(crl.thisUpdate) === printedTime(last), () => `${crl.thisUpdate.toISOString()} vs ${last}`);
  const next = /^ {8}Next Update: (.*)$/m.exec(text)?.[1];
  const nextEqual = crl.nextUpdate === undefined ? next === 'NONE' : seconds(crl.nextUpdate) === printedTime(next);
  field('nextUpdate', nextEqual, () => `${crl.nextUpdate?.toISOString()} vs ${next}`);
  const sigalg = /^ {4}Signature Algorithm: (.*)$/m.exec(text)?.[1]?.trim();
  field('the signature algorithm', sigalg === names.get(crl.signatureAlgorithm.oid), () => `${crl.signatureAlgorithm.oid} vs ${sigalg}`);
  const section = /^ {8}CRL extensions:\n([\s\S]*?)^(?=\S| {0,4}\S)/m.exec(text)?.[1] ?? '';
  const theirs = listed(printedExtensions(section, 12));
  const expected = listed(crl.extensions.map((e) => ({ name: names.get(e.oid)!, critical: e.critical })));
  field('the CRL extensions', theirs === expected, () => `${expected} vs ${theirs}`);
  const serials = [...text.matchAll(/^ {4}Serial Number: (-?[0-9A-F]+)$/gm)].map((m) => nodeSerial(m[1]!).toString()).sort();
  const ourSerials = [...crl.entries.values()]
    .flat()
    .map((e) => serialValue(e.serialNumberHex).toString())
    .sort();
  field(
    'the revoked serial numbers',
    JSON.stringify(serials) === JSON.stringify(ourSerials),
    () => `${ourSerials.length} vs ${serials.length}`,
  );
}

async function compareCsrs(inputs: Input[], t: Tally): Promise<void> {
  const theirs = await opensslVerdicts(inputs, [
    'req',
    '-inform',
    'DER',
    '-noout',
    '-subject',
    '-nameopt',
    NAME_OPTIONS,
    '-pubkey',
    '-text',
  ]);
  // What the CA reads of a request before any policy: its structure and its public key (acceptCertificationRequest).
  const ours = inputs.map((i) =>
    attempt(() => {
      const csr = parseCertificationRequest(i.bytes);
      importSpki(csr.spki);
      return csr;
    }),
  );
  const names = await opensslNames(ours.flatMap((o) => (o.ok ? [o.value.signatureAlgorithm.oid] : [])));
  const whyWeAccept = (csr: CertificationRequestData): string | undefined =>
    csr.subject.some((a) => a.value.startsWith('#')) ? 'name-value' : undefined;
  inputs.forEach((input, i) => {
    const o = ours[i]!;
    if (!judge(t, 'CSR', input, o, theirs[i]!, whyWeAccept) || !o.ok) return;
    const csr = o.value;
    const text = theirs[i]!.text;
    const field = fields(t, 'CSR', input);
    const subject = /^subject=\n((?: {4}.*\n)*)/m.exec(text)?.[1] ?? '';
    const theirValues = printedNameValues(subject).flat();
    const values = csr.subject.map((a) => a.value);
    // `#hex` is a value that is not a valid directory string: compared by count only.
    const sameSubject = values.length === theirValues.length && values.every((v, k) => v.startsWith('#') || v === theirValues[k]);
    field('the subject', sameSubject, () => `${JSON.stringify(values)} vs ${JSON.stringify(theirValues)}`);
    const key = pemDecodeAll(text, ['PUBLIC KEY'])?.[0];
    if (key !== undefined) field('the SPKI', key.equals(csr.spki), () => `${csr.spki.toString('hex')} vs ${key.toString('hex')}`);
    const sigalg = /^ {4}Signature Algorithm: (.*)$/m.exec(text)?.[1]?.trim();
    field('the signature algorithm', sigalg === names.get(csr.signatureAlgorithm.oid), () => `${csr.signatureAlgorithm.oid} vs ${sigalg}`);
  });
}

interface ReadEnvelope {
  signedData: CmsSignedData;
  certificates: Certificate[];
  signerIssuers: Name[];
}

/** What the verifier reads of an envelope: the SignedData, every certificate it carries, each signer identifier's issuer name. */
function readEnvelope(bytes: Uint8Array): ReadEnvelope {
  const signedData = parseCmsSignedData(bytes);
  const certificates = signedData.certificates.map((c) => parseCertificate(c));
  const signerIssuers = signedData.signerInfos.flatMap((si) => (si.sid.kind === 'issuer-and-serial' ? [parseNameDer(si.sid.issuer)] : []));
  return { signedData, certificates, signerIssuers };
}

async function compareEnvelopes(inputs: Input[], t: Tally): Promise<void> {
  const theirs = await opensslVerdicts(inputs, ['cms', '-cmsout', '-inform', 'DER', '-noout', '-print']);
  const whyWeAccept = (e: ReadEnvelope): string | undefined =>
    opaqueValue(...e.signerIssuers) || e.certificates.some((c) => whyWeAcceptCertificate(c) !== undefined) ? 'name-value' : undefined;
  inputs.forEach((input, i) => {
    const o = attempt(() => readEnvelope(input.bytes));
    if (judge(t, 'CMS', input, o, theirs[i]!, whyWeAccept) && o.ok) compareEnvelopeFields(input, o.value.signedData, theirs[i]!.text, t);
  });
}

function compareEnvelopeFields(input: Input, sd: CmsSignedData, printed: string, t: Tally): void {
  // openssl stops printing at a value it cannot show ("Error in encoding", "Bad time value"):
  // fields it did not print are not compared.
  const stops = ['Error in encoding', 'Bad time value'].map((m) => printed.indexOf(m)).filter((i) => i >= 0);
  const complete = stops.length === 0;
  const text = complete ? printed : printed.slice(0, Math.min(...stops));
  const compare = fields(t, 'CMS', input);
  const field = (what: string, equal: boolean, detail: () => string, printedHere = true): void => {
    if (complete || printedHere) compare(what, equal, detail);
  };
  const oidOf = (line: string | undefined): string | undefined => (line === undefined ? undefined : /\(([0-9.]+)\)\s*$/.exec(line)?.[1]);
  const block = (start: RegExp, indent: number, from = text): string => {
    const m = start.exec(from);
    if (m === null) return '';
    const rest = from.slice(m.index + m[0].length).split('\n');
    // openssl -print dumps an ANY value with asn1parse lines ("    0:d=0  hl=2 …") at their own indentation.
    const end = rest.findIndex((l) => l.length > 0 && !l.startsWith(' '.repeat(indent + 1)) && !/^\s*\d+:d=\d+ /.test(l));
    return rest.slice(0, end < 0 ? undefined : end).join('\n');
  };
  field('the SignedData version', Number(/^ {4}version: (\d+)$/m.exec(text)?.[1]) === sd.version, () => `${sd.version}`);
  const digests = JSON.stringify([...block(/^ {4}digestAlgorithms:\n/m, 4).matchAll(/^ {8}algorithm: (.*)$/gm)].map((m) => oidOf(m[1])));
  const ourDigests = JSON.stringify(sd.digestAlgorithms.map((d) => d.oid));
  field('the digest algorithms', digests === ourDigests, () => `${ourDigests} vs ${digests}`);
  field('eContentType', oidOf(/^ {6}eContentType: (.*)$/m.exec(text)?.[1]) === sd.eContentType, () => sd.eContentType);
  field('eContent presence', /^ {6}eContent: <ABSENT>$/m.test(text) === (sd.eContent === undefined), () => `${sd.eContent === undefined}`);
  field(
    'the number of certificates',
    [...text.matchAll(/^ {6}d\.certificate: $/gm)].length === sd.certificates.length,
    () => `${sd.certificates.length}`,
  );
  const signerBlocks = block(/^ {4}signerInfos:\n/m, 4)
    .split(/^(?= {8}version: )/m)
    .filter((b) => b.trim().length > 0);
  field(
    'the number of SignerInfos',
    signerBlocks.length === sd.signerInfos.length,
    () => `${sd.signerInfos.length} vs ${signerBlocks.length}`,
    false,
  );
  sd.signerInfos.forEach((si, k) => {
    const b = signerBlocks[k] ?? '';
    field(
      `SignerInfo ${k} version`,
      Number(/^ {8}version: (\d+)$/m.exec(b)?.[1]) === si.version,
      () => `${si.version}`,
      k < signerBlocks.length,
    );
    const digest = /^ {8}digestAlgorithm: \n {10}algorithm: (.*)$/m.exec(b)?.[1];
    field(`SignerInfo ${k} digest algorithm`, oidOf(digest) === si.digestAlgorithm.oid, () => si.digestAlgorithm.oid, digest !== undefined);
    const signature = /^ {8}signatureAlgorithm: \n {10}algorithm: (.*)$/m.exec(b)?.[1];
    field(
      `SignerInfo ${k} signature algorithm`,
      oidOf(signature) === si.signatureAlgorithm.oid,
      () => si.signatureAlgorithm.oid,
      signature !== undefined,
    );
    const attrs = JSON.stringify([...block(/^ {8}signedAttrs:\n/m, 8, b).matchAll(/^ {12}object: (.*)$/gm)].map((m) => oidOf(m[1])));
    const ourAttrs = JSON.stringify(si.signedAttrs?.attributes.map((a) => a.type) ?? []);
    field(`SignerInfo ${k} signed attribute types`, attrs === ourAttrs, () => `${ourAttrs} vs ${attrs}`, signature !== undefined);
  });
}

function firstLine(run: OpensslRun): string {
  return (
    run.output
      .split('\n')
      .find((l) => /error|unable|Could not|Expecting/i.test(l))
      ?.slice(0, 160) ?? `exit ${run.code}`
  );
}

// ---------------------------------------------------------------------------------------------

describe('our DER parsers against node and openssl (differential)', () => {
  const tallies = { certificate: newTally(), crl: newTally(), csr: newTally(), cms: newTally() };
  let corpus: Corpus;

  beforeAll(async () => {
    const vectors = vectorInputs();
    const generated = await generatedInputs(new Date('2026-03-01T08:00:00Z'));
    const rng = prng(SEED);
    // Mutations of the generated inputs and of a fixed sample of the vectors (every 8th).
    const base = (gen: Input[], vec: Input[]): Input[] => [...gen, ...vec.filter((_, i) => i % 8 === 0)];
    const certificateBases = base(generated.certificates, vectors.certificates);
    corpus = {
      certificates: [...vectors.certificates, ...generated.certificates, ...mutations(certificateBases, MUTATIONS.certificate, rng)],
      crls: [...vectors.crls, ...generated.crls, ...mutations(base(generated.crls, vectors.crls), MUTATIONS.crl, rng)],
      csrs: [...generated.csrs, ...mutations(generated.csrs, MUTATIONS.csr, rng)],
      envelopes: [...generated.envelopes, ...mutations(generated.envelopes, MUTATIONS.cms, rng)],
    };
  }, 60_000);

  it('agree on certificates (node crypto.X509Certificate, openssl storeutl -text)', async () => {
    await compareCertificates(corpus.certificates, tallies.certificate);
    expect(tallies.certificate.unexplained).toEqual([]);
    expect(tallies.certificate.agreeAccept).toBeGreaterThan(0);
  }, 60_000);

  it('agree on CRLs (openssl crl)', async () => {
    await compareCrls(corpus.crls, tallies.crl);
    expect(tallies.crl.unexplained).toEqual([]);
  }, 60_000);

  it('agree on PKCS#10 requests (openssl req)', async () => {
    await compareCsrs(corpus.csrs, tallies.csr);
    expect(tallies.csr.unexplained).toEqual([]);
  }, 60_000);

  it('agree on CMS envelopes (openssl cms -cmsout -print)', async () => {
    await compareEnvelopes(corpus.envelopes, tallies.cms);
    expect(tallies.cms.unexplained).toEqual([]);
  }, 60_000);

  afterAll(() => {
    const counts = Object.fromEntries(
      Object.entries(tallies).map(([kind, { unexplained, ...t }]) => [kind, { ...t, unexplained: unexplained.length }]),
    );
    console.log(`differential: ${JSON.stringify({ seed: SEED, ...counts })}`);
  });
});
