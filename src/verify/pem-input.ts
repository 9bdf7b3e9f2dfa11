import { pemDecodeAll } from '../der/pem.js';
import { malformed } from './errors.js';

/** The DER of every `label` block of PEM text (src/der/pem.ts); ERR_VERIFY_MALFORMED when one is not strict base64. */
export function pemBlocks(text: string, label: string): Buffer[] {
  const blocks = pemDecodeAll(text, [label]);
  if (blocks === undefined) throw malformed(`a PEM ${label} block is not valid base64`);
  return blocks;
}
