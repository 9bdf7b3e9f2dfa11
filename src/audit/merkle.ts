import { sha256 } from '../crypto/digest.js';
import { AuditError } from './errors.js';

/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 Merkle tree hashing, proof generation and verification.
 * Pure: node hashes come from the caller (the database on the server, the entries on an auditor).
 * Indexes and sizes are JS numbers (safe integers): arithmetic, never 32-bit bit operators.
 */

/** RFC 9162 §2.1.1: leaf hash = SHA-256(0x00 ‖ leaf). */
export const LEAF_PREFIX = Buffer.from([0x00]);
/** RFC 9162 §2.1.1: interior node hash = SHA-256(0x01 ‖ left ‖ right). */
export const NODE_PREFIX = Buffer.from([0x01]);
export const HASH_BYTES = 32;
/** RFC 9162 §2.1.1: the hash of an empty list is SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = sha256(Buffer.alloc(0));

export function hashLeaf(leaf: Uint8Array): Buffer {
  return sha256(LEAF_PREFIX, leaf);
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(NODE_PREFIX, left, right);
}

/** A perfect subtree: leaves [index·2^level, (index+1)·2^level). Level 0 is a leaf. */
export interface NodeId {
  level: number;
  index: number;
}

export function nodeKey(id: NodeId): string {
  return `${id.level}/${id.index}`;
}

/** Leaves [begin, end) of a subtree as RFC 6962 splits it; its hash is `foldRange` of `rangeNodes`. */
export interface Range {
  begin: number;
  end: number;
}

/** Largest power of two strictly less than n (n ≥ 2): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect subtrees whose fold is MTH(D[begin:end]) for a range that arises in RFC 6962's
 * recursion (begin is a multiple of a power of two ≥ end-begin): one per set bit of the size,
 * largest first.
 */
export function rangeNodes(range: Range): NodeId[] {
  const nodes: NodeId[] = [];
  let remaining = range.end - range.begin;
  let pos = range.begin;
  let width = 1;
  let level = 0;
  while (width * 2 <= remaining) {
    width *= 2;
    level++;
  }
  while (remaining > 0) {
    if (width <= remaining) {
      nodes.push({ level, index: pos / width });
      pos += width;
      remaining -= width;
    }
    width /= 2;
    level--;
  }
  return nodes;
}

/** MTH of a range from the hashes of its `rangeNodes`, in the same order (fold from the right). */
export function foldRange(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  let h: Buffer = Buffer.from(hashes[hashes.length - 1]!);
  for (let i = hashes.length - 2; i >= 0; i--) h = hashChildren(hashes[i]!, h);
  return h;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]): the ranges whose hashes form the inclusion proof, leaf side first. */
export function inclusionProofRanges(index: number, size: number): Range[] {
  checkIndexSize(index, size);
  const out: Range[] = [];
  const path = (m: number, begin: number, end: number): void => {
    const n = end - begin;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      path(m, begin, begin + k);
      out.push({ begin: begin + k, end });
    } else {
      path(m - k, begin + k, end);
      out.push({ begin, end: begin + k });
    }
  };
  path(index, 0, size);
  return out;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]): the ranges whose hashes form the consistency proof. */
export function consistencyProofRanges(size1: number, size2: number): Range[] {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 1 || size1 > size2) {
    throw new AuditError('ERR_AUDIT_RANGE', `a consistency proof needs 1 <= from <= to (got from=${size1}, to=${size2})`);
  }
  const out: Range[] = [];
  const sub = (m: number, begin: number, end: number, original: boolean): void => {
    const n = end - begin;
    if (m === n) {
      if (!original) out.push({ begin, end });
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, begin, begin + k, original);
      out.push({ begin: begin + k, end });
    } else {
      sub(m - k, begin + k, end, false);
      out.push({ begin, end: begin + k });
    }
  };
  sub(size1, 0, size2, true);
  return out;
}

