import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SubjectHeads } from '../../src/audit/auditor/verify.js';

const hashOf = (s: string): Buffer => createHash('sha256').update(s).digest();

describe('SubjectHeads (the offline verifier’s latest leaf per subject)', () => {
  it('keeps the latest hash of each of many subjects across pool chunks and shards', () => {
    const heads = new SubjectHeads();
    const n = 100_000; // three 32,768-slot chunks and every shard
    for (let i = 0; i < n; i++) heads.exchange(`enterprise:${i}`, hashOf(`first ${i}`));
    for (let i = 0; i < n; i += 7) heads.exchange(`enterprise:${i}`, hashOf(`second ${i}`));
    expect(heads.size).toBe(n);
    for (let i = 0; i < n; i += 997) {
      expect(heads.get(`enterprise:${i}`)).toEqual(hashOf(`${i % 7 === 0 ? 'second' : 'first'} ${i}`));
    }
    expect(heads.get('enterprise:unknown')).toBeUndefined();
  });

  it('holds a copy: the caller may reuse the buffer it passed', () => {
    const heads = new SubjectHeads();
    const b = hashOf('a');
    heads.exchange('s', b);
    b.fill(0);
    expect(heads.get('s')).toEqual(hashOf('a'));
  });
});
