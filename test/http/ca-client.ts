import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loginOverHttp } from '../../src/client/login.js';
import { pemDecodeAll } from '../../src/der/pem.js';
import { signerFromPem } from '../../src/crypto/private-key-file.js';
import type { Signer } from '../../src/crypto/signer.js';
import type { TestService } from '../helpers/service.js';

/** The admin credential `init` wrote into a test service's data dir. */
export function adminCredential(dataDir: string): { signer: Signer; chain: Buffer[] } {
  const signer = signerFromPem('admin', readFileSync(join(dataDir, 'admin', 'admin.key.pem')));
  const chain = pemDecodeAll(readFileSync(join(dataDir, 'admin', 'admin.cert.pem'), 'utf8'), ['CERTIFICATE'])!;
  return { signer, chain };
}

/** Logs in as the admin of a test service; returns a fetch wrapper with the bearer token. */
export async function adminApi(ts: TestService): Promise<Api> {
  const { signer, chain } = adminCredential(ts.dataDir);
  const { token } = await loginOverHttp(ts.url, signer, chain);
  return api(ts.url, token);
}

export interface Api {
  token: string | undefined;
  get(path: string): Promise<{ status: number; body: any; headers: Headers }>;
  post(path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
}

/** JSON requests against `url`, with a bearer token when given. */
export function api(url: string, token: string | undefined): Api {
  const call = async (method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
  return { token, get: (path) => call('GET', path), post: (path, body) => call('POST', path, body) };
}
