import { bindRows, divergenceError, revocationsInLog, type BoundRow, type StateBinding } from '../audit/binding.js';
import type { Append, AuditLog, NewEntry } from '../audit/types.js';
import { BatchQueue, succeeded } from '../batch.js';
import { selectEnterprisesByUscc, selectOfficersById } from '../registry/store.js';
import type { Enterprise, Officer } from '../registry/types.js';
import { pemEncode } from '../der/pem.js';
import { sha256Hex } from '../crypto/digest.js';
import { exportSpki, generateKeyPair, type KeyAlgorithm } from '../crypto/keys.js';
import type { Database, Queryable, Tx } from '../db/types.js';
import { RegistryError } from '../registry/errors.js';
import type { EnterpriseCertificateRevoker } from '../registry/registry.js';
import { parseUscc } from '../registry/uscc.js';
import {
  buildCertificate,
  compileTemplate,
  encodeName,
  type CertificateTemplate,
  type IssuerContext,
  type RevocationUrls,
} from './certificate-builder.js';
import {
  CA_IDS,
  caUrls,
  crlPartitionOf,
  CRL_SCHEDULE,
  DEFAULT_CRL_PARTITIONS,
  ISSUING_CA,
  MAX_CRL_PARTITIONS,
  partitionCrlUrl,
  publishCrl,
  publishPartitionCrl,
  ROOT_CA,
  type CaId,
  type CrlIssuer,
} from './crl-publisher.js';
import { acceptCertificationRequest } from './csr.js';
import { CaError } from './errors.js';
import { chainPem, type Hierarchy } from './hierarchy.js';
import { formatAttributes } from './names.js';
import type { OfficerAuthorization } from './officer-extension.js';
import { buildPkcs12, oneTimePassword } from './pkcs12.js';
import { ATTRIBUTE_TYPES, fillTemplate, profileById, type CertificateProfile, type ProfileSet } from './profiles.js';
import { parseRevocationReason, reasonName, REVOCATION_REASONS, type RevocationReason } from './reasons.js';
import { newSerial, parseSerial } from './serial.js';
import {
  countRevocations,
  insertCertificatesIfCurrent,
  markEnterpriseCertificatesRevoked,
  type IssuanceGuard,
  type NewCertificateRow,
  markRevoked,
  selectCertificate,
  selectCrl,
  selectPartitionCrl,
  selectPartitionStates,
  selectRevocationCount,
  selectRevocationState,
  selectCrlEntries,
  selectRevocationTotals,
  UNPARTITIONED,
  type CertificateRow,
  type CrlEntryRow,
  type CrlRow,
  type CrlScope,
  type PartitionCrlRow,
} from './store.js';

/** A request to issue: the profile, whose certificate it is, and (for CSR issuance) the CSR. */
export interface IssueRequest {
  profile: unknown;
  /** PEM text or DER bytes of a PKCS#10 request. */
  csr?: unknown;
  /** enterprise-signing: the enterprise. */
  uscc?: unknown;
  /** officer: the officer. */
  officerId?: unknown;
  /** auditor (and admin): the holder's name. */
  name?: unknown;
}

/** A certificate as the API and CLI show it. */
export interface CertificateInfo {
  serial: string;
  profile: string;
  subject: string;
  uscc: string | null;
  officerId: string | null;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  status: 'good' | 'revoked' | 'expired';
  revokedAt: string | null;
  revocationReason: RevocationReason | null;
  sha256: string;
  pem: string;
}

export type CertificateStatus =
  { status: 'good' } | { status: 'revoked'; revokedAt: Date; reason: RevocationReason } | { status: 'unknown' };

/** The registry reads issuance needs: who a certificate's holder is now. */
export interface HolderDirectory {
  findEnterprise(uscc: string, q: Queryable): Promise<Enterprise | undefined>;
  findOfficer(id: string, q: Queryable): Promise<Officer | undefined>;
}

export interface AuthorityDeps {
  db: Database;
  audit: AuditLog;
  holders: HolderDirectory;
  profiles: ProfileSet;
  hierarchy: Hierarchy;
  now: () => Date;
  /** This service's public base URL (e.g. http://127.0.0.1:8080), once known. */
  baseUrl: () => string | undefined;
  /**
   * How many CRL partitions new end-entity certificates are spread over (default
   * DEFAULT_CRL_PARTITIONS); 0: none, every certificate names the full CRL. The service passes
   * the count stored at init (`settleCrlPartitionCount`), the same on every node.
   */
  crlPartitions?: number;
  /** Revocation answers and CRLs are checked against the log (src/audit/binding.ts). */
  binding?: StateBinding;
}

/**
 * The full CRL lists every revocation before it is served — unless it has grown to
 * FULL_CRL_EXACT_MAX_ENTRIES: then, for revocations of partitioned certificates (which do not name
 * it), it is re-signed at most every FULL_CRL_MIN_INTERVAL_MS, so that its cost (which grows with
 * the revoked set) is not paid per revocation. Revocations of certificates that name it are
 * always listed at once.
 */
