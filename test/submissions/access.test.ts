import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { coveredDivisionPrefix, jurisdictionCovers } from '../../src/registry/jurisdiction.js';
import { listScope, mayRead, type ReadableSubmission } from '../../src/submissions/access.js';

/** Who may read a submission and list which. */
const principal = (role: Principal['role'], extra: Partial<Principal> = {}): Principal => ({
  role,
  actor: `${role}:x`,
  certificateSerial: '01',
  name: 'x',
  expiresAt: '2030-01-01T00:00:00Z',
  ...extra,
});
const officer = (role: 'reviewer' | 'approver' | 'handler', jurisdiction: string, id = 'O-1') =>
  principal('officer', { officer: { id, role, jurisdiction } });
const submission: ReadableSubmission = {
  applicant: '91440305000100001C',
  division: '440305',
  status: 'pending',
  nextRole: 'reviewer',
  nextAnyJurisdiction: false,
};
const none = async (): Promise<string[]> => [];

describe('submission access', () => {
  it('lets the applicant, covering officers and auditors read; not another enterprise, the operator, or officers elsewhere', async () => {
    expect(await mayRead(principal('enterprise', { uscc: '91440305000100001C' }), submission, none)).toBe(true);
    expect(await mayRead(principal('enterprise', { uscc: '91310101000200004X' }), submission, none)).toBe(false);
    expect(await mayRead(principal('auditor'), submission, none)).toBe(true);
    expect(await mayRead(principal('admin'), submission, none)).toBe(false);
    for (const j of ['440305', '440300', '440000']) expect(await mayRead(officer('approver', j), submission, none)).toBe(true);
    for (const j of ['440306', '440100', '310000']) expect(await mayRead(officer('reviewer', j), submission, none)).toBe(false);
  });

  it('lets an officer read a step open to any jurisdiction for its role, and what it countersigned', async () => {
    const open = { ...submission, division: '310101', nextRole: 'handler', nextAnyJurisdiction: true };
    expect(await mayRead(officer('handler', '440000'), open, none)).toBe(true);
    expect(await mayRead(officer('reviewer', '440000'), open, none)).toBe(false);
    expect(await mayRead(officer('reviewer', '440000', 'SIGNED'), { ...open, status: 'approved' }, async () => ['SIGNED'])).toBe(true);
  });

  it('scopes lists: own, jurisdiction prefix, all, or none for the operator', () => {
    expect(listScope(principal('enterprise', { uscc: 'U' }))).toEqual({ kind: 'applicant', uscc: 'U' });
    expect(listScope(officer('reviewer', '440300'))).toEqual({ kind: 'jurisdiction', prefix: '4403', role: 'reviewer', officerId: 'O-1' });
    expect(listScope(principal('auditor'))).toEqual({ kind: 'all' });
    expect(listScope(principal('admin'))).toEqual({ kind: 'none' });
  });

  it('coveredDivisionPrefix agrees with jurisdictionCovers on every pair of division codes', () => {
    const code = fc.oneof(
      fc.stringMatching(/^[0-9]{6}$/),
      fc.stringMatching(/^[0-9]{2}$/).map((p) => `${p}0000`),
      fc.stringMatching(/^[0-9]{4}$/).map((p) => `${p}00`),
    );
    fc.assert(
      fc.property(code, code, (o, e) => {
        expect(e.startsWith(coveredDivisionPrefix(o)!)).toBe(jurisdictionCovers(o, e));
      }),
      { seed: 6, numRuns: 2000 },
    );
  });
});
