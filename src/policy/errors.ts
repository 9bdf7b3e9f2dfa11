import { ChanceryError } from '../errors.js';

/** Transaction-policy faults: a bad policy file (start-up) or a policy id nobody loaded. */
export type PolicyErrorCode = 'ERR_POLICY_INVALID' | 'ERR_POLICY_UNKNOWN';
export class PolicyError extends ChanceryError<PolicyErrorCode> {}
