import { StateBinding } from '../audit/binding.js';
import type { AuditLog } from '../audit/types.js';
import { AuthService } from '../auth/auth-service.js';
import { AuthError } from '../auth/errors.js';
import { CertificateAuthority } from '../ca/authority.js';
import { caUrls } from '../ca/crl-publisher.js';
import type { Augmentation, ValidationData } from '../submissions/augment.js';
import type { EvidenceLog } from '../submissions/service.js';
import { CaError } from '../ca/errors.js';
import {
  addTsaCertificate,
  expiringHierarchyCertificates,
  initializeHierarchy,
  loadHierarchy,
  settleCrlPartitionCount,
  type Hierarchy,
} from '../ca/hierarchy.js';
import { readCertificateFields } from '../ca/certificate-fields.js';
import { buildOcspRequest } from '../ca/ocsp-request.js';
import { OcspResponder } from '../ca/ocsp-responder.js';
import { loadProfiles } from '../ca/profiles.js';
import { databaseRevocationSource, revokedSerialCheck } from '../ca/revocation-source.js';
import type { KeyStore } from '../crypto/key-store.js';
import type { Database } from '../db/types.js';
import type { Logger } from '../log.js';
import type { PolicySet } from '../policy/policy.js';
import { Registry, registryLookups, type EnterpriseEndedHook } from '../registry/registry.js';
import { ReceiptSigner } from '../submissions/receipts.js';
import { epochCachedRevocation } from '../submissions/revocation-cache.js';
import { SubmissionService } from '../submissions/service.js';
import { parseCertificate, type Certificate } from '../verify/certificate.js';
import { isSuccessfulOcspResponse } from '../verify/ocsp.js';
import type { RevocationSource } from '../verify/revocation.js';
import { TimeStampAuthority } from '../tsa/authority.js';
import { RemoteTimeStamper } from '../tsa/client.js';
import type { TimeStamper } from '../tsa/types.js';
import type { AugmentLevel } from '../config.js';

/** This CA's trust material for path validation, parsed once: the root and the issuing CA. */
export interface Trust {
  anchors: Certificate[];
  intermediates: Certificate[];
}

/** The domain parts over one database and audit log, wired to each other. */
export interface Parts {
  registry: Registry;
  ca: CertificateAuthority;
  ocsp: OcspResponder;
  auth: AuthService;
  /** RevocationSource over the CA database, for path validation by other parts. */
  revocation: RevocationSource;
  trust: Trust;
  /** Chancery's own time-stamping authority (`POST /tsa`). */
  tsa: TimeStampAuthority;
  /**
   * Where the service's own time-stamps come from: the outside TSA at CHANCERY_TSA_URL when
   * configured (a deployment may have to use a qualified one), else Chancery's own TSA.
   */
  timeStamper: TimeStamper;
  /** Present when the policies were given: the submission workflow. */
  submissions: SubmissionService | undefined;
  /** Checks decision-bearing rows against the log entries that made them (its counter goes on /metrics). */
  binding: StateBinding;
  /** True when this start made the hierarchy (an empty data dir and database). */
  initialized: boolean;
  /** Stops the CRL refresh timer. */
  stop(): void;
}

export interface ComposeOptions {
  db: Database;
  audit: AuditLog;
  keys: KeyStore;
  dataDir: string;
  logger: Logger;
  now?: () => Date;
  /** This service's public base URL once known (certificates point at it). */
  baseUrl: () => string | undefined;
  /** Make the hierarchy when the database has none (`chancery serve` on an empty data dir). */
  initializeIfEmpty: boolean;
  /** How often to check whether a CRL needs re-signing; 0 disables the timer (CLI). */
  crlRefreshIntervalMs?: number;
  /**
   * The CRL partition count the operator asked for (CHANCERY_CRL_PARTITIONS / --crl-partitions):
   * stored when this start makes the hierarchy, else it must equal the stored one. Unset: the stored one.
   */
  crlPartitions?: number | undefined;
  /** The transaction policies; without them no submission workflow is built (admin tools). */
  policies?: PolicySet;
  /** An outside TSA to take the service's time-stamps from (CHANCERY_TSA_URL). */
  tsaUrl?: string | undefined;
  /** What accepted signatures get (CHANCERY_AUGMENT): B-LT by default, time-stamps only, or nothing. */
  augment?: AugmentLevel | undefined;
  /** The log's read side for evidence containers (GET /api/v1/submissions/{id}/evidence). */
  evidenceLog?: EvidenceLog;
}

