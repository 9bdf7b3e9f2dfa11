import { decodeOfficerAuthorization, OFFICER_AUTHORIZATION_OID } from '../verify/officer-extension.js';
import { OID } from '../oids.js';
import type { OfficerRole } from '../registry/types.js';
import { parseUscc } from '../registry/uscc.js';
import type { Certificate } from '../verify/certificate.js';

/** Who a caller is, as far as authorization cares. */
export type Role = 'admin' | 'officer' | 'enterprise' | 'auditor';
export const ROLES: readonly Role[] = ['admin', 'officer', 'enterprise', 'auditor'];

export interface Principal {
  role: Role;
  /** The audit log's actor: `admin:<serial>`, `auditor:<serial>`, `enterprise:<USCC>`, `officer:<id>`. */
  actor: string;
  /** Serial (canonical hex) of the certificate that logged in. */
  certificateSerial: string;
  /** The certificate's CN. */
  name: string;
  /** Enterprises: their USCC. */
  uscc?: string;
  /** Officers: id, role and jurisdiction from the OfficerAuthorization extension. */
  officer?: { id: string; role: OfficerRole; jurisdiction: string };
  /** When the token expires (ISO time). */
  expiresAt: string;
}

/** The certificate policy OID that marks each role's certificates (certs/profiles). */
export const ROLE_POLICY: Record<Role, string> = {
  admin: OID.policyAdmin,
  officer: OID.policyOfficer,
  enterprise: OID.policyEnterpriseSigning,
  auditor: OID.policyAuditor,
};

const NTR_PREFIX = 'NTRCN-';
const SERIAL_NUMBER_ATTRIBUTE = '2.5.4.5';
const COMMON_NAME = '2.5.4.3';

/**
 * Reads the role and claims a certificate carries: its certificate policy names the role; an
 * enterprise's USCC is its organizationIdentifier, an officer's id its subject serialNumber and
 * its role and jurisdiction the OfficerAuthorization extension. Only meaningful once the
 * certificate's path has validated to Chancery's root for that policy. Returns the reason when
 * the certificate carries no usable role.
 */
export function claimsOfCertificate(cert: Certificate, serial: string): Omit<Principal, 'expiresAt'> | { refused: string } {
  const policies = new Set((cert.certificatePolicies ?? []).map((p) => p.policyIdentifier));
  const roles = ROLES.filter((r) => policies.has(ROLE_POLICY[r]));
  if (roles.length !== 1)
    return {
      refused: roles.length === 0 ? 'the certificate carries no Chancery role policy' : 'the certificate carries more than one role policy',
    };
  const role = roles[0]!;
  const name = cert.subject.attribute(COMMON_NAME)[0] ?? '';
  switch (role) {
    case 'admin':
    case 'auditor':
      return { role, actor: `${role}:${serial}`, certificateSerial: serial, name };
    case 'enterprise': {
      const ids = cert.subject.attribute(OID.organizationIdentifier);
      if (ids.length !== 1 || !ids[0]!.startsWith(NTR_PREFIX))
        return { refused: 'an enterprise certificate needs exactly one organizationIdentifier NTRCN-<USCC>' };
      let uscc: string;
      try {
        uscc = parseUscc(ids[0]!.slice(NTR_PREFIX.length), { overrideCheck: true }).code;
      } catch {
        return { refused: 'the organizationIdentifier does not hold a USCC' };
      }
      return { role, actor: `enterprise:${uscc}`, certificateSerial: serial, name, uscc };
    }
    case 'officer': {
      const ids = cert.subject.attribute(SERIAL_NUMBER_ATTRIBUTE);
      const ext = cert.extension(OFFICER_AUTHORIZATION_OID);
      const authorization = ext === undefined ? undefined : decodeOfficerAuthorization(ext.value);
      if (ids.length !== 1 || authorization === undefined)
        return { refused: 'an officer certificate needs one subject serialNumber and a valid OfficerAuthorization extension' };
      return { role, actor: `officer:${ids[0]!}`, certificateSerial: serial, name, officer: { id: ids[0]!, ...authorization } };
    }
  }
}
