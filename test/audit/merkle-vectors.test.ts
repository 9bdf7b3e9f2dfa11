import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  consistencyProofRanges,
  EMPTY_ROOT,
  hashChildren,
  hashLeaf,
  hashRanges,
  inclusionProofRanges,
  nodeKey,
  rangeNodes,
  verifyConsistency,
  verifyInclusion,
} from '../../src/audit/merkle.js';
import { vectorSuite } from '../helpers/vectors.js';

/**
 * RFC 6962 / RFC 9162 conformance: vectors/merkle (transparency-dev/merkle @ 417fb0c, Apache-2.0,
 * plus tree-roots.json, hashers.json and derived-proofs.json written from it). Harness per
 * vectors/merkle/README.md: every probe with wantErr=false verifies, every other one fails
 * with an error (never an escaping exception of another kind); generated proofs equal proofHex.
 */
const dir = vectorSuite('merkle');

function walk(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? walk(path) : name.endsWith('.json') ? [path] : [];
  });
}

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

interface InclusionProbe {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  wantErr: boolean;
}
interface ConsistencyProbe {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  wantErr: boolean;
}

function outcome(run: () => void): 'ok' | 'error' {
  try {
    run();
    return 'ok';
  } catch (error) {
    expect((error as { code?: string }).code).toBe('ERR_AUDIT_PROOF_INVALID');
    return 'error';
  }
}

describe.skipIf(dir === undefined)('Merkle tree (vectors/merkle)', () => {
  const inclusionFiles = dir === undefined ? [] : walk(join(dir, 'inclusion'));
  const consistencyFiles = dir === undefined ? [] : walk(join(dir, 'consistency'));

  it('has the 196 probes the README lists', () => {
    expect(inclusionFiles.length + consistencyFiles.length).toBe(196);
  });

  it.each(inclusionFiles.map((f) => [relative(dir!, f), f]))('inclusion probe %s', (_name, file) => {
    const p = JSON.parse(readFileSync(file, 'utf8')) as InclusionProbe;
    const result = outcome(() => verifyInclusion(p.leafIdx, p.treeSize, b64(p.leafHash), (p.proof ?? []).map(b64), b64(p.root)));
    expect(result).toBe(p.wantErr ? 'error' : 'ok');
  });

  it.each(consistencyFiles.map((f) => [relative(dir!, f), f]))('consistency probe %s', (_name, file) => {
    const p = JSON.parse(readFileSync(file, 'utf8')) as ConsistencyProbe;
    const result = outcome(() => verifyConsistency(p.size1, p.size2, (p.proof ?? []).map(b64), b64(p.root1), b64(p.root2)));
    expect(result).toBe(p.wantErr ? 'error' : 'ok');
  });

  it('hashes as hashers.json says (empty root, leaves, children of any length)', () => {
    const { vectors } = JSON.parse(readFileSync(join(dir!, 'hashers.json'), 'utf8')) as {
      vectors: Array<{ operation: string; inputs: { leafHex?: string; leftHex?: string; rightHex?: string }; expectedHex: string }>;
    };
    expect(vectors).toHaveLength(4);
    for (const v of vectors) {
      const got =
        v.operation === 'emptyRoot'
          ? EMPTY_ROOT
          : v.operation === 'hashLeaf'
            ? hashLeaf(hex(v.inputs.leafHex!))
            : hashChildren(hex(v.inputs.leftHex!), hex(v.inputs.rightHex!));
      expect(got.toString('hex')).toBe(v.expectedHex);
    }
  });

  const roots =
    dir === undefined
      ? undefined
      : (JSON.parse(readFileSync(join(dir, 'tree-roots.json'), 'utf8')) as {
          leafInputs: Array<{ inputHex: string; leafHashHex: string }>;
          nodeHashes: { levels: string[][] };
          rootHashes: Array<{ treeSize: number; rootHex: string }>;
          compactRanges: { bySize: Array<{ treeSize: number; nodes: Array<{ level: number; index: number }> }> };
        });

  it('appends the 8 leaves of tree-roots.json with every root, subtree and compact range as listed', () => {
    const tree = new CompactRange();
    const nodes = new Map<string, string>();
    expect(tree.root().toString('hex')).toBe(roots!.rootHashes[0]!.rootHex);
    roots!.leafInputs.forEach((leaf, i) => {
      const leafHash = hashLeaf(hex(leaf.inputHex));
      expect(leafHash.toString('hex')).toBe(leaf.leafHashHex);
      nodes.set(nodeKey({ level: 0, index: i }), leafHash.toString('hex'));
      tree.append(leafHash, (level, index, hash) => nodes.set(nodeKey({ level, index }), hash.toString('hex')));
      expect(tree.root().toString('hex')).toBe(roots!.rootHashes[i + 1]!.rootHex);
      const compact = roots!.compactRanges.bySize[i + 1]!.nodes;
      expect(rangeNodes({ begin: 0, end: i + 1 })).toEqual(compact.map((n) => ({ level: n.level, index: n.index })));
    });
    roots!.nodeHashes.levels.forEach((level, l) => level.forEach((h, i) => expect(nodes.get(nodeKey({ level: l, index: i }))).toBe(h)));
  });

  it('generates exactly the 72 proofs of derived-proofs.json, and each verifies', () => {
    const derived = JSON.parse(readFileSync(join(dir!, 'derived-proofs.json'), 'utf8')) as {
      inclusion: Array<{ leafIndex: number; treeSize: number; leafHashHex: string; rootHex: string; proofHex: string[] }>;
      consistency: Array<{ size1: number; size2: number; root1Hex: string; root2Hex: string; proofHex: string[] }>;
    };
    const nodes = new Map<string, Buffer>();
    const tree = new CompactRange();
    roots!.leafInputs.forEach((leaf, i) => {
      const h = hashLeaf(hex(leaf.inputHex));
      nodes.set(nodeKey({ level: 0, index: i }), h);
      tree.append(h, (level, index, hash) => nodes.set(nodeKey({ level, index }), hash));
    });
    expect(derived.inclusion).toHaveLength(36);
    expect(derived.consistency).toHaveLength(36);
    for (const v of derived.inclusion) {
      const proof = hashRanges(inclusionProofRanges(v.leafIndex, v.treeSize), nodes);
      expect(proof.map((h) => h.toString('hex'))).toEqual(v.proofHex);
      verifyInclusion(v.leafIndex, v.treeSize, hex(v.leafHashHex), proof, hex(v.rootHex));
    }
    for (const v of derived.consistency) {
      const proof = hashRanges(consistencyProofRanges(v.size1, v.size2), nodes);
      expect(proof.map((h) => h.toString('hex'))).toEqual(v.proofHex);
      verifyConsistency(v.size1, v.size2, proof, hex(v.root1Hex), hex(v.root2Hex));
    }
  });
});