/**
 * Builds the registry, the CA, the OCSP responder, login and the submission workflow, in the
 * order their dependencies allow: the CA reads certificate holders through the registry's plain
 * lookups, and the registry revokes an ended enterprise's certificates through the CA.
 */
export async function composeParts(options: ComposeOptions): Promise<Parts> {
  const now = options.now ?? (() => new Date());
  const profiles = loadProfiles();
  const opened = await openHierarchy(options, profiles, now);
  const { initialized } = opened;
  const base = options.baseUrl();
  const hierarchy = await addTsaCertificate(
    {
      db: options.db,
      audit: options.audit,
      keys: options.keys,
      profiles,
      now,
      dataDir: options.dataDir,
      urls: base === undefined ? undefined : caUrls(base),
      log: (message) => options.logger.info(message),
    },
    opened.hierarchy,
  );
  for (const c of expiringHierarchyCertificates(hierarchy, now())) {
    options.logger.warn(
      { certificate: c.certificate, notAfter: c.notAfter.toISOString(), daysLeft: c.daysLeft },
      c.daysLeft < 0
        ? `the ${c.certificate} certificate has expired`
        : `the ${c.certificate} certificate expires in ${c.daysLeft} days and nothing renews it`,
    );
  }
  // CHANCERY_BENCH_UNCHECKED_STATE=1 turns the checks off, for the benchmark that measures them only.
  const unchecked = process.env['CHANCERY_BENCH_UNCHECKED_STATE'] === '1';
  if (unchecked) options.logger.warn('CHANCERY_BENCH_UNCHECKED_STATE=1: rows are NOT checked against the log (benchmark only)');
  const binding = new StateBinding({ logger: options.logger, enabled: !unchecked });
  const crlPartitions = await settleCrlPartitionCount(options.db, options.crlPartitions, now);
  const ca = new CertificateAuthority({
    db: options.db,
    audit: options.audit,
    holders: registryLookups,
    profiles,
    hierarchy,
    now,
    baseUrl: options.baseUrl,
    crlPartitions,
    binding,
  });
  // An enterprise's end closes its open applications in the same transaction; the submission
  // service is built after the registry, so the hook is bound once it exists.
  let closeApplications: EnterpriseEndedHook | undefined;
  const registry = new Registry({
    db: options.db,
    audit: options.audit,
    now,
    certificates: ca,
    onEnterpriseEnded: (...args) => closeApplications?.(...args) ?? Promise.resolve([]),
    binding,
  });
  const ocsp = new OcspResponder({
    issuer: { subject: hierarchy.issuing.subject, spki: hierarchy.issuing.spki },
    responder: { der: hierarchy.ocsp.der, spki: hierarchy.ocsp.spki, signer: hierarchy.ocsp.signer },
    status: (serial) => ca.certificateStatus(serial),
    epoch: () => ca.revocationEpoch(),
    now,
  });
  ca.onRevocation(() => ocsp.invalidate());
  const revocation = databaseRevocationSource(ca);
  const trust: Trust = { anchors: [parseCertificate(hierarchy.root.der)], intermediates: [parseCertificate(hierarchy.issuing.der)] };
  const auth = new AuthService({
    db: options.db,
    audit: options.audit,
    root: trust.anchors[0]!,
    issuing: trust.intermediates[0]!,
    revocation,
    tokenSigner: hierarchy.tokenSigner,
    holderRevoked: revokedSerialCheck(ca),
    checkHolder: async (claims) => {
      if (claims.role === 'enterprise' && claims.uscc !== undefined) {
        const enterprise = await registry.verifiedEnterprise(claims.uscc);
        if (enterprise !== undefined && enterprise.status !== 'active')
          throw new AuthError('ERR_AUTH_CERTIFICATE_REJECTED', `enterprise ${claims.uscc} is ${enterprise.status}: it may not log in`);
      } else if (claims.role === 'officer' && claims.officer !== undefined) {
        await registry.verifiedOfficer(claims.officer.id);
      }
    },
    now,
    onSummaryError: (error) => options.logger.warn({ err: error }, 'denial summary not written; kept for the next one'),
  });
  const tsa = new TimeStampAuthority({
    audit: options.audit,
    signer: hierarchy.tsa.signer,
    certificate: hierarchy.tsa.der,
    chain: [hierarchy.issuing.der],
    now,
  });
  const timeStamper = options.tsaUrl === undefined ? tsa : new RemoteTimeStamper({ url: options.tsaUrl });

  const wired = { db: options.db, audit: options.audit, registry, ca, auth, revocation, trust, binding, now };
  const submissions =
    options.policies === undefined
      ? undefined
      : buildSubmissionService(
          wired,
          options.policies,
          // Accepted signatures get a signature time-stamp (B-T), and a finished workflow the
          // certificates, CRLs and OCSP responses that showed them good (B-LT), unless the
          // operator chose less.
          augmentationFor(
            options.augment ?? 'lt',
            timeStamper,
            caValidationData(ca, ocsp, options.tsaUrl === undefined ? [hierarchy.tsa.der] : []),
          ),
          options.evidenceLog,
        );
  if (submissions !== undefined)
    closeApplications = (tx, append, uscc, reason, actor) => submissions.closeOpenApplications(tx, append, uscc, reason, actor);

  const stopCrlRefresh = await startCrlRefresh(ca, options.logger, options.crlRefreshIntervalMs ?? 60_000);
  const stop = (): void => {
    stopCrlRefresh();
    // The last denial summary is written by the service's stop (before the log closes).
    void auth.stop();
  };
  return { registry, ca, ocsp, auth, revocation, trust, tsa, timeStamper, binding, submissions, initialized, stop };
}

