import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { completeUscc } from '../../src/registry/uscc.js';
import { startService } from '../../src/app/server.js';
import { adminApi } from '../http/ca-client.js';
import { pgOnly } from '../helpers/db.js';
import { startTestService } from '../helpers/service.js';

const driver = pgOnly();

// README § Audit log: once the owner has migrated the database, the service runs as a login in
// the restricted role chancery_service (no INSERT/UPDATE/DELETE on the log, append only through
// the SECURITY DEFINER function) and still does its work.
describe.skipIf(driver === undefined)('the service running as the restricted chancery_service role', () => {
  it('starts on a database the owner migrated, records decisions, and cannot touch the log directly', async () => {
    const owner = await startTestService(driver!);
    const url = new URL(owner.config.databaseUrl!);
    await owner.service.stop();

    const login = `chancery_app_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    await admin.query(`CREATE ROLE ${login} LOGIN PASSWORD 'test-only' IN ROLE chancery_service`);
    const restricted = new URL(url);
    restricted.username = login;
    restricted.password = 'test-only';
    try {
      const config = loadConfig(
        { CHANCERY_KEY_PASSPHRASE: 'test-only passphrase, not a secret' },
        { dataDir: owner.dataDir, databaseUrl: restricted.toString(), host: '127.0.0.1', port: '0', logLevel: 'silent' },
      );
      const service = await startService(config, createLogger('silent'));
      try {
        const base = `http://127.0.0.1:${service.server.port}`;
        expect((await fetch(`${base}/readyz`)).status).toBe(200);
        const before = (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_entries')).rows[0]!.n;
        const api = await adminApi({ url: base, dataDir: owner.dataDir } as Parameters<typeof adminApi>[0]);
        const uscc = completeUscc('9144030000051000');
        const res = await api.post('/api/v1/enterprises', { uscc, name: 'Role Test Trading Co., Ltd.' });
        expect(res.status).toBe(201);
        const after = (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_entries')).rows[0]!.n;
        expect(after).toBeGreaterThan(before);

        const direct = new pg.Client({ connectionString: restricted.toString() });
        await direct.connect();
        try {
          await expect(direct.query('DELETE FROM audit_entries')).rejects.toThrow(/permission denied/);
          await expect(direct.query(`INSERT INTO audit_entries SELECT * FROM audit_entries LIMIT 1`)).rejects.toThrow(/permission denied/);
        } finally {
          await direct.end();
        }
      } finally {
        await service.stop();
      }
    } finally {
      await admin.end();
      await owner.stop().catch(() => undefined);
      const cleanup = new pg.Client({ connectionString: process.env['DATABASE_URL']! });
      await cleanup.connect();
      await cleanup.query(`DROP ROLE IF EXISTS ${login}`).catch(() => undefined);
      await cleanup.end();
    }
  });
});
