import { describe, expect, it } from 'vitest';
import { checkApplicantBinding } from '../../src/policy/applicant.js';
import { parseDocument } from '../../src/policy/document.js';

const doc = { type: 'annual-report', applicant: '91350100M000100Y43' };

describe('applicant binding', () => {
  it('binds a signer whose organizationIdentifier is NTRCN- plus the applicant', () => {
    expect(checkApplicantBinding(doc, ['NTRCN-91350100M000100Y43'])).toEqual({
      bound: true,
      organizationIdentifier: 'NTRCN-91350100M000100Y43',
    });
  });

  it("refuses another enterprise's certificate, saying both values", () => {
    const r = checkApplicantBinding(doc, ['NTRCN-91110000100000000A']);
    expect(r.bound).toBe(false);
    expect((r as { reason: string }).reason).toContain('NTRCN-91350100M000100Y43');
  });

  it('refuses a certificate without organizationIdentifier, or with two', () => {
    expect(checkApplicantBinding(doc, []).bound).toBe(false);
    expect(checkApplicantBinding(doc, ['NTRCN-91350100M000100Y43', 'NTRCN-91350100M000100Y43']).bound).toBe(false);
  });

  it('does not fold case or accept the bare USCC', () => {
    expect(checkApplicantBinding(doc, ['ntrcn-91350100M000100Y43']).bound).toBe(false);
    expect(checkApplicantBinding(doc, ['91350100M000100Y43']).bound).toBe(false);
  });

  it('refuses a document without an applicant', () => {
    expect(checkApplicantBinding({ type: 'x' }, ['NTRCN-91350100M000100Y43']).bound).toBe(false);
  });
});

describe('parseDocument (I-JSON)', () => {
  const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

  it('parses a JSON object', () => {
    expect(parseDocument(bytes('{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}'))).toEqual({
      ok: true,
      value: { a: 1, b: { a: 2 }, c: [{ a: 3 }, { a: 4 }] },
    });
  });

  it('refuses a member name given twice, even when escaped differently', () => {
    expect(parseDocument(bytes('{"applicant":"A","applicant":"B"}')).ok).toBe(false);
    const r = parseDocument(bytes('{"applicant":"A","appl\\u0069cant":"B"}'));
    expect(r).toEqual({ ok: false, reason: 'the document gives the member "applicant" twice in one object' });
  });

  it('allows the same name in sibling objects and string values that look like names', () => {
    expect(parseDocument(bytes('{"x":"a,\\"x\\":","y":[{"x":1},{"x":2}]}')).ok).toBe(true);
  });

  it('refuses invalid UTF-8, a byte-order mark, non-objects and deep nesting', () => {
    expect(parseDocument(Buffer.from([0x7b, 0xff, 0x7d])).ok).toBe(false);
    expect(parseDocument(bytes('\uFEFF{}')).ok).toBe(false);
    expect(parseDocument(bytes('[1,2]')).ok).toBe(false);
    expect(parseDocument(bytes('"text"')).ok).toBe(false);
    expect(parseDocument(bytes(`{"a":${'['.repeat(100)}${']'.repeat(100)}}`)).ok).toBe(false);
  });
});
