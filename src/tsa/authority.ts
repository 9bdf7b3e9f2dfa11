import type { AuditLog } from '../audit/types.js';
import { BatchQueue, succeeded, type Outcome } from '../batch.js';
import { sha256Hex } from '../crypto/digest.js';
import type { Signer } from '../crypto/signer.js';
import { expectTag, readDer, readSequence, toHex } from '../der/reader.js';
import { contextTag, TAG } from '../der/tags.js';
import { generalizedTimeMillis } from '../der/time.js';
import { unsignedInteger } from '../der/writer.js';
import { OID } from '../oids.js';
import { certificatesField, cmsSignerIdentity, signEncapsulatedCms, type CmsSignerIdentity } from '../sign/cms.js';
import { TsaError } from './errors.js';
import {
  encodeTstInfo,
  grantedResponse,
  IMPRINT_HASHES,
  parseTimeStampQuery,
  rejectionResponse,
  type Accuracy,
  type Refusal,
  type TimeStampQuery,
} from './protocol.js';
import type { TimeStamper, TimeStampRequest } from './types.js';

export interface TimeStampAuthorityOptions {
  audit: AuditLog;
  /** The TSA's key. */
  signer: Signer;
  /** The TSA certificate (critical EKU id-kp-timeStamping only), DER. */
  certificate: Uint8Array;
  /** Certificates carried after the TSA's own when a request sets certReq (the issuing CA). */
  chain: readonly Uint8Array[];
  /** TSAPolicyId of every token; default Chancery's time-stamping policy. */
  policy?: string;
  /** How far genTime may be from UTC; default one second. */
  accuracy?: Accuracy;
  /** Accept SHA-1 imprints; default false (SHA-1 no longer resists collisions, so it proves little). */
  allowSha1?: boolean;
  now?: () => Date;
}

interface PendingToken {
  query: TimeStampQuery;
  actor: string;
}

/** What one issued token is. */
export interface IssuedToken {
  /** The TimeStampToken: a DER ContentInfo with SignedData over the TSTInfo. */
  token: Buffer;
  /** The serial number, lowercase hex of its minimal positive encoding's contents. */
  serialHex: string;
  genTime: Date;
}

/**
 * Chancery's time-stamping authority (RFC 3161, with ESSCertIDv2 per RFC 5816). Every token has
 * a serial number from the `tsa_serial` sequence (so serials only grow, across nodes), a genTime
 * in UTC with milliseconds that never goes backwards in this process, the TSA's policy and
 * accuracy, the request's nonce echoed verbatim, and the TSA's name. Concurrent requests are
 * batched (src/batch.ts) into one audit commit, each token with its own `tsa.token` entry
 * (serial, genTime, imprint, the token's SHA-256); a token is handed out only once its entry is
 * durable.
 */
export class TimeStampAuthority implements TimeStamper {
  readonly #options: TimeStampAuthorityOptions;
  readonly #policy: string;
  readonly #accuracy: Accuracy;
  readonly #now: () => Date;
  readonly #tsaName: Uint8Array;
  readonly #identity: CmsSignerIdentity;
  /** The `certificates` field a token gets when certReq is set: the TSA's and the chain's. */
  readonly #certificates: Buffer;
  #lastGenTime = 0;
  readonly #batches = new BatchQueue<PendingToken, IssuedToken>({ run: (inputs) => this.#issueBatch(inputs), maxBatch: 256 });

  constructor(options: TimeStampAuthorityOptions) {
    this.#options = options;
    this.#policy = options.policy ?? OID.policyTimeStamping;
    this.#accuracy = options.accuracy ?? { seconds: 1 };
    this.#now = options.now ?? (() => new Date());
    this.#tsaName = readTsaSubject(options.certificate);
    this.#identity = cmsSignerIdentity(options.signer, options.certificate);
    this.#certificates = certificatesField([options.certificate, ...options.chain]);
  }

  get policy(): string {
    return this.#policy;
  }

  /**
   * Answers a DER TimeStampReq (any bytes) with a DER TimeStampResp: a token when granted, or
   * status rejection with the RFC's failInfo (badDataFormat, badRequest, badAlg,
   * unacceptedPolicy, unacceptedExtension) and a statusString saying why. Never throws for bad input.
   */
  async respond(request: Uint8Array, actor = 'anonymous'): Promise<Buffer> {
    const query = parseTimeStampQuery(request);
    if ('failure' in query) return rejectionResponse(query);
    const refusal = this.#refusal(query);
    if (refusal !== undefined) return rejectionResponse(refusal);
    const issued = await this.issue(query, actor);
    return grantedResponse(issued.token);
  }

  /** The TimeStampResp refusing a request larger than `limit` bytes, which is not read (badDataFormat). */
  tooLarge(limit: number): Buffer {
    return rejectionResponse({
      failure: 'badDataFormat',
      text: `the request is larger than ${limit} bytes; a TimeStampReq is far smaller`,
    });
  }

