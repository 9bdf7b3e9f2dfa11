import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService } from '../../src/app/server.js';
import { openDatabase } from '../../src/db/open.js';
import { childrenOf, readDer, readSequence } from '../../src/der/reader.js';
import { explicit, octetString, oid, sequence, smallInteger } from '../../src/der/writer.js';
import { createLogger } from '../../src/log.js';
import { OID } from '../../src/oids.js';
import { TSA_BODY_LIMIT } from '../../src/http/routes/tsa.js';
import { encodeTimeStampQuery, parseTimeStampReply, parseTstInfo } from '../../src/tsa/protocol.js';
import { TimeStampAuthority } from '../../src/tsa/authority.js';
import { checkTimeStampToken } from '../../src/tsa/token.js';
import { expectCode } from '../helpers/expect-code.js';
import { drivers } from '../helpers/db.js';
import { dropPgDatabase } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';

/**
 * Chancery's TSA over HTTP, with the openssl CLI as the outside client: `openssl ts -query`
 * makes the requests, `openssl ts -reply -text` reads the replies and `openssl ts -verify`
 * validates the tokens against the CA's own root.
 */

const openssl = (args: string[], input?: Buffer): string =>
  execFileSync('openssl', args, { stdio: 'pipe', ...(input === undefined ? {} : { input }) }).toString();

interface TokenEntry {
  kind: string;
  actor: string;
  data: { serial: string; genTime: string; digest: string; nonce?: string; tokenSha256: string; policy: string };
}

