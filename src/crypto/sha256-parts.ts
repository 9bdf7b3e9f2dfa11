import { createHash, type Hash } from 'node:crypto';

/** SHA-256 over the concatenation of `parts`, without building the concatenation. */
export function sha256Parts(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** An incremental SHA-256 (for streaming large inputs). */
export interface Sha256Stream {
  update(data: Uint8Array): void;
  digest(): Buffer;
}

export function sha256Stream(): Sha256Stream {
  const hash: Hash = createHash('sha256');
  return {
    update: (data) => {
      hash.update(data);
    },
    digest: () => hash.digest(),
  };
}