/**
 * The submission workflow over the CA, registry and login: revocation from the CA database cached
 * per revocation epoch, receipts signed with the service seal's Signer.
 */
export function buildSubmissionService(
  parts: Pick<Parts, 'registry' | 'ca' | 'auth' | 'revocation' | 'trust' | 'binding'> &
    Partial<Pick<Parts, 'ocsp'>> & { db: Database; audit: AuditLog; now?: () => Date },
  policies: PolicySet,
  augmentation: Augmentation = {
    // Signature time-stamps (B-T): plug a TimeStamper (Chancery's TSA or an outside TSA's client) in here.
    timeStamper: undefined,
    // B-LT: the CA certificates and the CRLs current when a workflow ends.
    validationData: caValidationData(parts.ca, parts.ocsp),
  },
  evidenceLog?: EvidenceLog,
): SubmissionService {
  const { registry, ca, auth } = parts;
  const hierarchy = ca.hierarchy;
  return new SubmissionService({
    augmentation,
    evidenceLog,
    db: parts.db,
    audit: parts.audit,
    policies,
    trust: parts.trust,
    revocation: epochCachedRevocation(parts.revocation, () => ca.revocationEpoch()),
    receipts: new ReceiptSigner(hierarchy.seal.signer, [hierarchy.seal.der, hierarchy.issuing.der]),
    findEnterprise: (uscc, tx) => registry.findEnterprise(uscc, tx),
    binding: parts.binding,
    certificateRevokedAt: async (serial, tx) => {
      const status = await ca.certificateStatus(serial, tx);
      return status.status === 'revoked' ? status.revokedAt : undefined;
    },
    officerOfCertificate: async (serial) => {
      try {
        return (await ca.getCertificate(serial)).officerId ?? undefined;
      } catch (error) {
        // Only "this CA has no such certificate" means "not an officer"; a failed read is a fault.
        if (error instanceof CaError && (error.code === 'ERR_CA_CERTIFICATE_NOT_FOUND' || error.code === 'ERR_CA_SERIAL_MALFORMED'))
          return undefined;
        throw error;
      }
    },
    recordDenial: (code, reason, actor, context) => auth.recordDenial(code, reason, actor, context),
    now: parts.now ?? (() => new Date()),
  });
}