export const FULL_CRL_EXACT_MAX_ENTRIES = 100_000;
export const FULL_CRL_MIN_INTERVAL_MS = 60_000;
/** A stored CRL whose thisUpdate is further ahead of this node's clock than this is re-signed. */
const CLOCK_AHEAD_TOLERANCE_MS = 300_000;

/** How stale a node's view of the revocation epoch may get (other nodes' revocations). */
export const EPOCH_POLL_MS = 1000;
const NOT_BEFORE_BACKDATE_MS = 60_000;
/** Keys the CA generates for PKCS#12 issuance (RSA-4096 takes seconds: not offered). */
export const GENERATED_KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['P-256', 'P-384', 'Ed25519', 'RSA-2048', 'RSA-3072'];

/**
 * The issuing CA's operations: issuance from PKCS#10 (as an ordered pipeline), revocation, the
 * CRL, and certificate status for OCSP and for path validation. Every decision writes its audit
 * entry in the same transaction as its state change.
 */
export class CertificateAuthority implements EnterpriseCertificateRevoker {
  readonly #templates = new Map<string, CertificateTemplate>();
  readonly #issuer: IssuerContext;
  readonly #crlIssuer: CrlIssuer;
  /** The CAs whose CRL this node can sign: the issuing CA, and the root when its key is here. */
  readonly #crlIssuers = new Map<CaId, CrlIssuer>();
  #epoch = 0;
  #epochCheckedAt = 0;
  /** Certificates of the hierarchy, described by `ca.initialized` rather than by entries of their own. */
  readonly #unlogged: Set<string>;
  #epochListeners: Array<() => void> = [];
  readonly #partitions: number;
  /** CRL signings in progress on this node, by CRL: concurrent requests for a stale CRL wait for one signing. */
  readonly #signing = new Map<string, Promise<Buffer>>();
  /**
   * Under load, issuance coalesces its database work: registry lookups into one query per batch,
   * and the certificate rows with their audit entries into one guarded multi-row insert inside one
   * `audit.record` per batch (see src/batch.ts: no timers, so alone an issuance costs the same
   * as unbatched). A failed batch fails each of its callers.
   */
  readonly #enterprises: BatchQueue<string, Enterprise | undefined>;
  readonly #officers: BatchQueue<string, Officer | undefined>;
  readonly #writer: BatchQueue<{ row: NewCertificateRow; guard: IssuanceGuard; entry: NewEntry }, boolean>;

