import type { Principal } from '../auth/principal.js';
import { coveredDivisionPrefix, jurisdictionCovers } from '../registry/jurisdiction.js';
import type { SubmissionStatus } from './types.js';

/**
 * Who may read a submission: the applicant itself, officers of its
 * jurisdiction, and auditors (who read everything and change nothing). An officer also reads a
 * submission waiting at a step open to any jurisdiction for the officer's role (the complaint
 * handler's), and any submission the officer countersigned. The registry operator (admin)
 * registers and certifies; it does not read applications. Anonymous callers read nothing.
 */
export interface ReadableSubmission {
  applicant: string;
  division: string;
  status: SubmissionStatus;
  nextRole: string | null;
  nextAnyJurisdiction: boolean | null;
}

/** True when `who` may read the submission; `countersigners` is asked only when it matters. */
export async function mayRead(who: Principal, s: ReadableSubmission, countersigners: () => Promise<readonly string[]>): Promise<boolean> {
  switch (who.role) {
    case 'auditor':
      return true;
    case 'enterprise':
      return who.uscc === s.applicant;
    case 'officer': {
      const officer = who.officer;
      if (officer === undefined) return false;
      if (jurisdictionCovers(officer.jurisdiction, s.division)) return true;
      if (s.status === 'pending' && s.nextAnyJurisdiction === true && s.nextRole === officer.role) return true;
      return (await countersigners()).includes(officer.id);
    }
    case 'admin':
      return false;
  }
}

/** The list scope of a caller: which rows `GET /api/v1/submissions` may return to it. */
export type ListScope =
  | { kind: 'all' }
  | { kind: 'applicant'; uscc: string }
  | { kind: 'jurisdiction'; prefix: string; role: string; officerId: string }
  | { kind: 'none' };

export function listScope(who: Principal): ListScope {
  switch (who.role) {
    case 'auditor':
      return { kind: 'all' };
    case 'enterprise':
      return who.uscc === undefined ? { kind: 'none' } : { kind: 'applicant', uscc: who.uscc };
    case 'officer': {
      const prefix = who.officer === undefined ? undefined : coveredDivisionPrefix(who.officer.jurisdiction);
      return prefix === undefined
        ? { kind: 'none' }
        : { kind: 'jurisdiction', prefix, role: who.officer!.role, officerId: who.officer!.id };
    }
    case 'admin':
      return { kind: 'none' };
  }
}
