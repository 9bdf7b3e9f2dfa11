import { utf8String } from '../der/strings.js';
import { oid, sequence } from '../der/writer.js';
import { OID } from '../oids.js';
import { COMMITMENT_OF_DECISION, type Decision } from '../verify/cms-attributes.js';
import { checkReason } from './reason.js';

/**
 * The commitment-type-indication value of an officer's decision (ETSI EN 319 122-1 §5.2.3), with
 * the reason, when given, as its one qualifier (commitmentReason, a UTF8String; read back by
 * src/verify/cms-attributes.ts readCommitment). No node:crypto here: the browser's CMS
 * countersignature (src/web/assets/lib/cms-countersign.ts) builds the same bytes with it.
 * MUST be given a reason in the signed form (decision-reason.ts), else it throws INVALID_INPUT.
 */
export function commitmentTypeIndication(decision: Decision, reason: string | undefined): Uint8Array {
  const type = oid(COMMITMENT_OF_DECISION[decision]);
  if (reason === undefined) return sequence(type);
  checkReason(reason);
  return sequence(type, sequence(sequence(oid(OID.commitmentReason), utf8String(reason))));
}
