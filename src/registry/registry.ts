import { bindRows, divergenceError, enterpriseRevocationMissing, type StateBinding } from '../audit/binding.js';
import type { Append, AuditLog } from '../audit/types.js';
import type { Queryable, Tx } from '../db/types.js';
import { RegistryError } from './errors.js';
import { parseName } from './fields.js';
import { importEnterprises, type ImportOptions, type ImportReport } from './import.js';
import { parseDivisionCode } from './jurisdiction.js';
import {
  insertEnterprise,
  insertOfficer,
  selectEnterprise,
  selectEnterprises,
  selectOfficer,
  selectOfficers,
  updateEnterpriseStatus,
} from './store.js';
import { ENTERPRISE_STATUSES, OFFICER_ROLES, type Enterprise, type EnterpriseStatus, type Officer, type OfficerRole } from './types.js';
import { parseUscc } from './uscc.js';

/**
 * What the registry needs from the CA when an enterprise's licence is revoked or it is
 * deregistered: revoke every certificate of that enterprise inside the same transaction (and
 * audit each), returning their serials. Implemented by `CertificateAuthority` (src/ca).
 */
export interface EnterpriseCertificateRevoker {
  revokeAllOfEnterprise(tx: Tx, append: Append, uscc: string, at: Date, actor: string): Promise<string[]>;
  /** Called after that transaction committed (revocation caches refresh). */
  revocationsCommitted(): void;
}

/**
 * What else ends with an enterprise's standing, in the same transaction: its open applications
 * are closed (src/submissions), returning their ids.
 */
export type EnterpriseEndedHook = (tx: Tx, append: Append, uscc: string, reason: string, actor: string) => Promise<string[]>;

export interface RegistryDeps {
  db: Queryable;
  audit: AuditLog;
  now: () => Date;
  /** The CA's side of ending an enterprise: its certificates are revoked in the same transaction. */
  certificates: EnterpriseCertificateRevoker;
  /** Served and relied-on rows are checked against the log (src/audit/binding.ts). */
  binding?: StateBinding;
  /** Called inside the transaction that revokes or deregisters an enterprise, after its entry. */
  onEnterpriseEnded?: EnterpriseEndedHook;
}

/**
 * The registry's reads that need nothing else wired: who a certificate holder is now, for the
 * CA's issuance (which the registry itself depends on to end an enterprise).
 */
export const registryLookups = {
  findEnterprise: (uscc: string, q: Queryable, options: { lock?: 'share' } = {}): Promise<Enterprise | undefined> =>
    selectEnterprise(q, uscc, options),
  // An id no officer can have (registerOfficer enforces OFFICER_ID) is not looked up at all.
  findOfficer: (id: string, q: Queryable): Promise<Officer | undefined> =>
    OFFICER_ID.test(id) ? selectOfficer(q, id) : Promise.resolve(undefined),
};

export interface EnterpriseRegistration {
  uscc: unknown;
  name: unknown;
  /** Accept a code whose check characters fail (a legacy code issued that way). */
  overrideCheck?: unknown;
}

export interface OfficerRegistration {
  id: unknown;
  name: unknown;
  /** The authority the officer works for (O of its certificate); default DEFAULT_AUTHORITY. */
  authority?: unknown;
  role: unknown;
  jurisdiction: unknown;
}

/** The authority officers belong to when a registration names none. */
export const DEFAULT_AUTHORITY = 'Administration for Market Regulation';

const OFFICER_ID = /^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/;
export const MAX_PAGE = 500;

/**
 * The registry of enterprises and officers. Every change writes its audit entry in the same
 * transaction; reads go straight to the database.
 */
export class Registry {
  constructor(private readonly deps: RegistryDeps) {}

