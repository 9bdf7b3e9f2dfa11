import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { completeUscc, organizationCodeCheckCharacter, parseUscc, USCC_CHARSET, usccCheckCharacter } from '../../src/registry/uscc.js';
import { expectCode } from '../helpers/expect-code.js';

describe('USCC (GB 32100-2015)', () => {
  it.each([
    ['91350100M000100Y43', '350100'], // the standard's own example
    ['914403001922038216', '440300'],
    ['91110000802100433B', '110000'],
  ])('accepts the published code %s and reads its division %s', (code, division) => {
    const parsed = parseUscc(code);
    expect(parsed.division).toBe(division);
    expect(parsed.organizationCode).toBe(code.slice(8, 17));
  });

  it('computes check characters with weights 3^(i-1) mod 31', () => {
    expect(usccCheckCharacter('91350100M000100Y4')).toBe('3');
    expect(organizationCodeCheckCharacter('M000100Y')).toBe('4');
  });

  it('refuses a wrong check character, naming the expected one', async () => {
    const error = await expectCode(() => parseUscc('91350100M000100Y44'), 'ERR_REGISTRY_USCC_CHECK');
    expect(error.message).toContain('give 3');
  });

  it('refuses an embedded organization code failing its GB 11714 check', async () => {
    // Org code M000100Y with check 5 instead of 4, USCC check recomputed so only GB 11714 fails.
    const first17 = '91350100M000100Y5';
    await expectCode(() => parseUscc(first17 + usccCheckCharacter(first17)), 'ERR_REGISTRY_ORGANIZATION_CODE_CHECK');
  });

  it('accepts a legacy code failing its checks only with the override flag, never a malformed one', async () => {
    expect(parseUscc('91350100M000100Y44', { overrideCheck: true }).code).toBe('91350100M000100Y44');
    await expectCode(() => parseUscc('91350100M000100Y4I', { overrideCheck: true }), 'ERR_REGISTRY_USCC_MALFORMED');
    await expectCode(() => parseUscc('9135010', { overrideCheck: true }), 'ERR_REGISTRY_USCC_MALFORMED');
    await expectCode(() => parseUscc(42), 'ERR_REGISTRY_USCC_MALFORMED');
    await expectCode(() => parseUscc('91350100m000100y43'), 'ERR_REGISTRY_USCC_MALFORMED');
  });

  it('detects every single-character substitution (property)', () => {
    const body = fc.array(fc.constantFrom(...'0123456789ABCDEFGHJKLMNPQRTUWXY'.split('')), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(body, fc.nat(17), fc.constantFrom(...USCC_CHARSET.split('')), (org, position, replacement) => {
        const code = completeUscc(`913501${'00'}${org.join('')}`);
        expect(parseUscc(code).code).toBe(code);
        const changed = code.slice(0, position) + replacement + code.slice(position + 1);
        fc.pre(changed !== code && /^[0-9]{6}$/.test(changed.slice(2, 8)));
        expect(() => parseUscc(changed)).toThrow();
      }),
      { seed: 4242, numRuns: 500 },
    );
  });
});