/** Every node needed to hash the given ranges, de-duplicated. */
export function nodesOfRanges(ranges: readonly Range[]): NodeId[] {
  const seen = new Map<string, NodeId>();
  for (const r of ranges) for (const id of rangeNodes(r)) seen.set(nodeKey(id), id);
  return [...seen.values()];
}

/** Hashes of the ranges, given a map from `nodeKey` to node hash that holds every needed node. */
export function hashRanges(ranges: readonly Range[], nodes: ReadonlyMap<string, Uint8Array>): Buffer[] {
  return ranges.map((r) =>
    foldRange(
      rangeNodes(r).map((id) => {
        const h = nodes.get(nodeKey(id));
        if (h === undefined) throw new AuditError('ERR_AUDIT_RANGE', `node ${nodeKey(id)} is not stored`);
        return h;
      }),
    ),
  );
}

/**
 * The compact range of a tree of `size` leaves (RFC 9162 calls these the tree's "full subtrees"):
 * the roots of its perfect subtrees, largest first, one per set bit of `size`. Appending a leaf
 * costs on average one node hash and yields each new perfect subtree (what the server stores).
 */
export class CompactRange {
  #size: number;
  readonly #hashes: Buffer[];

  constructor(size = 0, hashes: Buffer[] = []) {
    if (!Number.isSafeInteger(size) || size < 0) throw new AuditError('ERR_AUDIT_RANGE', `bad tree size ${size}`);
    if (hashes.length !== popCount(size)) {
      throw new AuditError('ERR_AUDIT_RANGE', `a tree of ${size} leaves has ${popCount(size)} full subtrees, not ${hashes.length}`);
    }
    this.#size = size;
    this.#hashes = hashes;
  }

  /** From the serialized form (`toBytes`). */
  static fromBytes(size: number, bytes: Uint8Array): CompactRange {
    if (bytes.length % HASH_BYTES !== 0) throw new AuditError('ERR_AUDIT_RANGE', 'compact range bytes are not a multiple of 32');
    const hashes: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += HASH_BYTES) hashes.push(Buffer.from(bytes.subarray(i, i + HASH_BYTES)));
    return new CompactRange(size, hashes);
  }

  get size(): number {
    return this.#size;
  }

  /** The full-subtree hashes, largest first, concatenated. */
  toBytes(): Buffer {
    return Buffer.concat(this.#hashes);
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, [...this.#hashes]);
  }

  /**
   * Appends a leaf hash. `onNode` receives every interior node (level ≥ 1) that becomes complete.
   */
  append(leafHash: Buffer, onNode?: (level: number, index: number, hash: Buffer) => void): void {
    let h = leafHash;
    let pos = this.#size;
    let level = 0;
    while (pos % 2 === 1) {
      h = hashChildren(this.#hashes.pop()!, h);
      level++;
      pos = (pos - 1) / 2;
      onNode?.(level, pos, h);
    }
    this.#hashes.push(h);
    this.#size++;
  }

  /** RFC 9162 MTH of the leaves appended so far. */
  root(): Buffer {
    return foldRange(this.#hashes);
  }
}

export function popCount(n: number): number {
  let count = 0;
  while (n > 0) {
    if (n % 2 === 1) count++;
    n = Math.floor(n / 2);
  }
  return count;
}

function checkIndexSize(index: number, size: number): void {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new AuditError('ERR_AUDIT_RANGE', `leaf index ${index} is not inside a tree of size ${size}`);
  }
}

// --- Verification (the auditor side). Same checks as transparency-dev/merkle proof/verify.go. ---

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function onesCount(x: bigint): number {
  let n = 0;
  for (const c of x.toString(2)) if (c === '1') n++;
  return n;
}

function trailingZeros(x: bigint): number {
  let n = 0;
  while (x > 0n && (x & 1n) === 0n) {
    x >>= 1n;
    n++;
  }
  return n;
}

/** Sizes of the inner and border parts of an inclusion proof (RFC 9162 §2.1.3.2, restated). */
function decomposeInclusion(index: bigint, size: bigint): { inner: number; border: number } {
  const inner = bitLength(index ^ (size - 1n));
  const border = onesCount(index >> BigInt(inner));
  return { inner, border };
}

function chainInner(seed: Buffer, proof: readonly Uint8Array[], index: bigint): Buffer {
  let h = seed;
  proof.forEach((p, i) => {
    h = ((index >> BigInt(i)) & 1n) === 0n ? hashChildren(h, p) : hashChildren(p, h);
  });
  return h;
}

function chainInnerRight(seed: Buffer, proof: readonly Uint8Array[], index: bigint): Buffer {
  let h = seed;
  proof.forEach((p, i) => {
    if (((index >> BigInt(i)) & 1n) === 1n) h = hashChildren(p, h);
  });
  return h;
}

function chainBorderRight(seed: Buffer, proof: readonly Uint8Array[]): Buffer {
  let h = seed;
  for (const p of proof) h = hashChildren(p, h);
  return h;
}

function proofFail(reason: string): never {
  throw new AuditError('ERR_AUDIT_PROOF_INVALID', reason);
}

function asIndex(x: number, name: string): bigint {
  if (!Number.isSafeInteger(x) || x < 0) proofFail(`${name} ${x} is not a non-negative integer`);
  return BigInt(x);
}

/** The root an inclusion proof leads to (RFC 9162 §2.1.3.2). Throws ERR_AUDIT_PROOF_INVALID. */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): Buffer {
  const i = asIndex(index, 'index');
  const n = asIndex(size, 'size');
  if (i >= n) proofFail(`index ${index} is not below tree size ${size}`);
  if (leafHash.length !== HASH_BYTES) proofFail(`leaf hash is ${leafHash.length} bytes, not ${HASH_BYTES}`);
  const { inner, border } = decomposeInclusion(i, n);
  if (proof.length !== inner + border)
    proofFail(`inclusion proof has ${proof.length} hashes; index ${index} in size ${size} needs ${inner + border}`);
  const h = chainInner(Buffer.from(leafHash), proof.slice(0, inner), i);
  return chainBorderRight(h, proof.slice(inner));
}

/** Verifies that `leafHash` is leaf `index` of the tree of `size` leaves whose root is `root`. */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  const calculated = rootFromInclusionProof(index, size, leafHash, proof);
  if (!calculated.equals(root))
    proofFail(`inclusion proof leads to root ${calculated.toString('hex')}, not ${Buffer.from(root).toString('hex')}`);
}

