import type { Entry } from '../entry.js';
import type { JsonValue } from '../types.js';

/**
 * The state the log alone says the service is in: every submission's status, transitions and
 * approval steps, every certificate's revocation, every enterprise's status. Built from verified
 * entries only (the auditor side): nothing the service serves goes into it.
 */

export interface LoggedTransition {
  index: number;
  kind: string;
  status: string;
}

export interface LoggedStep {
  step: number;
  officer: string;
  certificateSerial: string;
  decision: string;
  /** The officer's signed reason, when the decision carried one. */
  reason?: string | undefined;
  index: number;
}

export interface LoggedSubmission {
  id: string;
  status: string;
  /** Index of the latest entry about it: the one that says what its status is. */
  index: number;
  transitions: LoggedTransition[];
  steps: Map<number, LoggedStep>;
}

export interface LoggedCertificate {
  serial: string;
  issuedIndex: number;
  certificateSha256: string | undefined;
  revoked: { at: string; reason: string; index: number } | undefined;
}

export interface LoggedEnterprise {
  uscc: string;
  status: 'active' | 'revoked' | 'deregistered';
  index: number;
}

/** Status each submission kind leaves a submission in, when the entry does not say (older entries). */
const STATUS_OF_KIND: Record<string, string> = {
  'submission.rejected': 'rejected',
  'submission.accepted': 'accepted',
  'submission.pending': 'pending',
  'submission.countersigned': 'pending',
  'submission.approved': 'approved',
  'submission.refused': 'refused',
};

const str = (v: JsonValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

export class ReplayState {
  readonly submissions = new Map<string, LoggedSubmission>();
  readonly certificates = new Map<string, LoggedCertificate>();
  readonly enterprises = new Map<string, LoggedEnterprise>();
  /** Entries about these kinds of subject whose data the replay could not read (index, why). */
  readonly unreadable: Array<{ index: number; why: string }> = [];

  /** Takes one verified entry, in log order. */
  ingest(entry: Entry): void {
    const { kind, subject, data, seq: index } = entry;
    if (kind.startsWith('submission.')) {
      const id = str(data['submission']) ?? (subject.startsWith('submission:') ? subject.slice('submission:'.length) : undefined);
      const status = str(data['status']) ?? STATUS_OF_KIND[kind];
      if (id === undefined || status === undefined) return this.#bad(index, `${kind} without a submission id or status`);
      let s = this.submissions.get(id);
      if (s === undefined) this.submissions.set(id, (s = { id, status, index, transitions: [], steps: new Map() }));
      s.status = status;
      s.index = index;
      s.transitions.push({ index, kind, status });
      if (kind === 'submission.countersigned' || kind === 'submission.approved' || kind === 'submission.refused') {
        const step = data['step'];
        if (typeof step === 'number') {
          s.steps.set(step, {
            step,
            officer: str(data['officer']) ?? '',
            certificateSerial: str(data['certificateSerial']) ?? '',
            decision: str(data['decision']) ?? '',
            reason: str(data['reason']),
            index,
          });
        }
      }
      return;
    }
    if (kind === 'certificate.issued' || kind === 'certificate.revoked') {
      const serial = str(data['serial'])?.toLowerCase();
      if (serial === undefined) return this.#bad(index, `${kind} without a serial`);
      let c = this.certificates.get(serial);
      if (kind === 'certificate.issued') {
        if (c === undefined)
          this.certificates.set(serial, {
            serial,
            issuedIndex: index,
            certificateSha256: str(data['certificateSha256']),
            revoked: undefined,
          });
        return;
      }
      if (c === undefined)
        this.certificates.set(serial, (c = { serial, issuedIndex: -1, certificateSha256: undefined, revoked: undefined }));
      c.revoked ??= { at: str(data['revokedAt']) ?? '', reason: str(data['reason']) ?? '', index };
      return;
    }
    if (kind === 'enterprise.registered' || kind === 'enterprise.revoked' || kind === 'enterprise.deregistered') {
      const uscc = str(data['uscc']) ?? (subject.startsWith('enterprise:') ? subject.slice('enterprise:'.length) : undefined);
      if (uscc === undefined) return this.#bad(index, `${kind} without a USCC`);
      const status = kind === 'enterprise.registered' ? 'active' : kind === 'enterprise.revoked' ? 'revoked' : 'deregistered';
      this.enterprises.set(uscc, { uscc, status, index });
    }
  }

  #bad(index: number, why: string): void {
    this.unreadable.push({ index, why });
  }
}