  /**
   * Registers an enterprise. MUST refuse a malformed USCC, a wrong check character (unless
   * `overrideCheck`), and a USCC already registered (ERR_REGISTRY_ENTERPRISE_EXISTS).
   */
  async registerEnterprise(input: EnterpriseRegistration, actor: string): Promise<Enterprise> {
    if (input.overrideCheck !== undefined && typeof input.overrideCheck !== 'boolean') {
      throw new RegistryError('ERR_REGISTRY_INVALID', 'overrideCheck must be true or false', { detail: { field: 'overrideCheck' } });
    }
    const overrideCheck = input.overrideCheck === true;
    const uscc = parseUscc(input.uscc, { overrideCheck });
    const name = parseName(input.name, 'name');
    return this.deps.audit.record(async (tx, append) => {
      const inserted = await insertEnterprise(tx, {
        uscc: uscc.code,
        name,
        division: uscc.division,
        status: 'active',
        checkOverridden: overrideCheck,
        registeredAt: this.deps.now().toISOString(),
        statusChangedAt: null,
        statusReason: null,
      });
      if (inserted === undefined) {
        throw new RegistryError('ERR_REGISTRY_ENTERPRISE_EXISTS', `enterprise ${uscc.code} is already registered`, {
          detail: { uscc: uscc.code },
        });
      }
      const entry = await append({
        kind: 'enterprise.registered',
        actor,
        subject: `enterprise:${uscc.code}`,
        data: { uscc: inserted.uscc, name: inserted.name, division: inserted.division, checkOverridden: inserted.checkOverridden },
      });
      await bindRows(tx, [{ subject: `enterprise:${inserted.uscc}`, entry }]);
      return inserted;
    });
  }

  /** The enterprise, or ERR_REGISTRY_ENTERPRISE_NOT_FOUND. */
  async getEnterprise(uscc: string, q: Queryable = this.deps.db): Promise<Enterprise> {
    const found = await this.verifiedEnterprise(uscc, q);
    if (found === undefined) {
      throw new RegistryError('ERR_REGISTRY_ENTERPRISE_NOT_FOUND', `no enterprise with USCC ${uscc} is registered`, { detail: { uscc } });
    }
    return found;
  }

  /** The enterprise, or undefined (no error) — for callers that decide themselves. */
  findEnterprise(uscc: string, q: Queryable = this.deps.db, options: { lock?: 'share' } = {}): Promise<Enterprise | undefined> {
    return registryLookups.findEnterprise(uscc, q, options);
  }

  /**
   * A page of enterprises in USCC order; `status: 'revoked'` is the revoked-enterprise list.
   * `search` keeps those whose USCC starts with it or whose name contains it (any case).
   */
  async listEnterprises(options: { status?: unknown; search?: unknown; after?: unknown; limit?: unknown } = {}): Promise<Enterprise[]> {
    let status: EnterpriseStatus | undefined;
    if (options.status !== undefined) {
      if (!ENTERPRISE_STATUSES.includes(options.status as EnterpriseStatus)) {
        throw new RegistryError('ERR_REGISTRY_INVALID', `status must be one of ${ENTERPRISE_STATUSES.join(', ')}`, {
          detail: { field: 'status' },
        });
      }
      status = options.status as EnterpriseStatus;
    }
    const after = options.after === undefined ? undefined : parseUscc(options.after, { overrideCheck: true }).code;
    let search: string | undefined;
    if (options.search !== undefined) {
      // eslint-disable-next-line no-control-regex
      if (typeof options.search !== 'string' || options.search.length > 100 || /[\u0000-\u001f\u007f]/.test(options.search)) {
        throw new RegistryError('ERR_REGISTRY_INVALID', 'search must be text of at most 100 characters', { detail: { field: 'search' } });
      }
      const trimmed = options.search.trim();
      if (trimmed !== '') search = trimmed;
    }
    const filter = {
      ...(status === undefined ? {} : { status }),
      ...(search === undefined ? {} : { search }),
      ...(after === undefined ? {} : { after }),
      limit: parseLimit(options.limit),
    };
    const binding = this.deps.binding;
    if (binding === undefined) return selectEnterprises(this.deps.db, filter);
    const page = await binding.verified(
      this.deps.db,
      () => selectEnterprises(this.deps.db, filter),
      (page) =>
        page.map((e) => ({
          kind: 'enterprise' as const,
          state: { uscc: e.uscc, status: e.status, reason: e.statusReason, name: e.name },
        })),
    );
    if (status === 'revoked' && search === undefined) {
      // The revoked list must hold every enterprise the log says was revoked, whatever its row
      // says: checked for the USCC range this page covers (to the end when it is the last page).
      const full = page.length === filter.limit;
      const missing = await enterpriseRevocationMissing(this.deps.db, {
        ...(after === undefined ? {} : { after }),
        ...(full ? { through: page[page.length - 1]!.uscc } : {}),
      });
      if (missing !== undefined) {
        const divergence = {
          kind: 'enterprise' as const,
          subject: `enterprise:${missing.uscc}`,
          field: 'status',
          row: missing.status,
          log: 'revoked',
          entry: undefined,
          logIndex: missing.logIndex,
        };
        binding.report(divergence, { uscc: missing.uscc, status: missing.status });
        throw divergenceError(divergence);
      }
    }
    return page;
  }