  constructor(private readonly deps: AuthorityDeps) {
    const partitions = deps.crlPartitions ?? DEFAULT_CRL_PARTITIONS;
    if (!Number.isSafeInteger(partitions) || partitions < 0 || partitions > MAX_CRL_PARTITIONS)
      throw new RangeError(`crlPartitions must be an integer from 0 to ${MAX_CRL_PARTITIONS}`);
    this.#partitions = partitions;
    this.#enterprises = new BatchQueue<string, Enterprise | undefined>({
      run: async (usccs) => {
        const found = new Map((await selectEnterprisesByUscc(deps.db, [...new Set(usccs)])).map((e) => [e.uscc, e]));
        return usccs.map((u) => succeeded(found.get(u)));
      },
    });
    this.#officers = new BatchQueue<string, Officer | undefined>({
      run: async (ids) => {
        const found = new Map((await selectOfficersById(deps.db, [...new Set(ids)])).map((o) => [o.id, o]));
        return ids.map((id) => succeeded(found.get(id)));
      },
    });
    this.#writer = new BatchQueue<{ row: NewCertificateRow; guard: IssuanceGuard; entry: NewEntry }, boolean>({
      run: async (items) => {
        let inserted = new Set<string>();
        await deps.audit.record(async (tx, append) => {
          inserted = await insertCertificatesIfCurrent(tx, items);
          const bound = [];
          for (const item of items)
            if (inserted.has(item.row.serial)) bound.push({ subject: item.entry.subject, entry: await append(item.entry) });
          await bindRows(tx, bound);
        });
        return items.map((item) => succeeded(inserted.has(item.row.serial)));
      },
      maxBatch: 128,
    });
    const issuing = deps.hierarchy.issuing;
    this.#issuer = { name: issuing.subject, keyIdentifier: issuing.keyIdentifier, signer: issuing.signer, notAfter: issuing.notAfter };
    const binding = deps.binding;
    this.#crlIssuer = {
      ca: ISSUING_CA,
      issuerName: issuing.subject,
      issuerKeyIdentifier: issuing.keyIdentifier,
      signer: issuing.signer,
      ...(binding === undefined
        ? {}
        : { entries: (tx: Tx, ca: CaId, scope: CrlScope, at: Date) => crlEntries(tx, binding, ca, scope, at) }),
    };
    // The TSA certificate is described by `ca.initialized` too (made by init); on a data dir from
    // before it existed, it is issued at start with its own entry.
    const described = [deps.hierarchy.ocsp.serial, deps.hierarchy.seal.serial, deps.hierarchy.admin.serial];
    if (deps.hierarchy.tsa !== undefined) described.push(deps.hierarchy.tsa.serial);
    this.#unlogged = new Set(described);
    this.#crlIssuers.set(ISSUING_CA, this.#crlIssuer);
    const root = deps.hierarchy.root;
    if (root.signer !== undefined)
      this.#crlIssuers.set(ROOT_CA, {
        ca: ROOT_CA,
        issuerName: root.subject,
        issuerKeyIdentifier: root.keyIdentifier,
        signer: root.signer,
      });
  }

  get hierarchy(): Hierarchy {
    return this.deps.hierarchy;
  }

  /** Issuing CA then root, PEM: what `GET /ca/chain.pem` serves. */
  get chainPem(): string {
    return chainPem(this.deps.hierarchy);
  }

  /** The URLs certificates point at, or undefined while the service's address is unknown. */
  revocationUrls(): RevocationUrls | undefined {
    const base = this.deps.baseUrl();
    if (base === undefined) return undefined;
    return caUrls(base).issuing;
  }

  /**
   * Issues a certificate from a PKCS#10 request, in this order: profile → CSR parse → signature
   * algorithm allow-list → proof of possession → key policy → subject from the registry (the
   * holder must exist, an enterprise must be active, the CSR's subject must not contradict it) →
   * build → sign → store and audit in one transaction. Any refusal stores nothing.
   */
  async issue(request: IssueRequest, actor: string): Promise<CertificateInfo> {
    const profile = this.issuableProfile(request.profile);
    if (request.csr === undefined || request.csr === null || (typeof request.csr !== 'string' && !(request.csr instanceof Uint8Array))) {
      throw new CaError('ERR_CA_REQUEST_INVALID', 'csr is required: a PKCS#10 request, PEM text', { detail: { field: 'csr' } });
    }
    const csr = acceptCertificationRequest(request.csr);
    const holder = parseHolderReference(profile, request);
    return this.issueForKey(profile, holder, csr.spki, actor, { csrSubject: csr.subject });
  }

  /**
   * Server-side key generation for users without tooling: makes a key pair, issues its
   * certificate (same checks and audit as `issue`), and returns a PKCS#12 bundle (key, certificate,
   * chain) protected by a fresh one-time password. The private key exists only inside the bundle;
   * the password is returned once and stored nowhere.
   */
  async issuePkcs12(
    request: Omit<IssueRequest, 'csr'> & { keyAlgorithm?: unknown },
    actor: string,
  ): Promise<{ certificate: CertificateInfo; pkcs12: Buffer; password: string }> {
    const algorithm = request.keyAlgorithm ?? 'P-256';
    if (!GENERATED_KEY_ALGORITHMS.includes(algorithm as KeyAlgorithm)) {
      throw new CaError('ERR_CA_REQUEST_INVALID', `keyAlgorithm must be one of ${GENERATED_KEY_ALGORITHMS.join(', ')}`, {
        detail: { field: 'keyAlgorithm' },
      });
    }
    const profile = this.issuableProfile(request.profile);
    const holder = parseHolderReference(profile, request);
    const { privateKey, publicKey } = generateKeyPair(algorithm as KeyAlgorithm);
    const certificate = await this.issueForKey(profile, holder, exportSpki(publicKey), actor, { serverGeneratedKey: true });
    const password = oneTimePassword();
    const leaf = (await selectCertificate(this.deps.db, certificate.serial))!.der;
    const pkcs12 = buildPkcs12(
      privateKey.export({ type: 'pkcs8', format: 'der' }),
      [leaf, this.deps.hierarchy.issuing.der, this.deps.hierarchy.root.der],
      password,
      certificate.subject,
    );
    return { certificate, pkcs12, password };
  }

  /** The profile, if the API may issue it (ERR_CA_PROFILE_UNKNOWN / ERR_CA_PROFILE_NOT_ISSUABLE). */
  issuableProfile(id: unknown): CertificateProfile {
    const profile = profileById(this.deps.profiles, id);
    if (!profile.fromCsr) {
      throw new CaError('ERR_CA_PROFILE_NOT_ISSUABLE', `profile ${profile.id} is made by \`chancery init\`, not issued on request`, {
        detail: { field: 'profile' },
      });
    }
    return profile;
  }

  private async issueForKey(
    profile: CertificateProfile,
    holder: HolderReference,
    spki: Buffer,
    actor: string,
    options: { csrSubject?: Array<{ oid: string; value: string }>; serverGeneratedKey?: boolean },
  ): Promise<CertificateInfo> {
    const serial = newSerial();
    const partition = this.#partitions > 0 && profile.revocationInfo ? crlPartitionOf(serial.hex, this.#partitions) : undefined;
    const template = this.template(profile, partition);
    const now = this.deps.now();
    const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000 - NOT_BEFORE_BACKDATE_MS);
    const wanted = new Date(notBefore.getTime() + profile.validityDays * 86_400_000);
    const notAfter = wanted <= this.#issuer.notAfter ? wanted : this.#issuer.notAfter;
    // Subject from the registry, then build and sign — outside the transaction, so that the
    // serialized part (the database and the log) does no cryptography. The insert below is
    // guarded: it happens only if the registry still says what the certificate says, under a
    // share lock that a concurrent licence revocation waits for.
    const resolved = await this.resolveHolder(this.deps.db, profile, holder);
    const attributes = profile.subject.map((e) => ({ type: e.type, value: fillTemplate(e.template, resolved.values) }));
    if (options.csrSubject !== undefined) checkRequestedSubject(options.csrSubject, attributes);
    const subject = encodeName(attributes);
    const der = await buildCertificate(template, {
      serial: serial.bytes,
      notBefore,
      notAfter,
      subject,
      spki,
      ...(resolved.officer === undefined ? {} : { officer: resolved.officer }),
    });
    const row = {
      serial: serial.hex,
      issuer: ISSUING_CA,
      profile: profile.id,
      uscc: resolved.uscc,
      officerId: resolved.officerId,
      subject: formatAttributes(attributes),
      spkiSha256: sha256Hex(spki),
      notBefore,
      notAfter,
      der,
      issuedAt: now,
      ...(partition === undefined ? {} : { crlPartition: partition }),
    };
    const entry: NewEntry = {
      kind: 'certificate.issued',
      actor,
      subject: `certificate:${serial.hex}`,
      data: {
        serial: serial.hex,
        profile: profile.id,
        subject: row.subject,
        ...(resolved.uscc === null ? {} : { uscc: resolved.uscc }),
        ...(resolved.officerId === null ? {} : { officerId: resolved.officerId }),
        notBefore: notBefore.toISOString(),
        notAfter: notAfter.toISOString(),
        spkiSha256: row.spkiSha256,
        certificateSha256: sha256Hex(der),
        ...(options.serverGeneratedKey === true ? { serverGeneratedKey: true } : {}),
      },
    };
    if (!(await this.#writer.submit({ row, guard: resolved.guard, entry }))) {
      // The registry changed since the lookup: say why, from a fresh read.
      await this.resolveHolder(this.deps.db, profile, holder, { fresh: true });
      throw new CaError('ERR_CA_REGISTRY_CHANGED', 'the registry entry changed while the certificate was being issued; ask again');
    }
    return toInfo(
      {
        ...row,
        officer_id: row.officerId,
        spki_sha256: row.spkiSha256,
        not_before: notBefore,
        not_after: notAfter,
        issued_at: now,
        revoked_at: null,
        revocation_reason: null,
        crl_partition: partition ?? null,
      },
      now,
    );
  }

  private async resolveHolder(
    q: Queryable,
    profile: CertificateProfile,
    holder: HolderReference,
    options: { fresh?: boolean } = {},
  ): Promise<ResolvedHolder> {
    switch (holder.kind) {
      case 'enterprise': {
        const enterprise =
          options.fresh === true ? await this.deps.holders.findEnterprise(holder.uscc, q) : await this.#enterprises.submit(holder.uscc);
        if (enterprise === undefined) {
          throw new RegistryError('ERR_REGISTRY_ENTERPRISE_NOT_FOUND', `no enterprise with USCC ${holder.uscc} is registered`, {
            detail: { uscc: holder.uscc },
          });
        }
        if (enterprise.status !== 'active') {
          throw new RegistryError(
            'ERR_REGISTRY_ENTERPRISE_NOT_ACTIVE',
            `enterprise ${holder.uscc} is ${enterprise.status}: it gets no certificate`,
            {
              detail: { uscc: holder.uscc, status: enterprise.status },
            },
          );
        }
        return {
          values: { 'enterprise.name': enterprise.name, 'enterprise.uscc': enterprise.uscc },
          uscc: enterprise.uscc,
          officerId: null,
          guard: { kind: 'enterprise', uscc: enterprise.uscc, name: enterprise.name },
        };
      }
      case 'officer': {
        const officer = options.fresh === true ? await this.deps.holders.findOfficer(holder.id, q) : await this.#officers.submit(holder.id);
        if (officer === undefined)
          throw new RegistryError('ERR_REGISTRY_OFFICER_NOT_FOUND', `no officer with id ${holder.id} is registered`, {
            detail: { id: holder.id },
          });
        return {
          values: { 'officer.name': officer.name, 'officer.authority': officer.authority, 'officer.id': officer.id },
          uscc: null,
          officerId: officer.id,
          guard: { kind: 'officer', ...officer },
          ...(profile.officerAuthorization ? { officer: { role: officer.role, jurisdiction: officer.jurisdiction } } : {}),
        };
      }
      case 'named':
        return { values: { name: holder.name }, uscc: null, officerId: null, guard: { kind: 'none' } };
    }
  }

  /** The compiled profile for certificates whose CRL DP names `partition` (undefined: the full CRL). */
  private template(profile: CertificateProfile, partition: number | undefined): CertificateTemplate {
    const base = this.deps.baseUrl();
    const urls = base === undefined ? undefined : caUrls(base).issuing;
    const key = `${profile.id} ${base ?? ''} ${partition ?? ''}`;
    let template = this.#templates.get(key);
    if (template === undefined) {
      template = compileTemplate(
        profile,
        this.#issuer,
        urls === undefined || partition === undefined ? urls : { ...urls, crl: partitionCrlUrl(base!, partition) },
      );
      this.#templates.set(key, template);
    }
    return template;
  }

  /** The certificate with this serial (ERR_CA_CERTIFICATE_NOT_FOUND). */
  async getCertificate(serialInput: unknown): Promise<CertificateInfo> {
    const serial = parseSerial(serialInput);
    const row = await selectCertificate(this.deps.db, serial);
    if (row === undefined) throw notFound(serial);
    const info = toInfo(row, this.deps.now());
    if (this.deps.binding === undefined || row.issuer !== ISSUING_CA) return info;
    // Served as the log has it: revoked where the log says so (a row that disagrees otherwise is refused).
    const status = await this.certificateStatus(serial);
    if (status.status === 'revoked' && info.status !== 'revoked')
      return { ...info, status: 'revoked', revokedAt: status.revokedAt.toISOString(), revocationReason: status.reason };
    return info;
  }

  /**
   * Revokes one certificate with an RFC 5280 reason, at the current time, in one transaction with
   * its `certificate.revoked` entry and the count of its CRL partition. Once it resolves, every
   * OCSP answer of this node says revoked, other nodes' within EPOCH_POLL_MS, and the next CRL
   * served for its partition (and the full CRL, when the certificate names it) lists it: a CRL
   * whose count is behind is re-signed before it is served. The cost does not depend on how many
   * certificates are revoked: no CRL is signed here. MUST refuse an unknown serial and a
   * certificate already revoked.
   */
  async revoke(serialInput: unknown, reasonInput: unknown, actor: string): Promise<CertificateInfo> {
    const serial = parseSerial(serialInput);
    const reason = parseRevocationReason(reasonInput);
    const info = await this.deps.audit.record(async (tx, append) => {
      const at = new Date(Math.floor(this.deps.now().getTime() / 1000) * 1000);
      // Lock order everywhere: certificate rows, then revocation counts (by partition).
      const row = await markRevoked(tx, serial, at, REVOCATION_REASONS[reason]);
      if (row === undefined) {
        const existing = await selectCertificate(tx, serial);
        if (existing === undefined) throw notFound(serial);
        throw new CaError('ERR_CA_ALREADY_REVOKED', `certificate ${serial} was already revoked at ${existing.revoked_at?.toISOString()}`, {
          detail: { serial, revokedAt: existing.revoked_at?.toISOString() },
        });
      }
      await countRevocations(tx, ISSUING_CA, new Map([[row.crl_partition ?? UNPARTITIONED, 1]]));
      const entry = await append({
        kind: 'certificate.revoked',
        actor,
        subject: `certificate:${serial}`,
        data: {
          serial,
          reason,
          revokedAt: at.toISOString(),
          ...(row.crl_partition === null ? {} : { crlPartition: row.crl_partition }),
          profile: row.profile,
          ...(row.uscc === null ? {} : { uscc: row.uscc }),
        },
      });
      await bindRows(tx, [{ subject: `certificate:${serial}`, entry }]);
      return toInfo(row, at);
    });
    this.revocationsCommitted();
    return info;
  }

  /** EnterpriseCertificateRevoker: inside the registry's transaction, revoke all and count them in their partitions. */
  async revokeAllOfEnterprise(tx: Tx, append: Append, uscc: string, at: Date, actor: string): Promise<string[]> {
    const when = new Date(Math.floor(at.getTime() / 1000) * 1000);
    const revoked = await markEnterpriseCertificatesRevoked(tx, uscc, when, REVOCATION_REASONS.cessationOfOperation);
    if (revoked.length === 0) return [];
    const counts = new Map<number, number>();
    for (const { crlPartition } of revoked) counts.set(crlPartition ?? UNPARTITIONED, (counts.get(crlPartition ?? UNPARTITIONED) ?? 0) + 1);
    await countRevocations(tx, ISSUING_CA, counts);
    const bound = [];
    for (const { serial, crlPartition } of revoked) {
      const entry = await append({
        kind: 'certificate.revoked',
        actor,
        subject: `certificate:${serial}`,
        data: {
          serial,
          reason: 'cessationOfOperation',
          revokedAt: when.toISOString(),
          ...(crlPartition === null ? {} : { crlPartition }),
          profile: 'enterprise-signing',
          uscc,
        },
      });
      bound.push({ subject: `certificate:${serial}`, entry });
    }
    await bindRows(tx, bound);
    return revoked.map((r) => r.serial);
  }

  /** Called after a transaction that revoked something committed: caches re-check at once. */
  revocationsCommitted(): void {
    this.#epochCheckedAt = 0;
    for (const listener of this.#epochListeners) listener();
  }

  /** `listener` runs after every local revocation commits (OCSP cache invalidation). */
  onRevocation(listener: () => void): void {
    this.#epochListeners.push(listener);
  }

  /**
   * The revocation epoch: how many revocations the issuing CA has made (the sum of its partitions'
   * counts, which every revocation increments in its transaction). Read from the database at most
   * every EPOCH_POLL_MS (and at once after a local revocation), so a cache keyed on it sees another
   * node's revocation within that time.
   */
  async revocationEpoch(): Promise<number> {
    const now = Date.now();
    if (now - this.#epochCheckedAt >= EPOCH_POLL_MS) {
      this.#epoch = (await selectRevocationTotals(this.deps.db, ISSUING_CA)).total;
      this.#epochCheckedAt = now;
    }
    return this.#epoch;
  }

  /** The status of a certificate of the issuing CA, from the database. */
  async certificateStatus(serialHex: string, q: Queryable = this.deps.db): Promise<CertificateStatus> {
    let serial: string;
    try {
      serial = parseSerial(serialHex);
    } catch {
      return { status: 'unknown' };
    }
    const binding = this.deps.binding;
    // The row must agree with the log. Inside a caller's transaction (q given) the row may be bound
    // to an entry of that same, uncommitted batch: the caller checked it on committed state first.
    const checked = binding !== undefined && q === this.deps.db;
    const rowOf = (s: Awaited<ReturnType<typeof selectRevocationState>>): BoundRow[] =>
      s === undefined || s.issuer !== ISSUING_CA
        ? []
        : [
            {
              kind: 'certificate',
              state: { serial, revokedAt: s.revoked_at, reason: s.revoked_at === null ? null : reasonName(s.revocation_reason ?? 0) },
              unlogged: this.#unlogged.has(serial),
            },
          ];
    const { value: state, divergences } = checked
      ? await binding.recheck(q, () => selectRevocationState(q, serial), rowOf)
      : { value: await selectRevocationState(q, serial), divergences: [] };
    if (state === undefined || state.issuer !== ISSUING_CA) return { status: 'unknown' };
    {
      const divergence = divergences[0];
      if (divergence !== undefined) {
        // What the log says is final: a certificate it says is revoked is revoked.
        const entry = divergence.entry;
        if (entry?.kind === 'certificate.revoked' && typeof entry.data['revokedAt'] === 'string')
          return {
            status: 'revoked',
            revokedAt: new Date(entry.data['revokedAt']),
            reason: parseRevocationReason(entry.data['reason']),
          };
        throw divergenceError(divergence);
      }
    }
    if (state.revoked_at !== null)
      return { status: 'revoked', revokedAt: state.revoked_at, reason: reasonName(state.revocation_reason ?? 0) };
    return { status: 'good' };
  }

  /** How many CRL partitions new certificates are spread over (0: none). */
  get crlPartitions(): number {
    return this.#partitions;
  }

  /**
   * The current full CRL of `ca` ('issuing' or 'root'), re-signed first if it is past its refresh
   * time, was never published (a data dir initialized before the root published a CRL), or (the
   * issuing CA's) misses a revocation (see FULL_CRL_EXACT_MAX_ENTRIES for the one exception). A node without the root key serves the root
   * CRL another node signed. Its cost grows with the revoked set: large deployments serve the
   * partition CRLs their certificates name.
   */
  async currentCrl(ca: string): Promise<Buffer> {
    if (!(CA_IDS as readonly string[]).includes(ca))
      throw new CaError('ERR_CA_UNKNOWN_CA', `no CA named ${ca}; this service publishes ${CA_IDS.map((id) => `${id}.crl`).join(' and ')}`);
    if (ca === ISSUING_CA) {
      const totals = await selectRevocationTotals(this.deps.db, ISSUING_CA);
      for (;;) {
        const current = await selectCrl(this.deps.db, ISSUING_CA);
        if (current !== undefined && this.fullCrlFresh(current, totals)) return current.der;
        // As for partitions: a signing already running may predate what this request must see.
        await this.signOnce(ISSUING_CA, () =>
          this.deps.db.transaction(async (tx) => {
            const locked = await selectCrl(tx, ISSUING_CA, { forUpdate: true });
            if (locked === undefined || !this.fullCrlFresh(locked, await selectRevocationTotals(tx, ISSUING_CA)))
              await publishCrl(tx, this.#crlIssuer, this.deps.now());
            return (await selectCrl(tx, ISSUING_CA))!.der;
          }),
        );
      }
    }
    await this.refreshCrlIfDue(ca as CaId);
    const crl = await selectCrl(this.deps.db, ca);
    if (crl === undefined)
      throw new CaError('ERR_CA_NOT_INITIALIZED', `the ${ca} CA has no CRL yet${ca === ROOT_CA ? ' and its key is not on this node' : ''}`);
    return crl.der;
  }

  /**
   * The current CRL of one partition of the issuing CA (what `${base}/ca/crl/{partition}`
   * serves), DER, with its issuingDistributionPoint. Re-signed first when its revocation count is
   * ahead of the one it covers, when half its validity has passed, or when it was never signed:
   * so it lists every revocation acknowledged before the request. Signing costs the partition's
   * own size; revocations go on meanwhile. ERR_CA_UNKNOWN_CA for a partition that does not exist.
   */
  async currentPartitionCrl(partitionInput: unknown): Promise<Buffer> {
    const partition = typeof partitionInput === 'string' && /^(0|[1-9][0-9]{0,3})$/.test(partitionInput) ? Number(partitionInput) : NaN;
    // A partition of certificates issued while the CA had more partitions still has its CRL.
    if (!Number.isInteger(partition) || (partition >= this.#partitions && !(await this.partitionExists(partition))))
      throw new CaError(
        'ERR_CA_UNKNOWN_CA',
        this.#partitions === 0
          ? 'this CA publishes no partition CRLs: its certificates name the full CRL, issuing.crl'
          : `no CRL partition ${String(partitionInput).slice(0, 16)}; the partitions are 0 to ${this.#partitions - 1}`,
      );
    const base = this.deps.baseUrl();
    if (base === undefined) throw new CaError('ERR_CA_NOT_INITIALIZED', 'the service does not know its public URL yet');
    const fresh = (crl: PartitionCrlRow, count: number): boolean => crl.covers >= count && !this.due(ISSUING_CA, crl.this_update);
    // Every revocation acknowledged before this request is counted here; a CRL covering this
    // count lists them all. Later revocations do not make this request wait longer.
    const count = await selectRevocationCount(this.deps.db, ISSUING_CA, partition);
    for (;;) {
      const current = await selectPartitionCrl(this.deps.db, ISSUING_CA, partition);
      if (current !== undefined && fresh(current, count)) return current.der;
      // A signing already running may have read the count before the revocation this request
      // must see: after it, look again.
      await this.signOnce(`${ISSUING_CA}/${partition}`, async () => {
        const row = await this.deps.db.transaction((tx) =>
          publishPartitionCrl(tx, this.#crlIssuer, partition, partitionCrlUrl(base, partition), this.deps.now(), fresh),
        );
        return row.der;
      });
    }
  }

  private async partitionExists(partition: number): Promise<boolean> {
    return (await selectPartitionStates(this.deps.db, ISSUING_CA)).some((s) => s.partition === partition);
  }

  /** Half its validity passed, or signed by a clock far ahead of ours (which would make it "not yet valid" here). */
  private due(ca: CaId, thisUpdate: Date): boolean {
    const age = this.deps.now().getTime() - thisUpdate.getTime();
    return age >= CRL_SCHEDULE[ca].refreshAfterMs || age < -CLOCK_AHEAD_TOLERANCE_MS;
  }

  /** Is the issuing CA's stored full CRL good enough to serve (see currentCrl)? */
  private fullCrlFresh(crl: CrlRow, totals: { total: number; unpartitioned: number }): boolean {
    if (this.due(ISSUING_CA, crl.this_update) || crl.covers_unpartitioned < totals.unpartitioned) return false;
    if (crl.covers >= totals.total) return true;
    return crl.entries >= FULL_CRL_EXACT_MAX_ENTRIES && this.deps.now().getTime() - crl.this_update.getTime() < FULL_CRL_MIN_INTERVAL_MS;
  }

  /** Runs one signing per CRL at a time on this node; callers arriving meanwhile share its result. */
  private signOnce(key: string, sign: () => Promise<Buffer>): Promise<Buffer> {
    const running = this.#signing.get(key);
    if (running !== undefined) return running;
    const promise = sign().finally(() => this.#signing.delete(key));
    this.#signing.set(key, promise);
    return promise;
  }

  /**
   * Re-signs the CRL of `ca` (default: every CA whose key is on this node) when half its validity
   * has passed (RFC 5280 §5.1.2.5: a new CRL before nextUpdate), or publishes the first one when
   * there is none; for the issuing CA, also each partition CRL that was ever signed, on the same
   * schedule (a partition behind on revocations is re-signed when it is next requested). Safe on
   * many nodes at once: the check is repeated under the row lock. True when a CRL was signed.
   */
  async refreshCrlIfDue(ca?: CaId): Promise<boolean> {
    let signed = false;
    const base = this.deps.baseUrl();
    if ((ca === undefined || ca === ISSUING_CA) && base !== undefined) {
      for (const state of await selectPartitionStates(this.deps.db, ISSUING_CA)) {
        if (state.this_update === null || !this.due(ISSUING_CA, state.this_update)) continue;
        const before = state.this_update.getTime();
        const row = await this.deps.db.transaction((tx) =>
          publishPartitionCrl(
            tx,
            this.#crlIssuer,
            state.partition,
            partitionCrlUrl(base, state.partition),
            this.deps.now(),
            (crl) => !this.due(ISSUING_CA, crl.this_update),
          ),
        );
        signed ||= row.this_update.getTime() !== before;
      }
    }
    for (const [id, issuer] of this.#crlIssuers) {
      if (ca !== undefined && id !== ca) continue;
      const due = (thisUpdate: Date): boolean => this.due(id, thisUpdate);
      const current = await selectCrl(this.deps.db, id);
      if (current !== undefined && !due(current.this_update)) continue;
      const published = await this.deps.db.transaction(async (tx) => {
        const locked = await selectCrl(tx, id, { forUpdate: true });
        if (locked !== undefined && !due(locked.this_update)) return false;
        await publishCrl(tx, issuer, this.deps.now());
        return true;
      });
      signed ||= published;
    }
    return signed;
  }
}

/**
 * What a CRL of `scope` lists: every revoked row of `ca` in it, and every certificate in it that a
 * `certificate.revoked` entry names even where its row says otherwise (reported, and listed as the
 * log says). A partition's CRL reads only that partition's entries, so its cost stays bounded.
 */
async function crlEntries(tx: Tx, binding: StateBinding, ca: CaId, scope: CrlScope, at: Date): Promise<CrlEntryRow[]> {
  const rows = await selectCrlEntries(tx, ca, scope, at);
  const bySerial = new Map(rows.map((r) => [r.serial, r]));
  for (const logged of await revocationsInLog(tx, binding, ca, at, scope.kind === 'partition' ? scope.partition : undefined)) {
    const revokedAt = typeof logged.entry.data['revokedAt'] === 'string' ? new Date(logged.entry.data['revokedAt']) : undefined;
    const reasonName = logged.entry.data['reason'];
    if (revokedAt === undefined || Number.isNaN(revokedAt.getTime())) continue;
    const reason = REVOCATION_REASONS[parseRevocationReason(reasonName)];
    const row = bySerial.get(logged.serial);
    if (row !== undefined && row.revoked_at.getTime() === revokedAt.getTime() && row.revocation_reason === reason) continue;
    binding.report(
      {
        kind: 'certificate',
        subject: `certificate:${logged.serial}`,
        field: 'revokedAt',
        row: logged.row.revokedAt?.toISOString() ?? null,
        log: revokedAt.toISOString(),
        entry: logged.entry,
        logIndex: logged.logIndex,
      },
      { serial: logged.serial, revokedAt: logged.row.revokedAt?.toISOString() ?? null, reason: logged.row.reason },
    );
    bySerial.set(logged.serial, { serial: logged.serial, revoked_at: revokedAt, revocation_reason: reason });
  }
  return [...bySerial.values()].sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
}

type HolderReference = { kind: 'enterprise'; uscc: string } | { kind: 'officer'; id: string } | { kind: 'named'; name: string };

interface ResolvedHolder {
  values: Record<string, string>;
  uscc: string | null;
  officerId: string | null;
  guard: IssuanceGuard;
  officer?: OfficerAuthorization;
}

/** Checks the shape of the holder reference the profile needs, before any transaction. */
function parseHolderReference(profile: CertificateProfile, request: Omit<IssueRequest, 'csr'>): HolderReference {
  switch (profile.holder) {
    case 'enterprise':
      if (request.uscc === undefined)
        throw new CaError('ERR_CA_REQUEST_INVALID', `profile ${profile.id} needs uscc`, { detail: { field: 'uscc' } });
      return { kind: 'enterprise', uscc: parseUscc(request.uscc, { overrideCheck: true }).code };
    case 'officer':
      if (typeof request.officerId !== 'string' || request.officerId.length === 0 || request.officerId.length > 64) {
        throw new CaError('ERR_CA_REQUEST_INVALID', `profile ${profile.id} needs officerId`, { detail: { field: 'officerId' } });
      }
      return { kind: 'officer', id: request.officerId };
    case 'named': {
      const name = typeof request.name === 'string' ? request.name.normalize('NFC').trim() : '';
      // eslint-disable-next-line no-control-regex
      if (name.length === 0 || name.length > 64 || /[\u0000-\u001f\u007f]/.test(name)) {
        throw new CaError('ERR_CA_REQUEST_INVALID', `profile ${profile.id} needs name (1–64 characters)`, { detail: { field: 'name' } });
      }
      return { kind: 'named', name };
    }
    default:
      throw new CaError('ERR_CA_PROFILE_NOT_ISSUABLE', `profile ${profile.id} is not issued on request`);
  }
}

/**
 * The CA decides the subject; a CSR may carry one, but an attribute of a type the profile sets
 * MUST agree with the value the registry gives (a subject that disagrees with the registry is
 * refused). Attribute types the profile does not use are ignored, not copied.
 */
function checkRequestedSubject(
  requested: ReadonlyArray<{ oid: string; value: string }>,
  decided: ReadonlyArray<{ type: keyof typeof ATTRIBUTE_TYPES; value: string }>,
): void {
  for (const { oid, value } of requested) {
    const ours = decided.filter((a) => ATTRIBUTE_TYPES[a.type].oid === oid).map((a) => a.value);
    if (ours.length > 0 && !ours.includes(value.normalize('NFC').trim())) {
      const type = decided.find((a) => ATTRIBUTE_TYPES[a.type].oid === oid)!.type;
      throw new CaError(
        'ERR_CA_CSR_SUBJECT_MISMATCH',
        `the CSR asks for ${type}="${value}" but the registry says ${type}="${ours[0]}"; leave the CSR subject empty or match the registry`,
        {
          detail: { attribute: type },
        },
      );
    }
  }
}

function notFound(serial: string): CaError {
  return new CaError('ERR_CA_CERTIFICATE_NOT_FOUND', `no certificate with serial ${serial} was issued by this CA`, { detail: { serial } });
}

function toInfo(row: CertificateRow, now: Date): CertificateInfo {
  const revoked = row.revoked_at !== null;
  return {
    serial: row.serial,
    profile: row.profile,
    subject: row.subject,
    uscc: row.uscc,
    officerId: row.officer_id,
    notBefore: row.not_before.toISOString(),
    notAfter: row.not_after.toISOString(),
    issuedAt: row.issued_at.toISOString(),
    status: revoked ? 'revoked' : row.not_after.getTime() < now.getTime() ? 'expired' : 'good',
    revokedAt: row.revoked_at?.toISOString() ?? null,
    revocationReason: row.revocation_reason === null ? null : reasonName(row.revocation_reason),
    sha256: sha256Hex(row.der),
    pem: pemEncode('CERTIFICATE', row.der),
  };
}
