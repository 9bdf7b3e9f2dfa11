import { reasonProblem } from '../verify/decision-reason.js';
import { SignError } from './errors.js';

/** Refuses (INVALID_INPUT) a decision's reason that is not in the one form verifiers accept (decision-reason.ts). */
export function checkReason(reason: string): void {
  const problem = reasonProblem(reason);
  if (problem !== undefined) throw new SignError('ERR_SIGN_INVALID_INPUT', `${problem}; pass it through normalizeReason first`);
}