  /** A token over `digest` (for the service's own signature and archive time-stamps). */
  async timestamp(request: TimeStampRequest): Promise<Uint8Array> {
    const query: TimeStampQuery = {
      hashAlgorithm: request.hashAlgorithm,
      digest: request.digest,
      policy: undefined,
      nonce: undefined,
      certReq: true,
      extensions: [],
    };
    const refusal = this.#refusal(query);
    if (refusal !== undefined) throw new TsaError('ERR_TSA_REQUEST_INVALID', refusal.text, { detail: { failInfo: refusal.failure } });
    return (await this.issue(query, 'system')).token;
  }

  /** Issues and audits one token for a query that `#refusal` accepted. */
  issue(query: TimeStampQuery, actor: string): Promise<IssuedToken> {
    return this.#batches.submit({ query, actor });
  }

  /**
   * One audit commit for every query waiting: their serials from one statement on the sequence
   * (taken with the log's tree head locked, so serial order is log order on every node), one
   * token and one `tsa.token` entry each. Each caller settles once the commit is durable.
   */
  async #issueBatch(inputs: readonly PendingToken[]): Promise<Array<Outcome<IssuedToken>>> {
    return this.#options.audit.record(async (tx, append) => {
      const { rows } = await tx.query<{ serial: string }>("SELECT nextval('tsa_serial')::text AS serial FROM generate_series(1, $1::int)", [
        inputs.length,
      ]);
      const serials = rows.map((r) => BigInt(r.serial)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const outcomes: Array<Outcome<IssuedToken>> = [];
      for (const [i, { query, actor }] of inputs.entries()) {
        const hex = serials[i]!.toString(16);
        const serialBytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
        const genTime = this.#genTime();
        const tstInfo = encodeTstInfo(
          {
            policy: this.#policy,
            hashAlgorithm: query.hashAlgorithm,
            digest: query.digest,
            serial: serialBytes,
            genTime,
            accuracy: this.#accuracy,
            nonce: query.nonce,
            tsaName: this.#tsaName,
          },
          generalizedTimeMillis(genTime),
        );
        const token = await signEncapsulatedCms({
          identity: this.#identity,
          certificates: query.certReq ? this.#certificates : undefined,
          eContentType: OID.tstInfo,
          content: tstInfo,
        });
        // As certificate serials are written: the INTEGER's contents octets (a leading 00 when the top bit is set).
        const serialHex = toHex(unsignedInteger(serialBytes).subarray(2));
        await append({
          kind: 'tsa.token',
          actor,
          subject: 'tsa',
          data: {
            serial: serialHex,
            genTime: genTime.toISOString(),
            policy: this.#policy,
            hashAlgorithm: query.hashAlgorithm,
            digest: toHex(query.digest),
            ...(query.nonce === undefined ? {} : { nonce: toHex(query.nonce) }),
            tokenSha256: sha256Hex(token),
          },
        });
        outcomes.push(succeeded({ token, serialHex, genTime }));
      }
      return outcomes;
    });
  }

  /** Why the TSA will not stamp this query, or undefined when it will. */
  #refusal(query: TimeStampQuery): Refusal | undefined {
    const hash = IMPRINT_HASHES[query.hashAlgorithm];
    if (hash === undefined)
      return { failure: 'badAlg', text: `the hash algorithm ${query.hashAlgorithm} is not supported (SHA-256, SHA-384, SHA-512 are)` };
    if (hash.name === 'sha1' && this.#options.allowSha1 !== true)
      return { failure: 'badAlg', text: "SHA-1 imprints are not accepted by this TSA's policy (use SHA-256, SHA-384 or SHA-512)" };
    if (query.digest.length !== hash.length)
      return {
        failure: 'badDataFormat',
        text: `the ${hash.name} imprint is ${query.digest.length} octets, not ${hash.length}`,
      };
    if (query.policy !== undefined && query.policy !== this.#policy)
      return { failure: 'unacceptedPolicy', text: `the policy ${query.policy} is not this TSA's (${this.#policy})` };
    if (query.extensions.length > 0)
      return { failure: 'unacceptedExtension', text: `the extension ${query.extensions[0]} is not supported (this TSA supports none)` };
    return undefined;
  }

  /** Now, but never before the last genTime handed out by this process (a clock stepped back). */
  #genTime(): Date {
    const t = Math.max(this.#now().getTime(), this.#lastGenTime);
    this.#lastGenTime = t;
    return new Date(t);
  }
}

/** The TSA certificate's subject Name (DER, as in the certificate), for TSTInfo's `tsa` field. */
function readTsaSubject(certificate: Uint8Array): Uint8Array {
  const tbs = readSequence(readSequence(readDer(certificate, 'the TSA certificate'), 'Certificate')[0], 'TBSCertificate');
  // [0] version, serialNumber, signature, issuer, validity, subject (RFC 5280 §4.1).
  const offset = tbs[0]?.tag === contextTag(0, true) ? 1 : 0;
  return expectTag(tbs[offset + 4], TAG.SEQUENCE, 'TBSCertificate.subject').bytes;
}
