import type { LogClient } from '../audit/auditor/client.js';
import { proveInclusion, type ProveResult } from '../audit/auditor/prove.js';
import { parseCheckpoint } from '../audit/checkpoint.js';
import { parseNote, type NoteVerifier } from '../audit/note.js';
import { SubmissionError } from './errors.js';
import { subjectOf } from './service.js';
import type { Entry } from '../audit/entry.js';
import { verifyReceipt, type ReceiptPayload, type ReceiptTrust, type VerifiedReceipt } from './receipts.js';

/**
 * A receipt proven end to end (`chancery audit prove --receipt`): its signature and the service
 * seal's certification path (`verifyReceipt`), then its log entry's inclusion in a checkpoint
 * verified with the log key (src/audit's `proveInclusion`, given both the receipt's index and
 * leaf hash), then that the entry says what the receipt says: the same submission, status and
 * time. A receipt whose entry is not yet covered by a checkpoint is waited for (`waitMs`).
 */
export interface ReceiptProof {
  receipt: VerifiedReceipt;
  inclusion: ProveResult;
}

export async function proveReceipt(options: {
  receipt: string;
  trust: ReceiptTrust;
  client: LogClient;
  verifier: NoteVerifier;
  trusted?: { note: string | Uint8Array; label: string };
  /** How long to wait for a checkpoint that covers the receipt's entry, default 10 s. */
  waitMs?: number;
}): Promise<ReceiptProof> {
  const receipt = await verifyReceipt(options.receipt, options.trust);
  const { logIndex, leafHash } = receipt.payload;
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  while (checkpointSize(await options.client.checkpoint()) <= logIndex && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
  }
  const inclusion = await proveInclusion({
    client: options.client,
    verifier: options.verifier,
    target: { index: logIndex, leafHash },
    ...(options.trusted === undefined ? {} : { trusted: options.trusted }),
  });
  const entry = inclusion.entry;
  if (entry === undefined)
    throw new SubmissionError(
      'ERR_SUBMISSION_RECEIPT_INVALID',
      `the receipt does not match its log entry ${logIndex}: the entry could not be read`,
    );
  const mismatch = receiptEntryMismatch(receipt.payload, entry);
  if (mismatch !== undefined)
    throw new SubmissionError('ERR_SUBMISSION_RECEIPT_INVALID', `the receipt does not match its log entry ${logIndex}: ${mismatch}`);
  return { receipt, inclusion };
}

/**
 * Where a receipt's payload disagrees with the log entry of its transition (the same submission,
 * a submission transition, the same status, applicant, document digest and time), or undefined.
 */
export function receiptEntryMismatch(p: ReceiptPayload, entry: Pick<Entry, 'subject' | 'kind' | 'time' | 'data'>): string | undefined {
  if (entry.subject !== subjectOf(p.submission)) return `the entry is about ${entry.subject}, not submission ${p.submission}`;
  if (!entry.kind.startsWith('submission.')) return `the entry is a ${entry.kind}`;
  if (entry.data['status'] !== p.status) return `the entry records status ${String(entry.data['status'])}, the receipt ${p.status}`;
  if (entry.data['applicant'] !== p.applicant) return `the entry's applicant is ${String(entry.data['applicant'])}`;
  if (entry.data['documentSha256'] !== p.documentDigest) return `the entry's document digest is ${String(entry.data['documentSha256'])}`;
  if (entry.time !== p.at) return `the entry's time is ${entry.time}, the receipt's ${p.at}`;
  return undefined;
}

function checkpointSize(note: Buffer): number {
  try {
    return parseCheckpoint(parseNote(note).text).size;
  } catch {
    return Number.MAX_SAFE_INTEGER; // proveInclusion reports the malformed checkpoint
  }
}
