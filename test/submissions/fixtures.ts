import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCsr } from '../../src/ca/csr-builder.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { generateUserKey, signerFromPem } from '../../src/crypto/private-key-file.js';
import type { Signer } from '../../src/crypto/signer.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { countersignCms, signCms } from '../../src/sign/cms.js';
import { countersignJws, signJws } from '../../src/sign/jws.js';
import { ChanceryClient } from '../../src/client/submissions.js';
import { annualReport, documentBytes, foodBusinessLicence } from '../../src/submissions/samples.js';
import type { Decision } from '../../src/verify/cms-attributes.js';
import type { Driver } from '../helpers/db.js';
import { startTestService, type TestService } from '../helpers/service.js';

/**
 * A registry world on a real test service, made through the real API as the operator: two
 * enterprises (A in Shenzhen Nanshan 440305, B in Shanghai 310101), officers (a reviewer of
 * Shenzhen city 440300, an approver of Guangdong province 440000, a second approver of 440000, a
 * reviewer of Shanghai 310100), an auditor, each with a key made here and a certificate issued
 * from its CSR. Envelope helpers sign with those keys through src/sign.
 */

export interface Holder {
  name: string;
  signer: Signer;
  /** The private key (PKCS#8 PEM; test material made at test time) and the certificate (PEM). */
  keyPem: string;
  certPem: string;
  /** Leaf, then the issuing CA (what an envelope carries). */
  chain: Buffer[];
  serial: string;
}

export interface World {
  ts: TestService;
  url: string;
  admin: ChanceryClient;
  a: Holder & { uscc: string };
  b: Holder & { uscc: string };
  reviewer: Holder & { id: string };
  approver: Holder & { id: string };
  approver2: Holder & { id: string };
  outsider: Holder & { id: string };
  auditor: Holder;
  issuing: Buffer;
  /** A logged-in client of a holder (cached). */
  as(h: Holder): Promise<ChanceryClient>;
  stop(): Promise<void>;
}

export const USCC_A = completeUscc('9144030500010000');
export const USCC_B = completeUscc('9131010100020000');

export async function createWorld(driver: Driver, env: NodeJS.ProcessEnv = {}): Promise<World> {
  const ts = await startTestService(driver, env);
  try {
    const adminSigner = signerFromPem('admin', readFileSync(join(ts.dataDir, 'admin', 'admin.key.pem')));
    const adminChain = pemDecodeAll(readFileSync(join(ts.dataDir, 'admin', 'admin.cert.pem'), 'utf8'), ['CERTIFICATE'])!;
    const admin = await ChanceryClient.login(ts.url, adminSigner, adminChain);
    const issuing = pemDecodeAll(readFileSync(join(ts.dataDir, 'ca', 'issuing.pem'), 'utf8'), ['CERTIFICATE'])![0]!;
    await admin.json('POST', '/api/v1/enterprises', { uscc: USCC_A, name: 'Shenzhen Nanshan Fresh Foods Co Ltd' });
    await admin.json('POST', '/api/v1/enterprises', { uscc: USCC_B, name: 'Shanghai Huangpu Trading Co Ltd' });
    const officers = [
      { id: 'SZ-R-001', name: 'Wang Fang', role: 'reviewer', jurisdiction: '440300' },
      { id: 'GD-A-001', name: 'Zhao Lei', role: 'approver', jurisdiction: '440000' },
      { id: 'GD-A-002', name: 'Sun Mei', role: 'approver', jurisdiction: '440000' },
      { id: 'SH-R-001', name: 'Chen Jie', role: 'reviewer', jurisdiction: '310100' },
    ];
    for (const o of officers) await admin.json('POST', '/api/v1/officers', { ...o, authority: 'Market Regulation Administration' });
    const holder = async (name: string, body: Record<string, unknown>): Promise<Holder> => {
      const keyPem = generateUserKey('P-256').privateKeyPem;
      const signer = signerFromPem(name, keyPem);
      const csr = (await buildCsr(signer)).pem;
      const cert = await admin.json<{ serial: string; pem: string }>('POST', '/api/v1/certificates', { ...body, csr });
      return {
        name,
        signer,
        keyPem,
        certPem: cert.pem,
        chain: [pemDecodeAll(cert.pem, ['CERTIFICATE'])![0]!, issuing],
        serial: cert.serial,
      };
    };
    const a = { ...(await holder('enterprise A', { profile: 'enterprise-signing', uscc: USCC_A })), uscc: USCC_A };
    const b = { ...(await holder('enterprise B', { profile: 'enterprise-signing', uscc: USCC_B })), uscc: USCC_B };
    const [reviewer, approver, approver2, outsider] = await Promise.all(
      officers.map(async (o) => ({ ...(await holder(o.id, { profile: 'officer', officerId: o.id })), id: o.id })),
    );
    const auditor = await holder('auditor', { profile: 'auditor', name: 'Independent Auditor' });
    const clients = new Map<Holder, Promise<ChanceryClient>>();
    return {
      ts,
      url: ts.url,
      admin,
      a,
      b,
      reviewer: reviewer!,
      approver: approver!,
      approver2: approver2!,
      outsider: outsider!,
      auditor,
      issuing,
      as: (h) => {
        let c = clients.get(h);
        if (c === undefined) clients.set(h, (c = ChanceryClient.login(ts.url, h.signer, h.chain)));
        return c;
      },
      stop: () => ts.stop(),
    };
  } catch (error) {
    await ts.stop();
    throw error;
  }
}