/** The augmentation of an operator's CHANCERY_AUGMENT level. */
export function augmentationFor(
  level: AugmentLevel,
  timeStamper: TimeStamper,
  validationData: Augmentation['validationData'],
): Augmentation {
  return {
    timeStamper: level === 'none' ? undefined : timeStamper,
    validationData: level === 'lt' ? validationData : undefined,
  };
}

/**
 * The validation data for B-LT envelopes and evidence containers: the CA certificates, its current
 * CRLs, and an OCSP response from the service's own responder for each certificate the issuing CA
 * issued among those asked about (and `alwaysAsked`, e.g. the TSA's certificate). The CRLs are
 * read at most once per 10 s and again after every revocation (a CRL is otherwise re-signed long
 * before it is due), so accepting does not cost two reads each; the responder caches its answers
 * per revocation epoch itself.
 */
export function caValidationData(
  ca: Parts['ca'],
  ocsp?: OcspResponder,
  alwaysAsked: readonly Uint8Array[] = [],
  ttlMs = 10_000,
): (certificates?: readonly Uint8Array[]) => Promise<ValidationData> {
  let cached: { at: number; data: Promise<Omit<ValidationData, 'ocspResponses'>> } | undefined;
  ca.onRevocation(() => (cached = undefined)); // a revocation re-signs the CRL: serve the new one
  const issuing = ca.hierarchy.issuing;
  const crlsAndCertificates = (): Promise<Omit<ValidationData, 'ocspResponses'>> => {
    const now = Date.now();
    if (cached === undefined || now - cached.at > ttlMs) {
      const data = Promise.all([ca.currentCrl('issuing'), ca.currentCrl('root')]).then((crls) => ({
        certificates: [issuing.der, ca.hierarchy.root.der],
        crls,
      }));
      cached = { at: now, data };
      data.catch(() => (cached = undefined));
    }
    return cached.data;
  };
  return async (certificates = []) => {
    const base = await crlsAndCertificates();
    if (ocsp === undefined) return { ...base, ocspResponses: [] };
    const serials = new Set<string>();
    for (const der of [...certificates, ...alwaysAsked]) {
      const fields = readCertificateFields(Buffer.from(der));
      if (fields.issuer.equals(issuing.subject)) serials.add(fields.serial);
    }
    const ocspResponses: Buffer[] = [];
    for (const serial of serials) {
      const { der } = await ocsp.respond(buildOcspRequest(issuing.der, serial, { hash: 'sha256' }));
      // Only a signed answer is validation data; an internalError leaves the CRL to show the status.
      if (isSuccessfulOcspResponse(der)) ocspResponses.push(der);
    }
    return { ...base, ocspResponses };
  };
}

async function openHierarchy(
  options: ComposeOptions,
  profiles: ReturnType<typeof loadProfiles>,
  now: () => Date,
): Promise<{ hierarchy: Hierarchy; initialized: boolean }> {
  try {
    return { hierarchy: await loadHierarchy({ db: options.db, keys: options.keys, dataDir: options.dataDir }), initialized: false };
  } catch (error) {
    if (!(error instanceof CaError && error.code === 'ERR_CA_NOT_INITIALIZED' && options.initializeIfEmpty)) throw error;
  }
  const base = options.baseUrl();
  const { hierarchy } = await initializeHierarchy(
    {
      db: options.db,
      audit: options.audit,
      keys: options.keys,
      profiles,
      now,
      dataDir: options.dataDir,
      urls: base === undefined ? undefined : caUrls(base),
      log: (message) => options.logger.info(message),
    },
    { crlPartitions: options.crlPartitions },
  );
  return { hierarchy, initialized: true };
}

/**
 * A serving node publishes what is due at once (in a data dir initialized before the root
 * published a CRL, that is the root's first CRL), then checks every `intervalMs`. A failure is
 * logged and retried by the timer. Returns the function that stops it.
 */
async function startCrlRefresh(ca: CertificateAuthority, logger: Logger, intervalMs: number): Promise<() => void> {
  if (intervalMs <= 0) return () => undefined;
  const refresh = async (): Promise<void> => {
    await ca.refreshCrlIfDue().catch((error: unknown) => logger.error({ err: error }, 'CRL refresh failed'));
  };
  await refresh();
  const timer = setInterval(() => void refresh(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
