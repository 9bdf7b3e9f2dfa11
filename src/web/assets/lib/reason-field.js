// The review form's `reason` field, for both countersigning scripts (countersign.js for JWS,
// countersign-cms.js for CMS). The reason is signed in the one form every verifier accepts, with
// the same code the server checks it with (src/verify/decision-reason.ts, bundled): what was
// typed, in NFC, each run of white space (line breaks included) one space, trimmed; 1 to 500
// characters, no control or bidirectional formatting characters. A refusal needs one, a review
// may have one, an approval takes none (REASON_RULE in src/submissions/countersign-checks.ts).
import { normalizeReason, reasonProblem } from '../../../verify/decision-reason.js';
import { showError } from './keys.js';

/**
 * The reason to sign for `decision` from the form's fields: `{ reason }` (undefined when none was
 * given), or `{ error }` with the form's message when the field is in error. Clears an earlier
 * error first.
 */
export function readReason(form, fields, decision) {
  clearReasonError();
  const d = form.dataset;
  const reason = normalizeReason(String(fields.get('reason') ?? ''));
  if (decision === 'refuse' && reason === '') return { error: d.msgNoReason };
  if (decision === 'approve' && reason !== '') return { error: d.msgReasonWithApproval };
  if (reason === '') return { reason: undefined };
  if (reasonProblem(reason) !== undefined) return { error: d.msgReasonInvalid };
  return { reason };
}

/** Marks the reason field as the one in error (the message next to it) and shows the error summary linking to it. */
export function showReasonError(message, title) {
  const group = document.getElementById('reason-group');
  const field = document.getElementById('reason');
  group.classList.add('form-group-error');
  field.classList.add('input-error');
  field.setAttribute('aria-invalid', 'true');
  const inline = Object.assign(document.createElement('p'), { id: 'reason-error', className: 'field-error', textContent: message });
  field.before(inline);
  field.setAttribute('aria-describedby', 'reason-hint reason-error');
  showError(message, title, 'reason');
}

function clearReasonError() {
  document.getElementById('reason-group')?.classList.remove('form-group-error');
  const field = document.getElementById('reason');
  field?.classList.remove('input-error');
  field?.removeAttribute('aria-invalid');
  field?.setAttribute('aria-describedby', 'reason-hint');
  document.getElementById('reason-error')?.remove();
}
