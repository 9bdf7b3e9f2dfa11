import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindRows, StateBinding, type BoundRow } from '../../src/audit/binding.js';
import { GroupCommitLog } from '../../src/audit/sequencer.js';
import type { AppendedEntry } from '../../src/audit/types.js';
import { createMigrated, drivers, type TestDatabase } from '../helpers/db.js';

/**
 * StateBinding on its own: a row agrees with the latest entry about it, through the binding
 * written with that entry; a transition that commits between reading a row and reading its entry
 * is not called a divergence; a row that still disagrees on the second read is reported.
 */
describe.each(drivers())('StateBinding on $name', (driver) => {
  let t: TestDatabase;
  let log: GroupCommitLog;
  beforeAll(async () => {
    t = await createMigrated(driver);
    log = new GroupCommitLog({ db: t.db });
  });
  afterAll(async () => {
    await log?.close();
    await t?.drop();
  });

  const USCC = '91440305MA5FTEST01';
  const row = (status: string, reason: string | null = null): BoundRow => ({
    kind: 'enterprise',
    state: { uscc: USCC, status, reason, name: 'Binding Test Co Ltd' },
  });
  const count = async (b: StateBinding): Promise<number> => (await b.divergences.get()).values.reduce((s, v) => s + v.value, 0);

  async function decide(kind: 'enterprise.registered' | 'enterprise.revoked', data: Record<string, string>): Promise<AppendedEntry> {
    return log.record(async (tx, append) => {
      const entry = await append({ kind, actor: 'admin:test', subject: `enterprise:${USCC}`, data: { uscc: USCC, ...data } });
      await bindRows(tx, [{ subject: `enterprise:${USCC}`, entry }]);
      return entry;
    });
  }

  it('agrees with the entry the row is bound to, refuses what it does not say, and reads a row twice before calling it divergent', async () => {
    const binding = new StateBinding();
    await decide('enterprise.registered', { name: 'Binding Test Co Ltd' });
    expect(await binding.check(t.db, [row('active')])).toEqual([undefined]);
    // Cached by leaf hash: the second check agrees the same way.
    expect(await binding.check(t.db, [row('active')])).toEqual([undefined]);
    const [wrong] = await binding.check(t.db, [row('revoked', 'made up')]);
    expect(wrong).toMatchObject({ kind: 'enterprise', field: 'status', row: 'revoked', log: 'active' });
    expect(await count(binding)).toBe(1);

    const revocation = await decide('enterprise.revoked', { reason: 'licence revoked' });
    // Read just before the revocation committed, read again after: not a divergence.
    const reads = [row('active'), row('revoked', 'licence revoked')];
    const { value, divergences } = await binding.recheck(
      t.db,
      async () => reads.shift()!,
      (r) => [r],
    );
    expect(value.state).toMatchObject({ status: 'revoked' });
    expect(divergences).toEqual([undefined]);
    expect(await count(binding)).toBe(1);

    // Still "active" on the second read: reported, with the index of the entry that says otherwise.
    const stale = await binding.recheck(
      t.db,
      async () => row('active'),
      (r) => [r],
    );
    expect(stale.divergences[0]).toMatchObject({ field: 'status', logIndex: revocation.index, log: 'revoked' });
    expect(await count(binding)).toBe(2);
    await expect(
      binding.verified(
        t.db,
        async () => row('active'),
        (r) => [r],
      ),
    ).rejects.toMatchObject({ code: 'ERR_STATE_DIVERGES_FROM_LOG' });

    // A binding that names another entry than the subject's latest is a divergence of its own.
    await t.db.query('UPDATE log_bindings SET log_index = log_index - 1 WHERE subject = $1', [`enterprise:${USCC}`]);
    const [unbound] = await binding.check(t.db, [row('revoked', 'licence revoked')]);
    expect(unbound).toMatchObject({ field: 'binding', logIndex: revocation.index });
  });
});
