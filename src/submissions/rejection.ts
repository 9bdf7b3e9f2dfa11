import type { Check } from '../verify/report.js';
import type { ValidationReport } from '../verify/validation-report.js';
import type { SubmissionErrorCode } from './errors.js';

/**
 * Why a submission is rejected, as a stable code and one sentence. The validation report stays the
 * full answer; the code names the first rule that decided, in this order: the document's type
 * and schema, who signed (an enterprise, the applicant), revocation, then anything else.
 */
export interface Rejection {
  code: SubmissionErrorCode;
  reason: string;
}

const MAX_REASON = 500;

/** The rejection a validation report calls for, or undefined when it passed. */
export function rejectionOfReport(report: ValidationReport): Rejection | undefined {
  const envelopeCheck = (id: string): Check | undefined => report.checks.find((c) => c.id === id && c.result !== 'PASSED');
  const unknownType = envelopeCheck('policy.select');
  if (unknownType !== undefined && unknownType.subIndication === 'POLICY_FAILURE')
    return reject('ERR_SUBMISSION_UNKNOWN_TYPE', unknownType.message);
  const documentFault = envelopeCheck('document.json') ?? envelopeCheck('policy.document-type') ?? envelopeCheck('policy.document-schema');
  if (documentFault !== undefined) return reject('ERR_SUBMISSION_DOCUMENT_INVALID', documentFault.message);

  const signer = report.signatures[0];
  if (signer !== undefined && signer.signer !== null && (signer.signer.officer !== null || signer.signer.organizationIdentifier === null)) {
    return reject(
      'ERR_SUBMISSION_SIGNER_NOT_ENTERPRISE',
      `the application is signed by ${signer.signer.subject}${signer.signer.officer === null ? '' : ` (an officer certificate, ${signer.signer.officer.role} of ${signer.signer.officer.jurisdiction})`}, not with an enterprise signing certificate`,
    );
  }
  const binding = signer?.checks.find((c) => c.id === 'policy.applicant-binding' && c.result === 'FAILED');
  if (binding !== undefined) return reject('ERR_SUBMISSION_APPLICANT_MISMATCH', binding.message);
  if (signer?.subIndication === 'REVOKED') {
    const revoked = signer.checks.find((c) => c.subIndication === 'REVOKED');
    return reject('ERR_SUBMISSION_CERTIFICATE_REVOKED', revoked?.message ?? 'the signer certificate is revoked');
  }
  if (report.indication !== 'TOTAL_PASSED') {
    const first = [...report.checks, ...report.signatures.flatMap((s) => s.checks)].find((c) => c.result !== 'PASSED');
    return reject(
      'ERR_SUBMISSION_SIGNATURE_INVALID',
      `${report.indication}${report.subIndication === undefined ? '' : `/${report.subIndication}`}: ${first?.message ?? 'the envelope does not validate'}`,
    );
  }
  if (report.signatures.length > 1) {
    return reject(
      'ERR_SUBMISSION_PRECOUNTERSIGNED',
      `a new application carries ${report.signatures.length - 1} countersignature(s); officers countersign after submission`,
    );
  }
  return undefined;
}

export function reject(code: SubmissionErrorCode, reason: string): Rejection {
  return { code, reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason };
}
