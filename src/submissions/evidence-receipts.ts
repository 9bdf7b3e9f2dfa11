import { sha256Hex } from '../crypto/digest.js';
import { ChanceryError } from '../errors.js';
import type { OpenedEvidence } from './evidence.js';
import { SubmissionError } from './errors.js';
import { receiptEntryMismatch } from './receipt-proof.js';
import { verifyReceipt, type ReceiptTrust } from './receipts.js';

/**
 * The receipts of an opened evidence container, verified: each one's ES256 signature and its
 * service seal's certification path to the caller's trust anchors (`verifyReceipt`, at the
 * receipt's time, which the log entry proven into the checkpoint dates), and that it is the
 * receipt of the transition it sits beside: the index and leaf hash of the proven entry, and the
 * entry's submission, status, applicant, document digest and time; and that the document it
 * names is the container's. A receipt that is altered, signed by another seal, or belongs to
 * another transition or submission MUST make this throw ERR_SUBMISSION_EVIDENCE_INVALID, naming
 * the receipt and the reason.
 */
export interface VerifiedEvidenceReceipt {
  logIndex: number;
  status: string;
  at: string;
  /** The seal certificate that signed it. */
  seal: string;
}

export async function verifyEvidenceReceipts(
  opened: Pick<OpenedEvidence, 'receipts' | 'document'>,
  trust: Omit<ReceiptTrust, 'time'>,
): Promise<VerifiedEvidenceReceipt[]> {
  const documentDigest = sha256Hex(opened.document);
  const out: VerifiedEvidenceReceipt[] = [];
  for (const r of opened.receipts) {
    const name = `META-INF/receipts/${r.logIndex}.jws`;
    let verified: Awaited<ReturnType<typeof verifyReceipt>>;
    try {
      verified = await verifyReceipt(r.receipt, trust);
    } catch (error) {
      if (!(error instanceof ChanceryError) || error.code !== 'ERR_SUBMISSION_RECEIPT_INVALID') throw error;
      throw bad(`${name}: ${error.message}`);
    }
    const p = verified.payload;
    if (p.logIndex !== r.logIndex) throw bad(`${name} is the receipt of log entry ${p.logIndex}, not ${r.logIndex}`);
    if (p.leafHash !== r.leafHash) throw bad(`${name} names leaf hash ${p.leafHash}, not that of the entry proven at ${r.logIndex}`);
    const mismatch = receiptEntryMismatch(p, r.entry);
    if (mismatch !== undefined) throw bad(`${name} does not match its log entry: ${mismatch}`);
    if (p.documentDigest !== documentDigest) throw bad(`${name} is about another document`);
    out.push({ logIndex: r.logIndex, status: p.status, at: p.at, seal: verified.seal.describe() });
  }
  return out;
}

function bad(message: string): SubmissionError {
  return new SubmissionError('ERR_SUBMISSION_EVIDENCE_INVALID', message);
}
