import { sign as nodeSign, KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childrenOf, readDer } from '../../src/der/reader.js';
import { printableString } from '../../src/der/strings.js';
import { TAG } from '../../src/der/tags.js';
import { bitString, booleanValue, explicit, octetString, oid, sequence, sequenceOf, smallInteger } from '../../src/der/writer.js';
import { OID } from '../../src/oids.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { parseCertificate, type Certificate } from '../../src/verify/certificate.js';
import { PURPOSE_DOCUMENT_SIGNING, validatePath } from '../../src/verify/path.js';
import { noRevocation } from '../../src/verify/revocation.js';
import { summarizeSigner } from '../../src/verify/validation-report.js';
import { simpleChain, type TestCert } from './path-pki.js';

/**
 * Which critical extensions the verifier processes is one constant list (src/verify/
 * processed-extensions.ts), not a registry filled as modules load. This file imports src/verify
 * (and src/der, src/oids) only — never src/ca — and proves Chancery's officer extension, marked
 * critical, still passes path validation; the import-graph walk at the end proves the claim
 * about what was loaded.
 */

const NOW = new Date('2026-06-01T12:00:00Z');

/** The leaf re-signed by its issuer with one more extension appended (critical or not). */
function withExtension(leaf: TestCert, issuer: TestCert, extnId: string, critical: boolean, value: Buffer): Buffer {
  const [tbsEl, algEl] = childrenOf(readDer(leaf.der));
  const fields = childrenOf(tbsEl!).map((f) => {
    if (f.tag !== 0xa3) return Buffer.from(f.bytes);
    const list = childrenOf(childrenOf(f)[0]!).map((e) => Buffer.from(e.bytes));
    const extension = critical ? sequence(oid(extnId), booleanValue(true), octetString(value)) : sequence(oid(extnId), octetString(value));
    return explicit(3, sequenceOf([...list, extension]));
  });
  const tbs = sequenceOf(fields);
  return sequence(tbs, Buffer.from(algEl!.bytes), bitString(nodeSign('sha256', tbs, KeyObject.from(issuer.keys.privateKey))));
}

// OfficerAuthorization ::= SEQUENCE { role ENUMERATED (approver = 1), jurisdiction PrintableString }
const APPROVER_IN_FUZHOU = sequence(smallInteger(1, TAG.ENUMERATED), printableString('350100'));

const validate = (leaf: Certificate, issuing: TestCert, root: TestCert) =>
  validatePath({
    leaf,
    intermediates: [issuing.certificate],
    anchors: [root.certificate],
    time: NOW,
    purpose: PURPOSE_DOCUMENT_SIGNING,
    revocation: noRevocation(),
  });

describe('the critical officer extension, with no src/ca module loaded', () => {
  it('validates a path whose leaf carries the officer extension marked critical, and reports role and jurisdiction', async () => {
    const { root, issuing, leaf } = await simpleChain(NOW);
    const officer = parseCertificate(withExtension(leaf, issuing, OID.officerAuthorization, true, APPROVER_IN_FUZHOU));
    expect(officer.extension(OID.officerAuthorization)?.critical).toBe(true);
    expect(officer.unknownCriticalExtensions).toEqual([]);
    const r = await validate(officer, issuing, root);
    expect(r.indication).toBe('TOTAL_PASSED');
    expect(summarizeSigner(officer).officer).toEqual({ role: 'approver', jurisdiction: '350100' });
  });

  it('still refuses a leaf with a critical extension nobody processes (RFC 5280 §4.2)', async () => {
    const { root, issuing, leaf } = await simpleChain(NOW);
    const odd = parseCertificate(withExtension(leaf, issuing, `${OID.officerAuthorization}.99`, true, APPROVER_IN_FUZHOU));
    expect(odd.unknownCriticalExtensions).toEqual([`${OID.officerAuthorization}.99`]);
    const r = await validate(odd, issuing, root);
    expect(r.indication).not.toBe('TOTAL_PASSED');
    expect(r.checks.find((c) => c.result !== 'PASSED')?.message).toContain(`${OID.officerAuthorization}.99`);
  });

  it('ran in a module graph without src/ca: every src module this test loads, transitively, is outside src/ca', () => {
    // `import type` is erased before run time (verbatimModuleSyntax), so it loads nothing.
    const reached = importGraph([join(PROJECT_ROOT, 'test', 'verify', 'officer-extension.test.ts')]);
    const src = [...reached].map((f) => relative(PROJECT_ROOT, f)).filter((f) => f.startsWith('src/'));
    expect(src).toContain('src/verify/path.ts');
    expect(src).toContain('src/verify/processed-extensions.ts');
    expect(src.filter((f) => f.startsWith('src/ca/'))).toEqual([]);
  });
});

describe('the verifier depends only on src/crypto, src/der, src/policy, src/oids.ts and src/errors.ts', () => {
  it('imports nothing else from src (checked on every file under src/verify)', () => {
    const allowed = ['src/crypto/', 'src/der/', 'src/policy/', 'src/verify/', 'src/oids.ts', 'src/errors.ts'];
    const offending: string[] = [];
    for (const file of filesUnder(join(PROJECT_ROOT, 'src', 'verify'))) {
      for (const target of localImports(file)) {
        const rel = relative(PROJECT_ROOT, target);
        if (!allowed.some((a) => rel === a || rel.startsWith(a))) offending.push(`${relative(PROJECT_ROOT, file)} → ${rel}`);
      }
    }
    expect(offending).toEqual([]);
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The project files a TypeScript file imports (relative specifiers, `.js` written for `.ts`); type-only ones too unless `runtimeOnly`. */
function localImports(file: string, runtimeOnly = false): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(import|export)(\s+type)?\s[^;]*?from\s+'(\.[^']+)'/g)) {
    if (runtimeOnly && m[2] !== undefined) continue;
    out.push(resolve(dirname(file), m[3]!.replace(/\.js$/, '.ts')));
  }
  return out;
}

function importGraph(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    todo.push(...localImports(file, true));
  }
  return seen;
}
