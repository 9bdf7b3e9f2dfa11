import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../src/audit/checkpoint.js';
import { CompactRange } from '../../src/audit/merkle.js';
import { parseVerifierKey } from '../../src/audit/note.js';
import { openAudit } from '../../src/audit/open.js';
import { LogReader } from '../../src/audit/reader.js';
import { listCheckpoints } from '../../src/audit/store.js';
import { loadConfig } from '../../src/config.js';
import { FileKeyStore } from '../../src/crypto/key-store.js';
import { openPg } from '../../src/db/pg.js';
import { createLogger } from '../../src/log.js';
import { startService } from '../../src/app/server.js';
import { createMigrated, createPgDatabase, drivers, dropPgDatabase, pgOnly } from '../helpers/db.js';
import { DIST_SRC, runCli, startScript, type Child } from '../helpers/spawn.js';
import { auditPartVerify, expectIntactLog, testEntry } from './helpers.js';

const PASSPHRASE = 'test-only passphrase, not a secret';
const logger = createLogger('silent');

describe.each(drivers())('concurrent appends on $name', (driver) => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('8 writers x 1,000 appends: one gapless chain that the auditor verifies', { timeout: 180_000 }, async () => {
    const t = await createMigrated(driver);
    cleanup.push(() => t.drop());
    const dir = mkdtempSync(join(tmpdir(), 'chancery-conc-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const part = await openAudit({
      db: t.db,
      keyStore: new FileKeyStore(join(dir, 'keys'), PASSPHRASE),
      dataDir: dir,
      logger,
      checkpointDelayMs: 50,
    });
    cleanup.push(() => part.close());
    const indexes: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 1000; i++) {
          const appended = await part.log.record(async (_tx, append) => append(testEntry(`writer-${w}-${i % 25}`, { w, i })));
          indexes.push(appended.index);
        }
      }),
    );
    expect(new Set(indexes).size).toBe(8000);
    expect(Math.min(...indexes)).toBe(0);
    expect(Math.max(...indexes)).toBe(7999);
    await part.checkpointer.publish();
    expect(await expectIntactLog(t.db)).toHaveLength(8000);
    expect(await auditPartVerify(part.reader, part.logKey.verifier)).toMatchObject({ ok: true, entries: 8000 });
  });
});

const pg = pgOnly();

/** A `chancery serve` equivalent in a child process that appends when the GO file appears. */
function serviceProcess(name: string, dataDir: string, databaseUrl: string, go: string, writers: number, perWriter: number): Child {
  return startScript(
    `
    const { existsSync } = await import('node:fs');
    const { loadConfig } = await import(${JSON.stringify(`${DIST_SRC}/config.js`)});
    const { createLogger } = await import(${JSON.stringify(`${DIST_SRC}/log.js`)});
    const { startService } = await import(${JSON.stringify(`${DIST_SRC}/app/server.js`)});
    const config = loadConfig(process.env, { dataDir: ${JSON.stringify(dataDir)}, databaseUrl: ${JSON.stringify(databaseUrl)}, host: '127.0.0.1', port: '0', logLevel: 'error' });
    const service = await startService(config, createLogger('error'));
    process.on('SIGTERM', () => service.stop().then(() => process.exit(0)));
    console.log('listening ' + service.server.port);
    while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 10));
    await Promise.all(Array.from({ length: ${writers} }, async (_, w) => {
      for (let i = 0; i < ${perWriter}; i++) {
        const e = await service.audit.record(async (_tx, append) =>
          append({ kind: 'submission.accepted', actor: 'system', subject: '${name}-' + w + '-' + (i % 10), data: { w, i } }));
        console.log('ack ' + e.index + ' ' + e.leafHash);
      }
    }));
    console.log('done');
    `,
    { CHANCERY_KEY_PASSPHRASE: PASSPHRASE, DATABASE_URL: '' },
  );
}

function portOf(child: Child): number {
  return Number(/listening (\d+)/.exec(child.stdout())![1]);
}