  /**
   * The enterprise as the registry holds it, checked against the log entry that decided its
   * status (ERR_STATE_DIVERGES_FROM_LOG when they disagree): for decisions that rely on it.
   */
  async verifiedEnterprise(uscc: string, q: Queryable = this.deps.db): Promise<Enterprise | undefined> {
    const binding = this.deps.binding;
    if (binding === undefined) return this.findEnterprise(uscc, q);
    return binding.verified(
      q,
      () => selectEnterprise(q, uscc),
      (e) => (e === undefined ? [] : [{ kind: 'enterprise', state: { uscc, status: e.status, reason: e.statusReason, name: e.name } }]),
    );
  }

  /** The officer, checked against its `officer.registered` entry (ERR_STATE_DIVERGES_FROM_LOG when they disagree). */
  async verifiedOfficer(id: string, q: Queryable = this.deps.db): Promise<Officer | undefined> {
    const binding = this.deps.binding;
    if (binding === undefined || !OFFICER_ID.test(id)) return this.findOfficer(id, q);
    const o = await selectOfficer(q, id);
    if (o === undefined) return undefined;
    await binding.assert(q, [
      { kind: 'officer', state: { id, name: o.name, authority: o.authority, role: o.role, jurisdiction: o.jurisdiction } },
    ]);
    return o;
  }

