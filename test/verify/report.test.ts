import { describe, expect, it } from 'vitest';
import type { Check } from '../../src/verify/report.js';
import { CheckList, combineOutcomes, outcomeOf } from '../../src/verify/validation-report.js';

const passed = (id: string): Check => ({ id, result: 'PASSED', message: id });

describe('outcomeOf (the rule validation-report.ts documents)', () => {
  it('is TOTAL_PASSED only when every check passed', () => {
    expect(outcomeOf([passed('a'), passed('b')])).toEqual({ indication: 'TOTAL_PASSED' });
    expect(outcomeOf([])).toEqual({ indication: 'TOTAL_PASSED' });
  });

  it('lets the first TOTAL_FAILED sub-indication win over an earlier INDETERMINATE one', () => {
    const checks = new CheckList()
      .pass('a', 'ok')
      .fail('b', 'NO_CERTIFICATE_CHAIN_FOUND', 'no chain')
      .fail('c', 'HASH_FAILURE', 'hash')
      .fail('d', 'SIG_CRYPTO_FAILURE', 'sig').checks;
    expect(outcomeOf(checks)).toEqual({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
  });

  it('is INDETERMINATE with the first sub-indication when nothing failed outright', () => {
    const checks = new CheckList()
      .notRun('a', 'earlier fault')
      .indeterminate('b', 'TRY_LATER', 'no CRL')
      .fail('c', 'CRYPTO_CONSTRAINTS_FAILURE', 'x').checks;
    expect(outcomeOf(checks)).toEqual({ indication: 'INDETERMINATE', subIndication: 'TRY_LATER' });
  });

  it('never passes a check that could not run: INDETERMINATE/GENERIC', () => {
    const list = new CheckList().pass('a', 'ok').notRun('b', 'the certificate was not found');
    expect(list.checks[1]).toEqual({ id: 'b', result: 'INDETERMINATE', message: 'not run: the certificate was not found' });
    expect(outcomeOf(list.checks)).toEqual({ indication: 'INDETERMINATE', subIndication: 'GENERIC' });
    expect(list.allPassed).toBe(false);
  });

  it('leaves certificateIndex out unless given', () => {
    expect(new CheckList().pass('a', 'm').checks[0]).not.toHaveProperty('certificateIndex');
    expect(new CheckList().fail('a', 'REVOKED', 'm', 1).checks[0]).toMatchObject({ certificateIndex: 1 });
  });
});

describe('combineOutcomes', () => {
  it('takes the first TOTAL_FAILED, else the first INDETERMINATE, else TOTAL_PASSED', () => {
    expect(combineOutcomes([{ indication: 'TOTAL_PASSED' }, { indication: 'TOTAL_PASSED' }])).toEqual({ indication: 'TOTAL_PASSED' });
    expect(
      combineOutcomes([
        { indication: 'INDETERMINATE', subIndication: 'TRY_LATER' },
        { indication: 'TOTAL_FAILED', subIndication: 'POLICY_FAILURE' },
        { indication: 'TOTAL_FAILED', subIndication: 'REVOKED' },
      ]),
    ).toEqual({ indication: 'TOTAL_FAILED', subIndication: 'POLICY_FAILURE' });
    expect(combineOutcomes([{ indication: 'TOTAL_PASSED' }, { indication: 'INDETERMINATE', subIndication: 'GENERIC' }])).toEqual({
      indication: 'INDETERMINATE',
      subIndication: 'GENERIC',
    });
  });
});
