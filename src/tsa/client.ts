import { randomBytes } from '../crypto/digest.js';
import { DerError } from '../der/errors.js';
import { TsaError } from './errors.js';
import { encodeTimeStampQuery, parseTimeStampReply, PKI_STATUS, TIMESTAMP_QUERY_TYPE, TIMESTAMP_REPLY_TYPE } from './protocol.js';
import { checkTimeStampToken, TokenProblem, type CheckedToken } from './token.js';
import type { TimeStamper, TimeStampRequest } from './types.js';

export interface RemoteTimeStamperOptions {
  /** The TSA's RFC 3161 §3.4 HTTP endpoint. */
  url: string;
  /** Give up on the TSA after this long; default 10 s. */
  timeoutMs?: number;
  /** Largest reply read; default 64 KiB (a token with a certificate chain is a few KiB). */
  maxReplyBytes?: number;
  /** TSAPolicyId to ask for, when the deployment requires one. */
  policy?: string;
}

/**
 * The client of an outside TSA (RFC 3161 §3.4 over HTTP): posts a TimeStampReq with a fresh
 * 64-bit nonce and certReq, and accepts the reply only when its status is granted and its token
 * checks out (`checkTimeStampToken`: imprint and nonce match, signed attributes and signature
 * right, the signer a TSA certificate). A refusal, an unreachable TSA or a reply that does not
 * check out is a TsaError: ERR_TSA_UNAVAILABLE or ERR_TSA_REPLY_INVALID, never a bad token.
 */
export class RemoteTimeStamper implements TimeStamper {
  readonly #options: Required<Omit<RemoteTimeStamperOptions, 'policy'>> & { policy: string | undefined };

  constructor(options: RemoteTimeStamperOptions) {
    this.#options = { timeoutMs: 10_000, maxReplyBytes: 64 * 1024, policy: undefined, ...options };
  }

  async timestamp(request: TimeStampRequest): Promise<Uint8Array> {
    return (await this.timestampChecked(request)).token;
  }

  /** `timestamp`, also returning what the check of the token found (TSTInfo, TSA certificate). */
  async timestampChecked(request: TimeStampRequest): Promise<CheckedToken & { token: Uint8Array }> {
    // A positive nonce of 8 octets (the top bit clear: the INTEGER needs no leading zero).
    const nonce = randomBytes(8);
    nonce[0]! &= 0x7f;
    nonce[0]! |= 0x01;
    const query = encodeTimeStampQuery({
      ...request,
      nonce,
      certReq: true,
      ...(this.#options.policy === undefined ? {} : { policy: this.#options.policy }),
    });
    const body = await this.#post(query);
    let reply;
    try {
      reply = parseTimeStampReply(body);
    } catch (error) {
      if (error instanceof DerError) throw invalid(`the reply is not a DER TimeStampResp: ${error.message}`);
      throw error;
    }
    if (reply.status !== PKI_STATUS.granted && reply.status !== PKI_STATUS.grantedWithMods) {
      throw new TsaError(
        'ERR_TSA_UNAVAILABLE',
        `the TSA refused the request (status ${reply.status}${reply.failures.length > 0 ? `, ${reply.failures.join(', ')}` : ''}${reply.statusText.length > 0 ? `: ${reply.statusText.join(' ').slice(0, 200)}` : ''})`,
        { detail: { status: reply.status, failInfo: reply.failures } },
      );
    }
    if (reply.token === undefined) throw invalid('the reply grants a time-stamp but carries no token');
    try {
      const checked = checkTimeStampToken(reply.token, { ...request, nonce });
      if (this.#options.policy !== undefined && checked.tstInfo.policy !== this.#options.policy)
        throw new TokenProblem(`the token's policy ${checked.tstInfo.policy} is not the one asked for`);
      return { ...checked, token: reply.token };
    } catch (error) {
      if (error instanceof TokenProblem) throw invalid(error.message);
      throw error;
    }
  }

  async #post(query: Buffer): Promise<Buffer> {
    const { url, timeoutMs, maxReplyBytes } = this.#options;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': TIMESTAMP_QUERY_TYPE, accept: TIMESTAMP_REPLY_TYPE },
        body: query,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      throw new TsaError('ERR_TSA_UNAVAILABLE', `the TSA at ${url} cannot be reached: ${(error as Error).message}`, { cause: error });
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new TsaError('ERR_TSA_UNAVAILABLE', `the TSA at ${url} answered HTTP ${response.status}`);
    }
    const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (type !== TIMESTAMP_REPLY_TYPE) {
      await response.body?.cancel().catch(() => undefined);
      throw invalid(`the TSA answered ${type ?? 'no Content-Type'}, not ${TIMESTAMP_REPLY_TYPE}`);
    }
    const chunks: Uint8Array[] = [];
    let length = 0;
    try {
      for await (const chunk of response.body ?? []) {
        length += (chunk as Uint8Array).length;
        if (length > maxReplyBytes) {
          await response.body?.cancel().catch(() => undefined);
          throw invalid(`the reply is larger than ${maxReplyBytes} bytes`);
        }
        chunks.push(chunk as Uint8Array);
      }
    } catch (error) {
      if (error instanceof TsaError) throw error;
      throw new TsaError('ERR_TSA_UNAVAILABLE', `the reply from ${url} could not be read: ${(error as Error).message}`, { cause: error });
    }
    return Buffer.concat(chunks, length);
  }
}

function invalid(message: string): TsaError {
  return new TsaError('ERR_TSA_REPLY_INVALID', message);
}