describe.each(drivers())('POST /tsa on $name', (driver) => {
  let svc: TestService;
  let dir: string;
  const file = (name: string): string => join(dir, name);

  const post = async (
    body: Uint8Array,
    type = 'application/timestamp-query',
  ): Promise<{ status: number; type: string | null; body: Buffer }> => {
    const r = await fetch(`${svc.url}/tsa`, { method: 'POST', headers: { 'content-type': type }, body });
    return { status: r.status, type: r.headers.get('content-type'), body: Buffer.from(await r.arrayBuffer()) };
  };
  const tokenEntries = async (): Promise<TokenEntry[]> => {
    const { rows } = await svc.service.db.query<{ entry: Buffer }>('SELECT entry FROM audit_entries ORDER BY seq');
    return rows.map((r) => JSON.parse(Buffer.from(r.entry).toString('utf8')) as TokenEntry).filter((e) => e.kind === 'tsa.token');
  };
  /** The TSTInfo inside a granted reply. */
  const tstInfoOf = (reply: Buffer) => {
    const token = parseTimeStampReply(reply).token!;
    const signedData = readSequence(childrenOf(readSequence(readDer(token), 'ContentInfo')[1]!)[0], 'SignedData');
    const eContent = childrenOf(readSequence(signedData[2], 'encap')[1]!)[0]!;
    return { token, signedData, tstInfo: parseTstInfo(eContent.value) };
  };

  beforeAll(async () => {
    svc = await startTestService(driver);
    dir = mkdtempSync(join(tmpdir(), 'chancery-tsa-'));
    writeFileSync(file('data.txt'), 'a licence approved under seal\n');
    writeFileSync(file('root.pem'), readFileSync(join(svc.dataDir, 'ca', 'root.pem')));
    writeFileSync(file('issuing.pem'), readFileSync(join(svc.dataDir, 'ca', 'issuing.pem')));
    writeFileSync(file('tsa.pem'), readFileSync(join(svc.dataDir, 'ca', 'tsa.pem')));
    writeFileSync(file('untrusted.pem'), readFileSync(file('issuing.pem')) + readFileSync(file('tsa.pem'), 'utf8'));
  });
  afterAll(async () => {
    await svc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('init made a TSA certificate issued by the issuing CA: critical EKU timeStamping only, KU digitalSignature + nonRepudiation', () => {
    const text = openssl(['x509', '-in', file('tsa.pem'), '-noout', '-text']);
    expect(text).toMatch(/X509v3 Extended Key Usage: critical\s+Time Stamping\s*\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation\s*\n/);
    expect(text).toContain('CN = Chancery Time-Stamping Authority');
    expect(
      openssl(['verify', '-CAfile', file('root.pem'), '-untrusted', file('issuing.pem'), '-purpose', 'timestampsign', file('tsa.pem')]),
    ).toContain('OK');
  });

  it('openssl ts -query → POST /tsa → openssl ts -reply -text and openssl ts -verify -CAfile root.pem accept the reply', async () => {
    openssl(['ts', '-query', '-data', file('data.txt'), '-sha256', '-cert', '-out', file('q.tsq')]);
    const before = (await tokenEntries()).length;
    const r = await post(readFileSync(file('q.tsq')));
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/timestamp-reply');
    writeFileSync(file('r.tsr'), r.body);
    const text = openssl(['ts', '-reply', '-in', file('r.tsr'), '-text']);
    expect(text).toContain('Status: Granted.');
    expect(text).toContain(`Policy OID: ${OID.policyTimeStamping}`);
    expect(text).toMatch(/Accuracy: 0x01 seconds/);
    expect(text).toContain('TSA: DirName:/C=CN/O=Chancery/CN=Chancery Time-Stamping Authority');
    const queryNonce = /Nonce: (0x[0-9A-F]+)/.exec(openssl(['ts', '-query', '-in', file('q.tsq'), '-text']))![1];
    expect(text).toContain(`Nonce: ${queryNonce}`);
    expect(
      openssl([
        'ts',
        '-verify',
        '-data',
        file('data.txt'),
        '-in',
        file('r.tsr'),
        '-CAfile',
        file('root.pem'),
        '-untrusted',
        file('issuing.pem'),
      ]),
    ).toContain('Verification: OK');

    const { token, signedData, tstInfo } = tstInfoOf(r.body);
    expect(tstInfo.genTime.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(Buffer.from(tstInfo.digest)).toEqual(
      createHash('sha256')
        .update(readFileSync(file('data.txt')))
        .digest(),
    );
    // certReq: the TSA certificate (and the issuing CA) are carried.
    expect(childrenOf(signedData[3]!).map((c) => Buffer.from(c.bytes))).toContainEqual(
      Buffer.from(readFileSync(file('tsa.pem'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64'),
    );
    // One audit entry for the token, naming it.
    const entries = await tokenEntries();
    expect(entries).toHaveLength(before + 1);
    expect(entries.at(-1)).toMatchObject({
      actor: 'anonymous',
      data: {
        serial: tstInfo.serialHex,
        digest: Buffer.from(tstInfo.digest).toString('hex'),
        tokenSha256: createHash('sha256').update(token).digest('hex'),
      },
    });
  });

  it('without certReq the token carries no certificate, and openssl verifies it given the TSA certificate', async () => {
    openssl(['ts', '-query', '-data', file('data.txt'), '-sha512', '-no_nonce', '-out', file('q2.tsq')]);
    const r = await post(readFileSync(file('q2.tsq')));
    writeFileSync(file('r2.tsr'), r.body);
    const { signedData, tstInfo } = tstInfoOf(r.body);
    expect(signedData[3]!.tag).toBe(0x31); // signerInfos directly: no [0] certificates
    expect(tstInfo.nonce).toBeUndefined();
    expect(
      openssl([
        'ts',
        '-verify',
        '-data',
        file('data.txt'),
        '-in',
        file('r2.tsr'),
        '-CAfile',
        file('root.pem'),
        '-untrusted',
        file('untrusted.pem'),
      ]),
    ).toContain('Verification: OK');
    // For other data, openssl refuses it.
    writeFileSync(file('other.txt'), 'another document\n');
    expect(() =>
      openssl([
        'ts',
        '-verify',
        '-data',
        file('other.txt'),
        '-in',
        file('r2.tsr'),
        '-CAfile',
        file('root.pem'),
        '-untrusted',
        file('untrusted.pem'),
      ]),
    ).toThrow(/message imprint mismatch/);
  });

  it('serials only grow and are never repeated, under concurrent requests too; genTime never goes backwards', async () => {
    const digest = createHash('sha256').update('concurrent').digest();
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(encodeTimeStampQuery({ hashAlgorithm: OID.sha256, digest, nonce: Buffer.from([1, i]), certReq: i % 2 === 0 })),
      ),
    );
    const infos = replies.map((r) => tstInfoOf(r.body).tstInfo);
    expect(infos.map((t) => Buffer.from(t.nonce!).toString('hex'))).toEqual(replies.map((_, i) => Buffer.from([1, i]).toString('hex')));
    const serials = infos.map((t) => BigInt(`0x${t.serialHex}`));
    expect(new Set(serials).size).toBe(40);
    const bySerial = [...infos].sort((a, b) => (BigInt(`0x${a.serialHex}`) < BigInt(`0x${b.serialHex}`) ? -1 : 1));
    for (let i = 1; i < bySerial.length; i++)
      expect(bySerial[i]!.genTime.getTime()).toBeGreaterThanOrEqual(bySerial[i - 1]!.genTime.getTime());
    // The audit log holds them in serial order.
    const logged = (await tokenEntries()).map((e) => BigInt(`0x${e.data.serial}`));
    for (let i = 1; i < logged.length; i++) expect(logged[i]! > logged[i - 1]!).toBe(true);
  });

  it.each(
    (
      [
        ['bytes that are not DER', () => Buffer.from('hello, time-stamp me'), 'badDataFormat', /has the wrong format/],
        [
          'a SHA-1 imprint (refused by policy)',
          () => encodeTimeStampQuery({ hashAlgorithm: OID.sha1, digest: Buffer.alloc(20, 1) }),
          'badAlg',
          /unrecognized or unsupported algorithm/i,
        ],
        [
          'an MD5 imprint',
          () => encodeTimeStampQuery({ hashAlgorithm: '1.2.840.113549.2.5', digest: Buffer.alloc(16, 1) }),
          'badAlg',
          /algorithm/i,
        ],
        [
          'a SHA-256 imprint of 20 octets',
          () => encodeTimeStampQuery({ hashAlgorithm: OID.sha256, digest: Buffer.alloc(20, 1) }),
          'badDataFormat',
          /has the wrong format/,
        ],
        [
          'version 2',
          () => sequence(smallInteger(2), sequence(sequence(oid(OID.sha256)), octetString(Buffer.alloc(32, 1)))),
          'badRequest',
          /transaction not permitted or supported/i,
        ],
        [
          'another policy',
          () => encodeTimeStampQuery({ hashAlgorithm: OID.sha256, digest: Buffer.alloc(32, 1), policy: '1.2.3.4' }),
          'unacceptedPolicy',
          /TSA policy is not supported/,
        ],
        [
          'an extension',
          () =>
            sequence(
              smallInteger(1),
              sequence(sequence(oid(OID.sha256)), octetString(Buffer.alloc(32, 1))),
              explicit(0, sequence(oid('1.2.3.4.5'), octetString(Buffer.from([5, 0])))),
            ),
          'unacceptedExtension',
          /extension is not supported/,
        ],
        ['a request above the body limit', () => Buffer.alloc(TSA_BODY_LIMIT + 1, 0x30), 'badDataFormat', /has the wrong format/],
      ] as Array<[string, () => Buffer, string, RegExp]>
    ).map(([name, make, failure, text]) => [`${name} (${failure})`, make, failure, text] as const),
  )(
    'refuses %s with status rejection and that failInfo (HTTP 200, as RFC 3161 §3.4 clients expect); nothing is audited',
    async (_name, make, failure, opensslText) => {
      const before = (await tokenEntries()).length;
      const r = await post(make());
      expect(r.status).toBe(200);
      expect(r.type).toBe('application/timestamp-reply');
      const reply = parseTimeStampReply(r.body);
      expect(reply).toMatchObject({ status: 2, failures: [failure], token: undefined });
      expect(reply.statusText.join(' ').length).toBeGreaterThan(10);
      writeFileSync(file('refused.tsr'), r.body);
      expect(openssl(['ts', '-reply', '-in', file('refused.tsr'), '-text'])).toMatch(/Status: Rejected/);
      expect(openssl(['ts', '-reply', '-in', file('refused.tsr'), '-text'])).toMatch(opensslText);
      expect((await tokenEntries()).length).toBe(before);
    },
  );

  it('a SHA-1 query made by openssl is refused as badAlg', async () => {
    openssl(['ts', '-query', '-data', file('data.txt'), '-sha1', '-cert', '-out', file('q1.tsq')]);
    expect(parseTimeStampReply((await post(readFileSync(file('q1.tsq')))).body).failures).toEqual(['badAlg']);
  });

  it('another Content-Type is a 415 problem, not a time-stamp reply', async () => {
    const r = await post(Buffer.from('{}'), 'application/json');
    expect(r.status).toBe(415);
    expect(JSON.parse(r.body.toString())).toMatchObject({ code: 'ERR_HTTP_UNSUPPORTED_MEDIA_TYPE' });
  });

  it('the TimeStamper interface: a token that checkTimeStampToken accepts; a wrong-length digest is ERR_TSA_REQUEST_INVALID', async () => {
    const digest = createHash('sha384').update('a checkpoint').digest();
    const token = await svc.service.parts.timeStamper.timestamp({ hashAlgorithm: OID.sha384, digest });
    const checked = checkTimeStampToken(token, { hashAlgorithm: OID.sha384, digest });
    expect(checked.signer.der).toEqual(svc.service.parts.ca.hierarchy.tsa!.der);
    expect(checked.tstInfo.policy).toBe(OID.policyTimeStamping);
    expect(() => checkTimeStampToken(token, { hashAlgorithm: OID.sha384, digest: Buffer.alloc(48) })).toThrow(/messageImprint/);
    expect(() => checkTimeStampToken(token, { hashAlgorithm: OID.sha384, digest, nonce: Buffer.from([1]) })).toThrow(/nonce/);
    await expectCode(() => svc.service.parts.tsa.timestamp({ hashAlgorithm: OID.sha256, digest }), 'ERR_TSA_REQUEST_INVALID');
    expect((await tokenEntries()).at(-1)).toMatchObject({ actor: 'system', data: { digest: digest.toString('hex') } });
  });

  it('a token signed with a certificate that is not a TSA certificate (the service seal) is refused by the token check', async () => {
    const h = svc.service.parts.ca.hierarchy;
    const notTsa = new TimeStampAuthority({
      audit: svc.service.audit,
      signer: h.seal.signer,
      certificate: h.seal.der,
      chain: [h.issuing.der],
    });
    const digest = createHash('sha256').update('x').digest();
    const token = await notTsa.timestamp({ hashAlgorithm: OID.sha256, digest });
    expect(() => checkTimeStampToken(token, { hashAlgorithm: OID.sha256, digest })).toThrow(/not a TSA certificate/);
    writeFileSync(file('seal.tst'), token);
    expect(() =>
      openssl([
        'ts',
        '-verify',
        '-digest',
        digest.toString('hex'),
        '-in',
        file('seal.tst'),
        '-token_in',
        '-CAfile',
        file('root.pem'),
        '-untrusted',
        file('issuing.pem'),
      ]),
    ).toThrow();
  });

  it('a data dir made before the TSA existed gets its TSA certificate at the next start, audited as certificate.issued', async () => {
    const config = svc.config;
    await svc.service.stop();
    // Make the database look like one from before the TSA: no TSA certificate in the hierarchy.
    const db = await openDatabase(config);
    const { rows } = await db.query<{ serial: string }>("SELECT serial FROM ca_hierarchy WHERE role = 'tsa'");
    const oldSerial = rows[0]!.serial;
    await db.query("DELETE FROM ca_hierarchy WHERE role = 'tsa'");
    await db.close();
    rmSync(join(svc.dataDir, 'ca', 'tsa.pem'));

    const service = await startService(config, createLogger('silent'));
    svc = {
      ...svc,
      service,
      url: `http://127.0.0.1:${service.server.port}`,
      stop: async () => {
        await service.stop();
        if (config.databaseUrl !== undefined) await dropPgDatabase(config.databaseUrl);
        rmSync(config.dataDir, { recursive: true, force: true });
      },
    };
    const tsaPem = readFileSync(join(config.dataDir, 'ca', 'tsa.pem'), 'utf8');
    const serial = (await service.db.query<{ serial: string }>("SELECT serial FROM ca_hierarchy WHERE role = 'tsa'")).rows[0]!.serial;
    expect(serial).not.toBe(oldSerial);
    const { rows: entries } = await service.db.query<{ entry: Buffer }>('SELECT entry FROM audit_entries ORDER BY seq DESC LIMIT 20');
    expect(
      entries.map((e) => JSON.parse(Buffer.from(e.entry).toString()) as { kind: string; data: Record<string, unknown> }),
    ).toContainEqual(expect.objectContaining({ kind: 'certificate.issued', data: expect.objectContaining({ serial, profile: 'tsa' }) }));
    writeFileSync(file('tsa.pem'), tsaPem);
    openssl(['ts', '-query', '-data', file('data.txt'), '-sha256', '-cert', '-out', file('q3.tsq')]);
    writeFileSync(file('r3.tsr'), (await post(readFileSync(file('q3.tsq')))).body);
    expect(
      openssl([
        'ts',
        '-verify',
        '-data',
        file('data.txt'),
        '-in',
        file('r3.tsr'),
        '-CAfile',
        file('root.pem'),
        '-untrusted',
        file('issuing.pem'),
      ]),
    ).toContain('Verification: OK');
  });
});
