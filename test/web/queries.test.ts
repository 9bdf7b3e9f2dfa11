import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeUscc } from '../../src/registry/uscc.js';
import { drivers } from '../helpers/db.js';
import { expectCode } from '../helpers/expect-code.js';
import { startTestService, type TestService } from '../helpers/service.js';

/**
 * The two queries the pages added to the parts, on both database drivers: the registry's
 * revoked-enterprise search (USCC prefix or part of the name, with keyset paging) and the log's
 * filtered entry pages (by kind and subject, newest first, below an index).
 */
describe.each(drivers())('queries behind the web pages on $name', (driver) => {
  let svc: TestService;
  const codes = ['9144030000000101', '9144030000000202', '9131010000000303', '9131010000000404'].map(completeUscc);
  const names = ['Shenzhen Alpha Foods Co Ltd', 'Shenzhen BETA Trading Co Ltd', '上海伽马贸易有限公司', 'Shanghai Delta Foods Co Ltd'];

  beforeAll(async () => {
    svc = await startTestService(driver);
    const registry = svc.service.parts.registry;
    for (let i = 0; i < codes.length; i++) await registry.registerEnterprise({ uscc: codes[i], name: names[i] }, 'admin:test');
    for (const i of [0, 1, 2]) await registry.revokeEnterprise(codes[i]!, `decision ${i}`, 'admin:test');
  }, 120_000);
  afterAll(async () => {
    await svc?.stop();
  });

  it('searches the revoked list by USCC prefix or by part of the name in any case, with paging', async () => {
    const registry = svc.service.parts.registry;
    const usccs = async (options: Record<string, unknown>) =>
      (await registry.listEnterprises({ status: 'revoked', ...options })).map((e) => e.uscc);
    expect(await usccs({})).toEqual([codes[2], codes[0], codes[1]].sort());
    expect(await usccs({ search: 'beta' })).toEqual([codes[1]]);
    expect(await usccs({ search: 'foods' })).toEqual([codes[0]]); // Delta Foods is not revoked
    expect(await usccs({ search: '伽马' })).toEqual([codes[2]]);
    expect(await usccs({ search: codes[0]!.slice(0, 8).toLowerCase() })).toEqual([codes[0], codes[1]].sort());
    expect(await usccs({ search: '%' })).toEqual([]);
    expect(await usccs({ search: '   ' })).toHaveLength(3);
    const first = await usccs({ search: 'Shenzhen', limit: 1 });
    expect(await usccs({ search: 'Shenzhen', after: first[0] })).toEqual([codes[0], codes[1]].sort().slice(1));
    await expectCode(() => registry.listEnterprises({ search: 'x'.repeat(101) }), 'ERR_REGISTRY_INVALID');
    await expectCode(() => registry.listEnterprises({ search: 'a\u0000' }), 'ERR_REGISTRY_INVALID');
  });

  it('pages log entries by kind and subject, newest first, below an index', async () => {
    const reader = svc.service.auditPart.reader;
    const kinds = async (options: { kind?: string; subject?: string; before?: number; limit: number }) =>
      (await reader.findEntries(options)).map((e) => ({ index: e.index, ...(JSON.parse(e.entry) as { kind: string; subject: string }) }));
    const revoked = await kinds({ kind: 'enterprise.revoked', limit: 10 });
    expect(revoked.map((e) => e.subject)).toEqual([2, 1, 0].map((i) => `enterprise:${codes[i]}`));
    expect(revoked[0]!.index).toBeGreaterThan(revoked[1]!.index);
    const chain = await kinds({ subject: `enterprise:${codes[0]}`, limit: 10 });
    expect(chain.map((e) => e.kind)).toEqual(['enterprise.revoked', 'enterprise.registered']);
    expect(await kinds({ kind: 'enterprise.revoked', before: revoked[1]!.index, limit: 10 })).toEqual([revoked[2]]);
    expect(await kinds({ kind: 'enterprise.revoked', limit: 1 })).toEqual([revoked[0]]);
    await expectCode(() => reader.findEntries({ limit: 0 }), 'ERR_AUDIT_RANGE');
    await expectCode(() => reader.findEntries({ limit: 5, before: -1 }), 'ERR_AUDIT_RANGE');
  });
});
