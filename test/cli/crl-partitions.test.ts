import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { completeUscc } from '../../src/registry/uscc.js';
import { copyPgliteTemplate } from '../helpers/db.js';
import { runCli } from '../helpers/spawn.js';

/** The embedded database, a fixed passphrase, quiet logs. */
const ENV = { DATABASE_URL: '', CHANCERY_KEY_PASSPHRASE: 'cli test passphrase, not secret', LOG_LEVEL: 'warn' };

describe('chancery init --crl-partitions (real processes)', () => {
  const dataDir = copyPgliteTemplate(mkdtempSync(join(tmpdir(), 'chancery-cli-partitions-')));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses a count outside 1..4096 before making anything', async () => {
    const bad = await runCli(['init', '--data-dir', dataDir, '--crl-partitions', '5000'], ENV);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('chancery: --crl-partitions: "5000" is not a CRL partition count (an integer from 1 to 4096)');
    const fromEnv = await runCli(['init', '--data-dir', dataDir], { ...ENV, CHANCERY_CRL_PARTITIONS: '0' });
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toContain('CHANCERY_CRL_PARTITIONS: "0" is not a CRL partition count');
  });

  // Four processes opening the embedded database, one after the other: more than the default timeout on a busy machine.
  it(
    'stores the chosen count; a later command with another count is refused, the same count is accepted',
    { timeout: 120_000 },
    async () => {
      const init = await runCli(['init', '--data-dir', dataDir, '--crl-partitions', '8', '--json'], ENV);
      expect(init.code, init.stderr).toBe(0);
      expect((JSON.parse(init.stdout) as { crlPartitions: number }).crlPartitions).toBe(8);

      const register = (n: number): string[] => [
        'enterprise',
        'register',
        '--data-dir',
        dataDir,
        '--uscc',
        completeUscc(`9133010000080${n}00`),
        '--name',
        `Partition ${n} Co`,
      ];
      const other = await runCli(register(0), { ...ENV, CHANCERY_CRL_PARTITIONS: '16' });
      expect(other.code).toBe(1);
      expect(other.stderr).toContain('CHANCERY_CRL_PARTITIONS (--crl-partitions) is 16, but this CA was initialized with 8 CRL partitions');
      // `serve` on the initialized data dir refuses the same way, before listening.
      const serve = await runCli(['serve', '--data-dir', dataDir, '--port', '0', '--crl-partitions', '64'], ENV);
      expect(serve.code).toBe(1);
      expect(serve.stderr).toContain('is 64, but this CA was initialized with 8 CRL partitions');

      const same = await runCli(register(1), { ...ENV, CHANCERY_CRL_PARTITIONS: '8' });
      expect(same.code, same.stderr).toBe(0);
    },
  );
});
