import { CaError } from './errors.js';

/** RFC 5280 §5.3.1 CRLReason codes. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

/**
 * Reasons an operator may give. Hold (and so removeFromCRL) is refused: Chancery's revocations
 * are final. cACompromise and aACompromise concern CAs, not end entities.
 */
export const OPERATOR_REASONS: readonly RevocationReason[] = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
];

export function parseRevocationReason(input: unknown): RevocationReason {
  if (input === undefined || input === null) return 'unspecified';
  if (typeof input !== 'string' || !OPERATOR_REASONS.includes(input as RevocationReason)) {
    throw new CaError('ERR_CA_REASON_INVALID', `reason must be one of ${OPERATOR_REASONS.join(', ')}`, {
      detail: { field: 'reason', accepted: OPERATOR_REASONS },
    });
  }
  return input as RevocationReason;
}

export function reasonName(code: number): RevocationReason {
  const entry = Object.entries(REVOCATION_REASONS).find(([, value]) => value === code);
  return (entry?.[0] ?? 'unspecified') as RevocationReason;
}
