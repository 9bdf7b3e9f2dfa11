import { fetchService } from './errors.js';
import type { Signer } from '../crypto/signer.js';

/**
 * The client side of certificate login, for the CLI, tests and any tool: sign the server's nonce
 * as a compact JWS whose `x5c` carries the holder's certificate (and optionally its chain).
 */
export async function signLoginJws(signer: Signer, nonce: string, certificatesDer: readonly Uint8Array[]): Promise<string> {
  const b64u = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url');
  const header = { alg: signer.algorithm, x5c: certificatesDer.map((der) => Buffer.from(der).toString('base64')) };
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify({ nonce }))}`;
  const signature = await signer.sign(Buffer.from(input, 'ascii'), { dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64u(signature)}`;
}

export interface LoginResult {
  token: string;
  expiresAt: string;
  principal: Record<string, unknown>;
}

/**
 * Logs in to a running service: challenge, signed nonce, token. Throws an Error carrying the
 * problem document's code when the service refuses.
 */
export async function loginOverHttp(baseUrl: string, signer: Signer, certificatesDer: readonly Uint8Array[]): Promise<LoginResult> {
  const challengeRes = await fetchService(`${baseUrl}/api/v1/auth/challenge`);
  if (!challengeRes.ok) throw await problemError(challengeRes);
  const { nonce } = (await challengeRes.json()) as { nonce: string };
  const jws = await signLoginJws(signer, nonce, certificatesDer);
  const tokenRes = await fetchService(`${baseUrl}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jws }),
  });
  if (!tokenRes.ok) throw await problemError(tokenRes);
  return (await tokenRes.json()) as LoginResult;
}

/**
 * A login kept fresh for a long-running command (the import of a national registry, an audit
 * replay over millions of subjects: tens of minutes against a 15-minute token): the header is
 * taken from the current token, and a new login with the same credential replaces it once less
 * than `renewBeforeMs` is left. Concurrent callers share one renewal.
 */
export class RenewingLogin {
  readonly #login: () => Promise<LoginResult>;
  readonly #renewBeforeMs: number;
  #current: LoginResult;
  #renewing: Promise<LoginResult> | undefined;

  private constructor(login: () => Promise<LoginResult>, first: LoginResult, renewBeforeMs: number) {
    this.#login = login;
    this.#current = first;
    this.#renewBeforeMs = renewBeforeMs;
  }

  /** Logs in now (so a refused credential fails at once) and keeps the login fresh afterwards. */
  static async start(login: () => Promise<LoginResult>, renewBeforeMs = 120_000): Promise<RenewingLogin> {
    return new RenewingLogin(login, await login(), renewBeforeMs);
  }

  /** `Bearer <token>`, with a token that has at least `renewBeforeMs` left. */
  async authorization(): Promise<string> {
    if (!(Date.now() < Date.parse(this.#current.expiresAt) - this.#renewBeforeMs)) {
      this.#renewing ??= this.#login().finally(() => (this.#renewing = undefined));
      this.#current = await this.#renewing;
    }
    return `Bearer ${this.#current.token}`;
  }
}

/** An Error for a problem-document response, with `code` and `status`. */
export async function problemError(res: Response): Promise<Error & { code?: string; status: number }> {
  let body: { code?: string; detail?: string } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    /* not JSON */
  }
  const error = new Error(body.detail ?? `HTTP ${res.status}`) as Error & { code?: string; status: number };
  if (body.code !== undefined) error.code = body.code;
  error.status = res.status;
  return error;
}
