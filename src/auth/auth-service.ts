import { compactVerify } from 'jose';
import type { AuditLog } from '../audit/types.js';
import type { Database } from '../db/types.js';
import type { Signer } from '../crypto/signer.js';
import { parseSerial } from '../ca/serial.js';
import { parseCertificate, type Certificate } from '../verify/certificate.js';
import { PURPOSE_CLIENT_AUTH, PURPOSE_DOCUMENT_SIGNING, validatePath } from '../verify/path.js';
import type { RevocationSource } from '../verify/revocation.js';
import { CHANCERY_ALGORITHMS } from '../verify/algorithms.js';
import { certificateSignedBy } from '../verify/path/signatures.js';
import { consumeChallenge, createChallenge, sweepExpiredChallenges } from './challenges.js';
import { DenialTally, DENIAL_SUMMARY_INTERVAL_MS } from './denial-tally.js';
import { AuthError, type AuthErrorCode } from './errors.js';
import { claimsOfCertificate, ROLE_POLICY, type Principal, type Role } from './principal.js';
import { TokenService } from './tokens.js';

/** Signature algorithms a login JWS may use. */
export const LOGIN_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const;
const MAX_LOGIN_BYTES = 32 * 1024;
const MAX_X5C = 4;

export interface AuthDeps {
  db: Database;
  audit: AuditLog;
  /** Trust anchor of logins: this CA's root. */
  root: Certificate;
  /** The issuing CA, offered to path building when the client sends only its own certificate. */
  issuing: Certificate;
  revocation: RevocationSource;
  tokenSigner: Signer;
  /**
   * Whether the certificate a token was issued for (by serial) has been revoked since: such a
   * token is refused at once rather than at its expiry. Absent: tokens are good until they expire.
   */
  holderRevoked?: (serialHex: string) => Promise<boolean>;
  /**
   * Whether the registry still lets this holder in (an enterprise active, an officer registered
   * as certified), from rows checked against the log: throws to refuse the login.
   */
  checkHolder?: (claims: Omit<Principal, 'expiresAt'>) => Promise<void>;
  now: () => Date;
  /** Period of the `auth.denied.summary` entries, default one minute. */
  denialSummaryIntervalMs?: number;
  /** Told when a summary could not be written (its counts are kept for the next one). */
  onSummaryError?: (error: unknown) => void;
}

/** Where a denial happened, for its audit entry. */
export interface DenialContext {
  method: string;
  path: string;
}

/**
 * Certificate-based login: a single-use challenge, answered by a
 * compact JWS over the nonce signed with the holder's key and carrying the certificate chain in
 * `x5c`; the certificate is validated with Chancery's own RFC 5280 path validation to this CA's
 * root, now, with revocation from the CA database; the token's claims come from the validated
 * certificate. A refusal of a caller this CA certified — a token holder, or a login signed with
 * the key of a certificate this CA issued — is a decision, written to the audit log as
 * `auth.denied`; a refusal of a caller nobody can name is noise, counted and written once a
 * period as `auth.denied.summary` (DenialTally).
 */
export class AuthService {
  readonly tokens: TokenService;
  readonly denials: DenialTally;
  #challenges = 0;

  constructor(private readonly deps: AuthDeps) {
    this.tokens = new TokenService(deps.tokenSigner, deps.now);
    this.denials = new DenialTally(deps.audit, deps.now, deps.onSummaryError);
    this.denials.start(deps.denialSummaryIntervalMs ?? DENIAL_SUMMARY_INTERVAL_MS);
  }