  /**
   * Revokes an enterprise's licence (a decision of the authority): marks it revoked (it joins the
   * revoked-enterprise list) and revokes every certificate it holds (reason cessationOfOperation),
   * all in one transaction with one `enterprise.revoked` entry and one `certificate.revoked` entry
   * per certificate. MUST refuse an enterprise that is not active.
   */
  revokeEnterprise(
    usccInput: unknown,
    reasonInput: unknown,
    actor: string,
  ): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }> {
    return this.#endEnterprise('revoked', usccInput, reasonInput, 'licence revoked', actor);
  }

  /**
   * Deregisters an enterprise that closes at its own request: marks it deregistered (it does NOT
   * join the revoked-enterprise list) and revokes every certificate it holds (reason
   * cessationOfOperation), all in one transaction with one `enterprise.deregistered` entry and
   * one `certificate.revoked` entry per certificate. MUST refuse an enterprise that is not active.
   */
  deregisterEnterprise(
    usccInput: unknown,
    reasonInput: unknown,
    actor: string,
  ): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }> {
    return this.#endEnterprise('deregistered', usccInput, reasonInput, 'deregistered at its own request', actor);
  }

  /**
   * Ends an active enterprise with `status`: the status change (time, reason), the revocation of
   * all its certificates and the `enterprise.<status>` entry commit together; the
   * revocation caches are told only after the COMMIT.
   */
  async #endEnterprise(
    status: Exclude<EnterpriseStatus, 'active'>,
    usccInput: unknown,
    reasonInput: unknown,
    defaultReason: string,
    actor: string,
  ): Promise<{ enterprise: Enterprise; revokedCertificates: string[] }> {
    const uscc = parseUscc(usccInput, { overrideCheck: true }).code;
    const reason = reasonInput === undefined || reasonInput === null ? defaultReason : parseName(reasonInput, 'reason', 500);
    const revoker = this.deps.certificates;
    const result = await this.deps.audit.record(async (tx, append) => {
      const current = await selectEnterprise(tx, uscc, { lock: 'update' });
      if (current === undefined) {
        throw new RegistryError('ERR_REGISTRY_ENTERPRISE_NOT_FOUND', `no enterprise with USCC ${uscc} is registered`, { detail: { uscc } });
      }
      if (current.status !== 'active') {
        throw new RegistryError('ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE', `enterprise ${uscc} is already ${current.status}`, {
          detail: { uscc, status: current.status },
        });
      }
      const at = this.deps.now();
      const enterprise = await updateEnterpriseStatus(tx, uscc, status, at.toISOString(), reason);
      const revokedCertificates = await revoker.revokeAllOfEnterprise(tx, append, uscc, at, actor);
      const entry = await append({
        kind: status === 'revoked' ? 'enterprise.revoked' : 'enterprise.deregistered',
        actor,
        subject: `enterprise:${uscc}`,
        data: { uscc, reason, certificatesRevoked: revokedCertificates.length },
      });
      await bindRows(tx, [{ subject: `enterprise:${uscc}`, entry }]);
      await this.deps.onEnterpriseEnded?.(tx, append, uscc, reason, actor);
      return { enterprise, revokedCertificates };
    });
    revoker.revocationsCommitted();
    return result;
  }

  /**
   * Bulk import of enterprises from CSV or JSON Lines bytes (see ./import.ts for the format and
   * what is committed when): bad records come back in the report, never as a throw.
   */
  importEnterprises(source: AsyncIterable<Uint8Array>, options: ImportOptions, actor: string): Promise<ImportReport> {
    return importEnterprises(this.deps, source, options, actor);
  }

  /** Registers an officer. MUST refuse a duplicate id, an unknown role or a malformed jurisdiction. */
  async registerOfficer(input: OfficerRegistration, actor: string): Promise<Officer> {
    if (typeof input.id !== 'string' || !OFFICER_ID.test(input.id)) {
      throw new RegistryError(
        'ERR_REGISTRY_INVALID',
        'id must be 1–64 characters of letters, digits, "." and "-" (it becomes the certificate serialNumber, a PrintableString)',
        { detail: { field: 'id' } },
      );
    }
    const id = input.id;
    const name = parseName(input.name, 'name');
    const authority =
      input.authority === undefined || input.authority === null ? DEFAULT_AUTHORITY : parseName(input.authority, 'authority');
    if (!OFFICER_ROLES.includes(input.role as OfficerRole)) {
      throw new RegistryError('ERR_REGISTRY_INVALID', `role must be one of ${OFFICER_ROLES.join(', ')}`, { detail: { field: 'role' } });
    }
    const role = input.role as OfficerRole;
    const jurisdiction = parseDivisionCode(input.jurisdiction);
    return this.deps.audit.record(async (tx, append) => {
      const inserted = await insertOfficer(tx, { id, name, authority, role, jurisdiction, registeredAt: this.deps.now().toISOString() });
      if (inserted === undefined) {
        throw new RegistryError('ERR_REGISTRY_OFFICER_EXISTS', `officer ${id} is already registered`, { detail: { id } });
      }
      const entry = await append({
        kind: 'officer.registered',
        actor,
        subject: `officer:${id}`,
        data: { id, name, authority, role, jurisdiction },
      });
      await bindRows(tx, [{ subject: `officer:${id}`, entry }]);
      return inserted;
    });
  }

  findOfficer(id: string, q: Queryable = this.deps.db): Promise<Officer | undefined> {
    return registryLookups.findOfficer(id, q);
  }

  async getOfficer(id: string, q: Queryable = this.deps.db): Promise<Officer> {
    const found = await this.findOfficer(id, q);
    if (found === undefined) {
      throw OFFICER_ID.test(id)
        ? new RegistryError('ERR_REGISTRY_OFFICER_NOT_FOUND', `no officer with id ${id} is registered`, { detail: { id } })
        : new RegistryError('ERR_REGISTRY_OFFICER_NOT_FOUND', 'no officer has that id: officer ids are 1–64 letters, digits, "." and "-"');
    }
    return found;
  }

  listOfficers(options: { after?: unknown; limit?: unknown } = {}): Promise<Officer[]> {
    const after = options.after;
    if (after !== undefined && (typeof after !== 'string' || !OFFICER_ID.test(after))) {
      throw new RegistryError('ERR_REGISTRY_INVALID', 'after must be an officer id (1–64 letters, digits, "." and "-"), given once', {
        detail: { field: 'after' },
      });
    }
    return selectOfficers(this.deps.db, { ...(after === undefined ? {} : { after }), limit: parseLimit(options.limit) });
  }
}

function parseLimit(value: unknown): number {
  if (value === undefined) return 100;
  const n = typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) {
    throw new RegistryError('ERR_REGISTRY_INVALID', `limit must be an integer from 1 to ${MAX_PAGE}`, { detail: { field: 'limit' } });
  }
  return n;
}
