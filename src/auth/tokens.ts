import { jwtVerify, errors as joseErrors } from 'jose';
import { randomBytes, sha256 } from '../crypto/digest.js';
import type { Signer } from '../crypto/signer.js';
import { exportSpki } from '../crypto/keys.js';
import { AuthError } from './errors.js';
import { ROLES, type Principal, type Role } from './principal.js';

/**
 * Session tokens: ES256 JWTs (RFC 7519) signed through the KeyStore's `auth-token` Signer, so the
 * key can live in an HSM like the CA keys. Verified with jose, pinned to ES256, this issuer and
 * audience, and the injected clock.
 */
export const TOKEN_LIFETIME_SECONDS = 15 * 60;
export const TOKEN_ISSUER = 'urn:chancery';
export const TOKEN_AUDIENCE = 'urn:chancery:api';

const b64u = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url');

export class TokenService {
  readonly #kid: string;

  constructor(
    private readonly signer: Signer,
    private readonly now: () => Date,
  ) {
    if (signer.algorithm !== 'ES256') throw new Error('the token key must be P-256 (ES256)');
    this.#kid = b64u(sha256(exportSpki(signer.publicKey)).subarray(0, 16));
  }

  /** Signs a token for the principal; returns it with its expiry. */
  async issue(claims: Omit<Principal, 'expiresAt'>): Promise<{ token: string; expiresAt: string }> {
    const iat = Math.floor(this.now().getTime() / 1000);
    const exp = iat + TOKEN_LIFETIME_SECONDS;
    const header = { alg: 'ES256', typ: 'JWT', kid: this.#kid };
    const payload = {
      iss: TOKEN_ISSUER,
      aud: TOKEN_AUDIENCE,
      sub: claims.actor,
      iat,
      nbf: iat,
      exp,
      jti: b64u(randomBytes(12)),
      role: claims.role,
      cert: claims.certificateSerial,
      name: claims.name,
      ...(claims.uscc === undefined ? {} : { uscc: claims.uscc }),
      ...(claims.officer === undefined ? {} : { officer: claims.officer }),
    };
    const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
    const signature = await this.signer.sign(Buffer.from(input, 'ascii'), { dsaEncoding: 'ieee-p1363' });
    return { token: `${input}.${b64u(signature)}`, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** The principal of a valid token; ERR_AUTH_TOKEN_INVALID otherwise (expired, forged, malformed). */
  async verify(token: string): Promise<Principal> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.signer.publicKey, {
        algorithms: ['ES256'],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        currentDate: this.now(),
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (error) {
      const reason = error instanceof joseErrors.JWTExpired ? 'the token has expired' : 'the token is not valid';
      throw new AuthError('ERR_AUTH_TOKEN_INVALID', `${reason}: log in again`, { cause: error });
    }
    const role = payload['role'] as Role;
    if (!ROLES.includes(role) || typeof payload['sub'] !== 'string' || typeof payload['cert'] !== 'string') {
      throw new AuthError('ERR_AUTH_TOKEN_INVALID', 'the token lacks Chancery claims');
    }
    return {
      role,
      actor: payload['sub'],
      certificateSerial: payload['cert'],
      name: typeof payload['name'] === 'string' ? payload['name'] : '',
      ...(typeof payload['uscc'] === 'string' ? { uscc: payload['uscc'] } : {}),
      ...(typeof payload['officer'] === 'object' && payload['officer'] !== null
        ? { officer: payload['officer'] as NonNullable<Principal['officer']> }
        : {}),
      expiresAt: new Date((payload['exp'] as number) * 1000).toISOString(),
    };
  }
}
