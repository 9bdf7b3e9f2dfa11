import { cpSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CHANCERY_BIN, startChild, type Child } from '../helpers/spawn.js';

/**
 * `chancery serve` processes on one PostgreSQL, as an operator scales out: each with its own port
 * and data dir holding the same keys (a copy of the first node's data dir).
 */

export const NODE_ENV = { CHANCERY_KEY_PASSPHRASE: 'three-node test passphrase, not secret', LOG_LEVEL: 'warn' };

export interface ServiceNode {
  name: string;
  url: string;
  dataDir: string;
  child: Child;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts `chancery serve` on a free port and waits until it is ready. */
export async function startNode(name: string, dataDir: string, databaseUrl: string, env: NodeJS.ProcessEnv = {}): Promise<ServiceNode> {
  const port = await freePort();
  const child = startChild(process.execPath, [CHANCERY_BIN, 'serve', '--port', String(port), '--data-dir', dataDir], {
    ...NODE_ENV,
    ...env,
    DATABASE_URL: databaseUrl,
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (i > 900 || child.process.exitCode !== null) throw new Error(`node ${name} did not start: ${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name, url, dataDir, child };
}

/**
 * Three nodes under `work`/a, b, c: a initializes the CA (with `initEnv`, e.g. its CRL partition
 * count), b and c start from a copy of its data dir.
 */
export async function startThreeNodes(
  work: string,
  databaseUrl: string,
  nodes: ServiceNode[],
  initEnv: NodeJS.ProcessEnv = {},
): Promise<void> {
  nodes.push(await startNode('a', join(work, 'a'), databaseUrl, initEnv));
  // The keys, the log key and the CA files; not a temp file the running node is about to rename.
  for (const name of ['b', 'c']) cpSync(join(work, 'a'), join(work, name), { recursive: true, filter: (src) => !src.endsWith('.tmp') });
  nodes.push(...(await Promise.all(['b', 'c'].map((name) => startNode(name, join(work, name), databaseUrl)))));
}

export async function waitFor(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
