/** Registry records as the rest of Chancery sees them. */

export const ENTERPRISE_STATUSES = ['active', 'revoked', 'deregistered'] as const;
export type EnterpriseStatus = (typeof ENTERPRISE_STATUSES)[number];

export interface Enterprise {
  uscc: string;
  /** Registered name, used as O and CN of its certificates. */
  name: string;
  /** USCC positions 3–8: the division code of the registering authority. */
  division: string;
  status: EnterpriseStatus;
  /** True when it was registered although its check characters fail (a legacy code). */
  checkOverridden: boolean;
  registeredAt: string;
  /** When the status last changed away from active, with the reason given. */
  statusChangedAt: string | null;
  statusReason: string | null;
}

export const OFFICER_ROLES = ['reviewer', 'approver', 'handler'] as const;
export type OfficerRole = (typeof OFFICER_ROLES)[number];

export interface Officer {
  id: string;
  name: string;
  /** The authority the officer works for; O of the officer certificate. */
  authority: string;
  role: OfficerRole;
  /** 6-digit division code; see `jurisdictionCovers`. */
  jurisdiction: string;
  registeredAt: string;
}