  async challenge(): Promise<{ nonce: string; expiresAt: string }> {
    const now = this.deps.now();
    // Unused challenges expire; the table stays bounded however many are asked for.
    if (++this.#challenges % 64 === 0) await sweepExpiredChallenges(this.deps.db, now);
    return createChallenge(this.deps.db, now);
  }

  /** Stops the summary timer and writes the last summary. */
  async stop(): Promise<void> {
    await this.denials.stop();
  }

  /** Logs in: the token and its principal, or an audited AuthError. */
  async login(body: unknown, context: DenialContext): Promise<{ token: string; expiresAt: string; principal: Principal }> {
    let serial: string | undefined;
    // Whether the caller proved to hold a certificate this CA issued: only then is a refusal a
    // decision about someone (and logged as such); anything else is anonymous noise.
    let identified = false;
    try {
      const { jws, header, nonce } = parseLoginJws(body);
      const chain = header.x5c.map((b64, i) => parseChainCertificate(b64, i));
      const leaf = chain[0]!;
      serial = parseSerial(leaf.serialNumberHex);
      const claims = claimsOfCertificate(leaf, serial);
      if ('refused' in claims) throw new AuthError('ERR_AUTH_CERTIFICATE_REJECTED', claims.refused);
      try {
        await compactVerify(jws, leaf.publicKey, { algorithms: [...LOGIN_ALGORITHMS] });
      } catch (error) {
        throw new AuthError('ERR_AUTH_SIGNATURE_INVALID', "the login signature does not verify under the certificate's key", {
          cause: error,
        });
      }
      identified =
        leaf.issuerDer.equals(this.deps.issuing.subjectDer) && certificateSignedBy(leaf, this.deps.issuing, CHANCERY_ALGORITHMS).ok;
      await this.validateCertificate(leaf, chain.slice(1), claims.role);
      if (this.deps.checkHolder !== undefined) await this.deps.checkHolder(claims);
      if (!(await consumeChallenge(this.deps.db, nonce, this.deps.now()))) {
        throw new AuthError(
          'ERR_AUTH_CHALLENGE_INVALID',
          'the nonce is unknown, expired or already used: ask /api/v1/auth/challenge for a new one',
        );
      }
      const { token, expiresAt } = await this.tokens.issue(claims);
      return { token, expiresAt, principal: { ...claims, expiresAt } };
    } catch (error) {
      if (error instanceof AuthError) {
        if (identified) await this.recordDenial(error.code, error.message, `certificate:${serial}`, context);
        else this.denials.count(error.code, context.path);
      }
      throw error;
    }
  }

  private async validateCertificate(leaf: Certificate, intermediates: Certificate[], role: Role): Promise<void> {
    const result = await validatePath({
      leaf,
      intermediates: [...intermediates, this.deps.issuing],
      anchors: [this.deps.root],
      time: this.deps.now(),
      // Enterprises log in with their signing certificate (documentSigning EKU only, as the
      // profile fixes); everyone else holds clientAuth.
      purpose: role === 'enterprise' ? PURPOSE_DOCUMENT_SIGNING : PURPOSE_CLIENT_AUTH,
      requiredPolicies: [ROLE_POLICY[role]],
      revocation: this.deps.revocation,
    });
    if (result.indication !== 'TOTAL_PASSED') {
      const failed = result.checks.find((c) => c.result !== 'PASSED');
      throw new AuthError(
        'ERR_AUTH_CERTIFICATE_REJECTED',
        `the certificate is not valid for login now (${result.subIndication ?? result.indication}${failed === undefined ? '' : `: ${failed.message}`})`,
        {
          detail: { indication: result.indication, subIndication: result.subIndication },
        },
      );
    }
  }

  /**
   * Verifies a bearer token; an invalid one is audited and refused, and so is a valid one whose
   * certificate has been revoked since the login.
   */
  async authenticate(authorization: string | undefined, context: DenialContext): Promise<Principal> {
    const match = authorization === undefined ? null : /^Bearer ([A-Za-z0-9_\-.]{1,4096})$/.exec(authorization);
    let principal: Principal;
    try {
      if (match === null) {
        throw new AuthError(
          'ERR_AUTH_TOKEN_MISSING',
          authorization === undefined
            ? 'this route needs a bearer token: log in at /api/v1/auth/token'
            : 'the Authorization header is not "Bearer <token>"',
        );
      }
      principal = await this.tokens.verify(match[1]!);
    } catch (error) {
      // No token, or one that does not verify: nobody to name. Counted, not logged one by one.
      if (error instanceof AuthError) this.denials.count(error.code, context.path);
      throw error;
    }
    if (this.deps.holderRevoked !== undefined && (await this.deps.holderRevoked(principal.certificateSerial))) {
      const error = new AuthError(
        'ERR_AUTH_TOKEN_INVALID',
        `the certificate this token was issued for (serial ${principal.certificateSerial}) has been revoked since the login`,
      );
      await this.recordDenial(error.code, error.message, principal.actor, context);
      throw error;
    }
    return principal;
  }

  /** Refuses (and audits) a principal whose role is not among `roles`. */
  async authorize(principal: Principal, roles: readonly Role[], context: DenialContext): Promise<void> {
    if (roles.includes(principal.role)) return;
    const error = new AuthError('ERR_AUTH_FORBIDDEN', `this route is for ${roles.join(' or ')}, not ${principal.role}`, {
      detail: { role: principal.role, allowed: roles },
    });
    await this.recordDenial(error.code, error.message, principal.actor, context);
    throw error;
  }

  /** Writes an `auth.denied` entry (and waits for its commit). */
  async recordDenial(code: AuthErrorCode | string, reason: string, actor: string, context: DenialContext): Promise<void> {
    await this.deps.audit.record(async (_tx, append) => {
      await append({
        kind: 'auth.denied',
        actor,
        subject: 'auth',
        data: { code, reason, method: context.method, path: context.path.slice(0, 256) },
      });
    });
  }
}

interface LoginHeader {
  alg: string;
  x5c: string[];
}

/** The login body: `{ "jws": "<compact JWS>" }` whose payload is `{ "nonce": "…" }`. */
function parseLoginJws(body: unknown): { jws: string; header: LoginHeader; nonce: string } {
  const malformed = (why: string): AuthError =>
    new AuthError('ERR_AUTH_LOGIN_MALFORMED', `the login is not a compact JWS over {"nonce": …} with an x5c header: ${why}`);
  if (typeof body !== 'object' || body === null || typeof (body as { jws?: unknown }).jws !== 'string')
    throw malformed('the body must be {"jws": "<compact JWS>"}');
  const jws = (body as { jws: string }).jws;
  if (jws.length > MAX_LOGIN_BYTES) throw malformed('it is too long');
  const parts = jws.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw malformed('it does not have three base64url parts');
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw malformed('its header or payload is not JSON');
  }
  if (typeof header !== 'object' || header === null || typeof payload !== 'object' || payload === null)
    throw malformed('its header and payload must be JSON objects');
  if (!LOGIN_ALGORITHMS.includes(header['alg'] as (typeof LOGIN_ALGORITHMS)[number]))
    throw malformed(`alg must be one of ${LOGIN_ALGORITHMS.join(', ')}`);
  if ('crit' in header || 'b64' in header) throw malformed('crit and b64 are not used in a login');
  const x5c = header['x5c'];
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_X5C || !x5c.every((c) => typeof c === 'string'))
    throw malformed(`x5c must list 1–${MAX_X5C} certificates`);
  const nonce = payload['nonce'];
  if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(nonce))
    throw malformed('the payload must carry the nonce from /api/v1/auth/challenge');
  return { jws, header: { alg: header['alg'] as string, x5c: x5c as string[] }, nonce };
}

function parseChainCertificate(b64: string, index: number): Certificate {
  // RFC 7515 §4.1.6: x5c entries are base64 (not base64url) DER.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new AuthError('ERR_AUTH_LOGIN_MALFORMED', `x5c[${index}] is not base64 DER`);
  try {
    return parseCertificate(Buffer.from(b64, 'base64'));
  } catch (error) {
    throw new AuthError('ERR_AUTH_LOGIN_MALFORMED', `x5c[${index}] is not a DER certificate`, { cause: error });
  }
}
