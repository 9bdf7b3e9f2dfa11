import { describe, expect, it } from 'vitest';
import { SubjectFilter } from '../../src/audit/subject-filter.js';

describe('SubjectFilter', () => {
  it('never forgets a subject it was given, across growth beyond its first capacity', () => {
    const filter = new SubjectFilter(1024);
    for (let i = 0; i < 50_000; i++) filter.add(`submission:${i}`);
    for (let i = 0; i < 50_000; i++) expect(filter.mightContain(`submission:${i}`)).toBe(true);
  });

  it('answers "never seen" for most new subjects (false positives only cost a lookup)', () => {
    const filter = new SubjectFilter(1024);
    for (let i = 0; i < 50_000; i++) filter.add(`certificate:${i}`);
    let falsePositives = 0;
    for (let i = 0; i < 20_000; i++) if (filter.mightContain(`certificate:x${i}`)) falsePositives++;
    expect(falsePositives / 20_000).toBeLessThan(0.05);
  });

  it('forgets everything on clear()', () => {
    const filter = new SubjectFilter();
    filter.add('a');
    filter.clear();
    expect(filter.mightContain('a')).toBe(false);
  });
});