let counter = 0;
/** A unique application id. */
export function nextApplicationId(prefix = 'APP'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

export function foodDocument(uscc: string, applicationId = nextApplicationId('FBL')): Buffer {
  return documentBytes(foodBusinessLicence(uscc, applicationId, new Date()));
}

export function annualDocument(uscc: string, applicationId = nextApplicationId('AR')): Buffer {
  return documentBytes(annualReport(uscc, applicationId, new Date()));
}

export function signCmsWith(h: Holder, content: Uint8Array, options: { detached?: boolean; time?: Date } = {}): Promise<Buffer> {
  return signCms({ signer: h.signer, chain: h.chain, content, detached: options.detached ?? false, time: options.time ?? new Date() });
}

export async function signJwsWith(h: Holder, payload: Uint8Array, options: { detached?: boolean; time?: Date } = {}): Promise<Buffer> {
  const jws = await signJws({ signer: h.signer, chain: h.chain, payload, time: options.time ?? new Date() });
  return Buffer.from(JSON.stringify(options.detached === true ? { ...jws, payload: '' } : jws), 'utf8');
}

/** The reason `countersignWith` signs with a refusal unless told otherwise (a refusal needs one). */
export const REFUSAL_REASON = '食品贮存条件不符合要求 (storage conditions do not meet the requirements)';

/**
 * Adds h's countersignature with `decision` to a CMS or JWS envelope, with `reason` signed with it;
 * by default a refusal gets REFUSAL_REASON and other decisions none (null: none, even for a refusal).
 */
export async function countersignWith(
  h: Holder,
  envelope: Uint8Array,
  decision: Decision,
  time = new Date(),
  reason: string | null = decision === 'refuse' ? REFUSAL_REASON : null,
): Promise<Buffer> {
  const options = { signer: h.signer, chain: h.chain, decision, time, ...(reason === null ? {} : { reason }) };
  if (envelope[0] === 0x30) return countersignCms(envelope, options);
  return Buffer.from(JSON.stringify(await countersignJws(envelope, options)), 'utf8');
}

/** The audit entries appended since `from`, parsed. */
export async function entriesSince(
  ts: TestService,
  from: number,
): Promise<Array<{ index: number; kind: string; actor: string; subject: string; data: Record<string, unknown> }>> {
  const reader = ts.service.auditPart.reader;
  const size = await reader.treeSize();
  if (size <= from) return [];
  const out: Array<{ index: number; kind: string; actor: string; subject: string; data: Record<string, unknown> }> = [];
  for (let start = from; start < size; start += 1000) {
    const page = await reader.entries(start, Math.min(size, start + 1000));
    for (const e of page.entries) {
      const parsed = JSON.parse(e.entry) as { kind: string; actor: string; subject: string; data: Record<string, unknown> };
      out.push({ index: e.index, kind: parsed.kind, actor: parsed.actor, subject: parsed.subject, data: parsed.data });
    }
  }
  return out;
}

export async function treeSize(ts: TestService): Promise<number> {
  return ts.service.auditPart.reader.treeSize();
}