/**
 * Verifies that the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2`
 * leaves with root `root2` (RFC 9162 §2.1.4.2). A proof from the empty tree is refused as
 * meaningless, as the reference verifier does.
 */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  const m = asIndex(size1, 'size1');
  const n = asIndex(size2, 'size2');
  if (n < m) proofFail(`size2 ${size2} is smaller than size1 ${size1}`);
  if (m === 0n) proofFail('a consistency proof from the empty tree is meaningless');
  if (m === n) {
    if (proof.length > 0) proofFail('sizes are equal but the proof is not empty');
    if (!Buffer.from(root1).equals(root2)) proofFail('sizes are equal but the roots differ');
    return;
  }
  if (proof.length === 0) proofFail('empty consistency proof');
  const decomposed = decomposeInclusion(m - 1n, n);
  const shift = trailingZeros(m);
  const inner = decomposed.inner - shift;
  let seed: Buffer;
  let start: number;
  if (m === 1n << BigInt(shift)) {
    seed = Buffer.from(root1);
    start = 0;
  } else {
    seed = Buffer.from(proof[0]!);
    start = 1;
  }
  if (proof.length !== start + inner + decomposed.border) {
    proofFail(`consistency proof has ${proof.length} hashes; ${size1} -> ${size2} needs ${start + inner + decomposed.border}`);
  }
  const rest = proof.slice(start);
  const mask = (m - 1n) >> BigInt(shift);
  const hash1 = chainBorderRight(chainInnerRight(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!hash1.equals(root1)) proofFail('consistency proof does not lead to the first root');
  const hash2 = chainBorderRight(chainInner(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!hash2.equals(root2)) proofFail('consistency proof does not lead to the second root');
}
