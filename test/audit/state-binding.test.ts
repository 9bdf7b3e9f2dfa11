import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { buildOcspRequest } from '../../src/ca/ocsp-request.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { parseOcspResponse } from '../ca/ocsp-parse.js';
import { drivers } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import {
  annualDocument,
  countersignWith,
  createWorld,
  entriesSince,
  foodDocument,
  signCmsWith,
  treeSize,
  type Holder,
  type World,
} from '../submissions/fixtures.js';

/**
 * What a database superuser can change behind the log's back (guard triggers off), and that the
 * service catches it: every decision-bearing row is checked against the log entry that made it
 * before it is served or acted on (src/audit/binding.ts). Each tampering below went unnoticed
 * before the binding: the log still verified and the service served the row as the truth.
 */
describe.each(drivers())('state that disagrees with the log is caught, on $name', (driver) => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld(driver);
  });
  afterAll(async () => w?.stop());

  /** Runs `sql` as the database superuser, with triggers off (session_replication_role = replica). */
  async function tamper(sql: string, params: unknown[] = []): Promise<void> {
    if (driver.name === 'pg') {
      const client = new pg.Client({ connectionString: w.ts.config.databaseUrl });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL session_replication_role = replica');
        const { rowCount } = await client.query(sql, params);
        expect(rowCount).toBeGreaterThan(0);
        await client.query('COMMIT');
      } finally {
        await client.end();
      }
    } else {
      await w.ts.service.db.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        const { rowCount } = await tx.query(sql, params);
        expect(rowCount).toBeGreaterThan(0);
      });
    }
  }

  async function problemOf(res: Response): Promise<{ status: number; code: string }> {
    const body = (await res.json()) as { code: string };
    return { status: res.status, code: body.code };
  }

  async function divergences(): Promise<number> {
    const text = await (await fetch(`${w.url}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('chancery_state_divergences_total{'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  }

  const DIVERGES = { status: 409, code: 'ERR_STATE_DIVERGES_FROM_LOG' };

  async function submitted(h: Holder, envelope: Buffer, content?: Buffer): Promise<string> {
    const result = await new ChanceryClient(w.url).submit(envelope, content);
    if (result.kind === 'rejected') return result.body.submission!.id;
    return (result.body as { id: string }).id;
  }

  it('refuses a submission set pending → approved: its status view, and the list it would appear in', async () => {
    const id = await submitted(w.a, await signCmsWith(w.a, foodDocument(w.a.uscc)));
    const auditor = await w.as(w.auditor);
    expect((await auditor.status(id)).status).toBe('pending');
    const before = await divergences();
    await tamper(
      `UPDATE submissions SET status = 'approved', next_step = NULL, next_role = NULL, next_any_jurisdiction = NULL WHERE id = $1`,
      [id],
    );
    expect(await problemOf(await (await w.as(w.a)).fetch('GET', `/api/v1/submissions/${id}`))).toEqual(DIVERGES);
    expect(await problemOf(await auditor.fetch('GET', '/api/v1/submissions?status=approved&limit=500'))).toEqual(DIVERGES);
    expect(await problemOf(await auditor.fetch('GET', `/api/v1/submissions/${id}/envelope`))).toEqual(DIVERGES);
    expect(await divergences()).toBeGreaterThan(before);
    // Nothing was "fixed": the row still says what the superuser wrote.
    const { rows } = await w.ts.service.db.query<{ status: string }>('SELECT status FROM submissions WHERE id = $1', [id]);
    expect(rows[0]!.status).toBe('approved');
    // Put back as the log says, the row is served again.
    await tamper(
      `UPDATE submissions SET status = 'pending', next_step = 0, next_role = 'reviewer', next_any_jurisdiction = false WHERE id = $1`,
      [id],
    );
    expect((await auditor.status(id)).status).toBe('pending');
  });

  it("refuses a rejected junk submission set to accepted, rather than showing it in the victim's list", async () => {
    // B signs an application naming A: rejected.
    const id = await submitted(w.b, await signCmsWith(w.b, annualDocument(w.a.uscc)));
    const auditor = await w.as(w.auditor);
    expect((await auditor.status(id)).status).toBe('rejected');
    await tamper(`UPDATE submissions SET status = 'accepted', rejection_code = NULL, rejection_reason = NULL WHERE id = $1`, [id]);
    const victim = await w.as(w.a);
    expect(await problemOf(await victim.fetch('GET', '/api/v1/submissions?limit=500'))).toEqual(DIVERGES);
    expect(await problemOf(await victim.fetch('GET', `/api/v1/submissions/${id}`))).toEqual(DIVERGES);
    await tamper(`UPDATE submissions SET status = 'rejected', rejection_code = 'ERR_X', rejection_reason = 'restored' WHERE id = $1`, [id]);
    // Back to "rejected": the list is served again (the reason is not bound).
    expect((await victim.fetch('GET', '/api/v1/submissions?limit=500')).status).toBe(200);
  });

  it("refuses a submission whose stored envelope and document were swapped for another application's", async () => {
    const x = await submitted(w.a, await signCmsWith(w.a, annualDocument(w.a.uscc)));
    const y = await submitted(w.a, await signCmsWith(w.a, annualDocument(w.a.uscc)));
    const client = await w.as(w.a);
    const yEnvelope = await client.envelope(y);
    // The envelope served by /envelope and /document (its digest columns left alone).
    await tamper(
      `UPDATE submissions SET original_envelope = s2.original_envelope, envelope = s2.envelope
         FROM submissions s2 WHERE submissions.id = $1 AND s2.id = $2`,
      [x, y],
    );
    expect((await client.envelope(y)).equals(yEnvelope)).toBe(true);
    expect(await problemOf(await client.fetch('GET', `/api/v1/submissions/${x}/envelope`))).toEqual(DIVERGES);
    expect(await problemOf(await client.fetch('GET', `/api/v1/submissions/${x}/document`))).toEqual(DIVERGES);
    expect(await problemOf(await client.fetch('GET', `/api/v1/submissions/${x}`))).toEqual(DIVERGES);
    // And with the digest columns swapped too.
    await tamper(
      `UPDATE submissions SET document_sha256 = s2.document_sha256
         FROM submissions s2 WHERE submissions.id = $1 AND s2.id = $2`,
      [x, y],
    );
    expect(await problemOf(await client.fetch('GET', `/api/v1/submissions/${x}/document`))).toEqual(DIVERGES);

    // A detached document lives in its own column: swapped, /document is refused.
    const document = annualDocument(w.a.uscc);
    const z = await submitted(w.a, await signCmsWith(w.a, document, { detached: true }), document);
    expect((await client.document(z)).equals(document)).toBe(true);
    await tamper(`UPDATE submissions SET content = $2 WHERE id = $1`, [z, annualDocument(w.a.uscc)]);
    expect(await problemOf(await client.fetch('GET', `/api/v1/submissions/${z}/document`))).toEqual(DIVERGES);
  });

  it("refuses an officer's countersignature on a submission whose approval was cut to one step: no genuine approval comes of it", async () => {
    const id = await submitted(w.a, await signCmsWith(w.a, foodDocument(w.a.uscc)));
    const reviewer = await w.as(w.reviewer);
    const held = await reviewer.envelope(id);
    await tamper(`UPDATE submissions SET approval = jsonb_build_array(approval::jsonb -> 0)::text WHERE id = $1`, [id]);
    const size = await treeSize(w.ts);
    const upload = await countersignWith(w.reviewer, held, 'approve');
    await expectCode(() => reviewer.countersign(id, upload), 'ERR_STATE_DIVERGES_FROM_LOG');
    const entries = (await entriesSince(w.ts, size)).filter((e) => e.subject === `submission:${id}`);
    expect(entries).toEqual([]);
    const { rows } = await w.ts.service.db.query<{ status: string; n: number }>(
      `SELECT status, (SELECT count(*)::int FROM submission_countersignatures WHERE submission_id = $1) AS n FROM submissions WHERE id = $1`,
      [id],
    );
    expect(rows[0]).toEqual({ status: 'pending', n: 0 });
  });

  /** A submission is refused (ERR_STATE_DIVERGES_FROM_LOG) or rejected: never accepted, never pending. */
  async function expectNotAccepted(envelope: Buffer): Promise<void> {
    const result = await new ChanceryClient(w.url).submit(envelope).catch((error: unknown) => error);
    if (result instanceof Error) expect((result as Error & { code?: string }).code).toBe('ERR_STATE_DIVERGES_FROM_LOG');
    else expect((result as { kind: string }).kind).toBe('rejected');
  }

  /** A new enterprise-signing certificate for `uscc`, as the operator issues it. */
  async function newHolder(uscc: string, name: string): Promise<Holder> {
    const keyPem = generateUserKey('P-256').privateKeyPem;
    const signer = signerFromPem(name, keyPem);
    const cert = await w.admin.json<{ serial: string; pem: string }>('POST', '/api/v1/certificates', {
      profile: 'enterprise-signing',
      uscc,
      csr: (await buildCsr(signer)).pem,
    });
    return {
      name,
      signer,
      keyPem,
      certPem: cert.pem,
      chain: [pemDecodeAll(cert.pem, ['CERTIFICATE'])![0]!, w.issuing],
      serial: cert.serial,
    };
  }

  async function ocspStatus(serial: string): Promise<string> {
    const res = await fetch(`${w.url}/ocsp`, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: buildOcspRequest(w.issuing, serial, { hash: 'sha256' }),
    });
    return parseOcspResponse(Buffer.from(await res.arrayBuffer())).singles[0]!.status;
  }

  async function crlSerials(): Promise<string[]> {
    const crl = AsnConvert.parse(Buffer.from(await (await fetch(`${w.url}/ca/issuing.crl`)).arrayBuffer()), CertificateList);
    return (crl.tbsCertList.revokedCertificates ?? []).map((r) =>
      Buffer.from(r.userCertificate)
        .toString('hex')
        .replace(/^(00)+/, ''),
    );
  }

  it('keeps a certificate revoked when its revocation is cleared in the database: login refused, OCSP revoked, the next CRL lists it', async () => {
    const holder = await newHolder(w.a.uscc, 'enterprise A, second key');
    await w.admin.json('POST', `/api/v1/certificates/${holder.serial}/revoke`, { reason: 'keyCompromise' });
    await tamper('UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL WHERE serial = $1', [holder.serial]);
    // Another revocation signs the next CRL (and moves the revocation epoch the OCSP cache keys on).
    const other = await newHolder(w.a.uscc, 'enterprise A, third key');
    await w.admin.json('POST', `/api/v1/certificates/${other.serial}/revoke`, { reason: 'superseded' });

    expect(await ocspStatus(holder.serial)).toBe('revoked');
    expect(await crlSerials()).toEqual(expect.arrayContaining([holder.serial, other.serial]));
    await expectCode(() => ChanceryClient.login(w.url, holder.signer, holder.chain), 'ERR_AUTH_CERTIFICATE_REJECTED');
    await expectNotAccepted(await signCmsWith(holder, annualDocument(w.a.uscc)));
    // The row is still what the superuser left.
    const { rows } = await w.ts.service.db.query<{ revoked_at: unknown }>('SELECT revoked_at FROM certificates WHERE serial = $1', [
      holder.serial,
    ]);
    expect(rows[0]!.revoked_at).toBeNull();
  });

  it('refuses an enterprise set revoked → active: no login, no submission, and the revoked list is refused rather than incomplete', async () => {
    const uscc = completeUscc('9144030500030000');
    await w.admin.json('POST', '/api/v1/enterprises', { uscc, name: 'Shenzhen Revoked Licence Co Ltd' });
    const holder = await newHolder(uscc, 'enterprise C');
    await w.admin.json('POST', `/api/v1/enterprises/${uscc}/revoke`, { reason: 'licence revoked by the authority' });
    const anonymous = new ChanceryClient(w.url);
    const listed = await anonymous.json<{ items: Array<{ uscc: string }> }>('GET', '/api/v1/enterprises?status=revoked');
    expect(listed.items.map((e) => e.uscc)).toContain(uscc);

    await tamper(`UPDATE enterprises SET status = 'active', status_changed_at = NULL, status_reason = NULL WHERE uscc = $1`, [uscc]);
    // Its certificates too, so that only the enterprise row stands between it and a login.
    await tamper('UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL WHERE uscc = $1', [uscc]);

    expect(await problemOf(await anonymous.fetch('GET', '/api/v1/enterprises?status=revoked'))).toEqual(DIVERGES);
    expect(await problemOf(await w.admin.fetch('GET', '/api/v1/enterprises?status=active&limit=500'))).toEqual(DIVERGES);
    await expect(ChanceryClient.login(w.url, holder.signer, holder.chain)).rejects.toThrow();
    await expectNotAccepted(await signCmsWith(holder, annualDocument(uscc)));
  });

  it('refuses an officer whose registered role or jurisdiction was changed: no login, and an enterprise renamed behind the log is refused too', async () => {
    await tamper(`UPDATE officers SET jurisdiction = '440000', role = 'approver' WHERE id = $1`, [w.outsider.id]);
    await expectCode(() => ChanceryClient.login(w.url, w.outsider.signer, w.outsider.chain), 'ERR_STATE_DIVERGES_FROM_LOG');
    // The registered name is what the CA writes into the enterprise's next certificate.
    await tamper(`UPDATE enterprises SET name = 'Someone Else Co Ltd' WHERE uscc = $1`, [w.b.uscc]);
    expect(await problemOf(await w.admin.fetch('GET', `/api/v1/enterprises/${w.b.uscc}`))).toEqual(DIVERGES);
    await tamper(`UPDATE enterprises SET name = 'Shanghai Huangpu Trading Co Ltd' WHERE uscc = $1`, [w.b.uscc]);
    expect((await w.admin.fetch('GET', `/api/v1/enterprises/${w.b.uscc}`)).status).toBe(200);
  });
});