describe.skipIf(pg === undefined)('several processes on one PostgreSQL', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it(
    'two service processes x 4 writers x 1,000 appends: one log, no fork, every checkpoint either publishes consistent with all others',
    { timeout: 240_000 },
    async () => {
      const url = await createPgDatabase();
      cleanup.push(() => dropPgDatabase(url));
      const work = mkdtempSync(join(tmpdir(), 'chancery-2proc-'));
      cleanup.push(async () => rmSync(work, { recursive: true, force: true }));
      const go = join(work, 'go');
      const dirA = join(work, 'a');
      const a = serviceProcess('A', dirA, url, go, 4, 1000);
      cleanup.push(async () => void a.process.kill('SIGKILL'));
      await a.waitFor(/listening \d+/);
      // Scale-out: a second stateless node with the same configuration and keys.
      const dirB = join(work, 'b');
      cpSync(dirA, dirB, { recursive: true });
      const b = serviceProcess('B', dirB, url, go, 4, 1000);
      cleanup.push(async () => void b.process.kill('SIGKILL'));
      await b.waitFor(/listening \d+/);

      const notes = new Set<string>();
      let polling = true;
      const poll = (async () => {
        while (polling) {
          for (const child of [a, b]) {
            const res = await fetch(`http://127.0.0.1:${portOf(child)}/log/checkpoint`).catch(() => undefined);
            if (res?.ok === true) notes.add(await res.text());
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      writeFileSync(go, '');
      await Promise.all([a.waitFor('done', 200_000), b.waitFor('done', 200_000)]);
      await new Promise((r) => setTimeout(r, 1500)); // the last checkpoints
      polling = false;
      await poll;
      a.process.kill('SIGTERM');
      b.process.kill('SIGTERM');
      expect((await a.finished).code).toBe(0);
      expect((await b.finished).code).toBe(0);

      const db = await openPg(url);
      cleanup.push(() => db.close());
      const entries = await expectIntactLog(db);
      expect(entries.filter((e) => /^[AB]-/.test(e.subject))).toHaveLength(8000);
      const acked = [a, b].flatMap((c) =>
        c
          .stdout()
          .split('\n')
          .filter((l) => l.startsWith('ack ')),
      );
      expect(new Set(acked).size).toBe(8000);

      const verifier = parseVerifierKey(readVkey(dirA));
      expect(readVkey(dirB)).toBe(readVkey(dirA));
      for (const c of await listCheckpoints(db)) notes.add(c.note);
      const bySize = new Map<number, Buffer>();
      for (const note of notes) {
        const cp = openCheckpoint(note, verifier, verifier.name);
        const seen = bySize.get(cp.size);
        if (seen !== undefined) expect(seen.equals(cp.root)).toBe(true);
        bySize.set(cp.size, cp.root);
      }
      expect(bySize.size).toBeGreaterThan(2);
      const { rows } = await db.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM audit_entries ORDER BY seq');
      const tree = new CompactRange();
      const check = (): void => {
        const root = bySize.get(tree.size);
        if (root !== undefined) expect(root.equals(tree.root()), `checkpoint at ${tree.size}`).toBe(true);
      };
      check();
      for (const row of rows) {
        tree.append(row.leaf_hash);
        check();
      }
      expect(Math.max(...bySize.keys())).toBeLessThanOrEqual(tree.size);
      expect(await auditPartVerify(new LogReader(db), verifier)).toMatchObject({ ok: true });
    },
  );

  it(
    'kill -9 in the middle of appending: every acknowledged entry survives, the service restarts and the log verifies',
    { timeout: 180_000 },
    async () => {
      const url = await createPgDatabase();
      cleanup.push(() => dropPgDatabase(url));
      const dir = mkdtempSync(join(tmpdir(), 'chancery-kill-'));
      cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
      const go = join(dir, 'go');
      writeFileSync(go, '');
      const child = serviceProcess('K', dir, url, go, 8, 100_000);
      cleanup.push(async () => void child.process.kill('SIGKILL'));
      for (let waited = 0; (child.stdout().match(/^ack /gm) ?? []).length < 400; waited += 20) {
        if (waited > 120_000 || child.process.exitCode !== null) throw new Error(`no 400 acknowledgements: ${child.stderr()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      child.process.kill('SIGKILL');
      const finished = await child.finished;
      expect(finished.signal).toBe('SIGKILL');
      const acked = finished.stdout
        .split('\n')
        .filter((l) => l.startsWith('ack '))
        .map((l) => l.split(' ') as [string, string, string]);
      expect(acked.length).toBeGreaterThanOrEqual(400);

      const db = await openPg(url);
      cleanup.push(() => db.close());
      const stored = new Map(
        (await db.query<{ seq: number; leaf_hash: Buffer }>('SELECT seq, leaf_hash FROM audit_entries')).rows.map((r) => [
          Number(r.seq),
          r.leaf_hash.toString('hex'),
        ]),
      );
      for (const [, index, leafHash] of acked) expect(stored.get(Number(index)), `acknowledged entry ${index}`).toBe(leafHash);
      await expectIntactLog(db);

      // Restart on the same data dir and database: the start-up guard passes, checkpoints resume.
      const service = await startService(
        loadConfig(
          { CHANCERY_KEY_PASSPHRASE: PASSPHRASE },
          { dataDir: dir, databaseUrl: url, host: '127.0.0.1', port: '0', logLevel: 'silent' },
        ),
        logger,
      );
      cleanup.push(() => service.stop());
      const size = await service.auditPart.reader.treeSize();
      for (let i = 0; i < 100 && (await service.auditPart.reader.latestCheckpoint()).size < size; i++)
        await new Promise((r) => setTimeout(r, 50));
      const verified = await runCli([
        'audit',
        'verify',
        '--url',
        `http://127.0.0.1:${service.server.port}`,
        '--log-key',
        join(dir, 'log.vkey'),
        '--no-state',
        '--json',
      ]);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, checkpoint: { size } });
    },
  );
});

function readVkey(dir: string): string {
  return readFileSync(join(dir, 'log.vkey'), 'utf8').trim();
}
