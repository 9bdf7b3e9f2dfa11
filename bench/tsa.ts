import { withComposedParts } from './composed.js';
import { generateKeyPairSync, sign, createHash } from 'node:crypto';
import { OID } from '../src/oids.js';
import { encodeTimeStampQuery, parseTimeStampReply } from '../src/tsa/protocol.js';
import { opsPerSecond, round } from './lib.js';

/**
 * The time-stamping authority in process: TimeStampReq DER in, TimeStampResp DER out, each token
 * with its serial from the database sequence, its ECDSA P-256 signature and its `tsa.token` audit
 * entry committed (group commit), 32 concurrent requests (target ≥ 500 tokens/s), on the
 * embedded database and on PostgreSQL when DATABASE_URL is set. Quoted against raw ECDSA P-256
 * signatures/s measured here, in the same run (a token costs one such signature plus its
 * share of the commit).
 */
export async function runTsaBench(baseline: Record<string, number>): Promise<Record<string, unknown>> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = Buffer.alloc(256, 7);
  const ecdsaP256SignPerSec = await opsPerSecond(() => sign('sha256', message, privateKey));
  const out: Record<string, unknown> = { ecdsaP256SignPerSec };
  const [pglite, pgliteAuditOnly] = await tokens('pglite');
  out['tokensPglitePerSec'] = pglite;
  out['auditEntriesOnlyPglitePerSec'] = pgliteAuditOnly;
  out['tokensPgliteVsAuditEntriesOnly'] = round(pglite / pgliteAuditOnly, 4);
  out['tokensPgliteVsEcdsaSign'] = round(pglite / ecdsaP256SignPerSec, 4);
  out['tokensPgliteVsEcdsaVerify'] = round(pglite / baseline['ecdsaP256VerifyPerSec']!, 4);
  if (process.env['DATABASE_URL'] !== undefined && process.env['DATABASE_URL'] !== '') {
    const [pg, pgAuditOnly] = await tokens('pg');
    out['tokensPgPerSec'] = pg;
    out['auditEntriesOnlyPgPerSec'] = pgAuditOnly;
    out['tokensPgVsEcdsaSign'] = round(pg / ecdsaP256SignPerSec, 4);
  }
  return out;
}

const CONCURRENCY = 32;
const SECONDS = 5;

/**
 * Tokens/s, and the floor under it in the same run: the same number of concurrent callers each
 * committing one `tsa.token`-sized audit entry and nothing else (no serial, no signature).
 */
async function tokens(driver: 'pglite' | 'pg'): Promise<[number, number]> {
  return withComposedParts(driver, 'tsa', 20, async ({ audit, parts }) => {
    const queries = Array.from({ length: 64 }, (_, i) =>
      encodeTimeStampQuery({
        hashAlgorithm: OID.sha256,
        digest: createHash('sha256').update(`document ${i}`).digest(),
        nonce: Buffer.from([1, i, 2, 3, 4, 5, 6, 7]),
        certReq: true,
      }),
    );
    let issued = 0;
    const measure = async (once: () => Promise<unknown>): Promise<number> => {
      let n = 0;
      const go = async (until: number, count: boolean): Promise<void> => {
        const worker = async (): Promise<void> => {
          while (performance.now() < until) {
            await once();
            if (count) n++;
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
      };
      await go(performance.now() + 1000, false);
      const start = performance.now();
      await go(start + SECONDS * 1000, true);
      return round(n / ((performance.now() - start) / 1000));
    };
    const entry = {
      kind: 'tsa.token' as const,
      actor: 'anonymous',
      subject: 'tsa',
      data: {
        serial: '01',
        genTime: new Date().toISOString(),
        policy: OID.policyTimeStamping,
        digest: 'ab'.repeat(32),
        tokenSha256: 'cd'.repeat(32),
      },
    };
    const auditOnly = await measure(() => audit.log.record(async (_tx, append) => append(entry)));
    const run = async (until: number, count: boolean): Promise<void> => {
      const worker = async (w: number): Promise<void> => {
        for (let i = w; performance.now() < until; i += CONCURRENCY) {
          const reply = await parts.tsa.respond(queries[i % queries.length]!);
          if (count) {
            if (parseTimeStampReply(reply).status !== 0) throw new Error('the TSA refused a benchmark request');
            issued++;
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
    };
    await run(performance.now() + 1000, false);
    const start = performance.now();
    await run(start + SECONDS * 1000, true);
    const rate = issued / ((performance.now() - start) / 1000);
    parts.stop();
    await audit.close();
    return [round(rate), auditOnly];
  });
}
