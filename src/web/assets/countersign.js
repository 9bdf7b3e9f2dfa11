// An officer's decision, countersigned here: the current envelope (General JWS) gets one more
// signature entry whose protected header carries the decision, the officer's reason when given
// (`reason`) and the SHA-256 of the enterprise's signature (`sig#S256`), all critical, as
// `chancery countersign` writes it; the envelope goes back through the page's own endpoint
// (session cookie and CSRF token).
//
// The form's fields: `decision` (radios approve | refuse | review) and `reason` (a textarea).
// The reason is signed in the one form every verifier accepts (src/verify/decision-reason.ts):
// what was typed, in NFC, each run of white space (line breaks included) one space, trimmed;
// 1 to data-reason-max characters, no control or bidirectional formatting characters. A refusal
// needs one, a review may have one, an approval takes none (src/submissions/countersign-checks.ts
// REASON_RULE); the server checks all of it again.
import { b64u, fromB64u, loadKey, showError, signEntry } from './lib/keys.js';

const form = document.getElementById('countersign');

/** The reason as it is signed: NFC, one space for each run of white space, trimmed. */
export function normalizeReason(text) {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

const FORBIDDEN = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

/** Marks the reason field as the one in error (message next to it) and shows the error summary linking to it. */
function reasonError(message, title) {
  const group = document.getElementById('reason-group');
  const field = document.getElementById('reason');
  group.classList.add('form-group-error');
  field.classList.add('input-error');
  field.setAttribute('aria-invalid', 'true');
  let inline = document.getElementById('reason-error');
  if (!inline) {
    inline = Object.assign(document.createElement('p'), { id: 'reason-error', className: 'field-error' });
    field.before(inline);
    field.setAttribute('aria-describedby', 'reason-hint reason-error');
  }
  inline.textContent = message;
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

if (form) {
  const d = form.dataset;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const decision = data.get('decision');
    clearReasonError();
    if (!decision) return showError(d.msgNoDecision, d.summaryTitle, 'decision-approve');
    const reason = normalizeReason(String(data.get('reason') ?? ''));
    if (decision === 'refuse' && reason === '') return reasonError(d.msgNoReason, d.summaryTitle);
    if (decision === 'approve' && reason !== '') return reasonError(d.msgReasonWithApproval, d.summaryTitle);
    if (reason !== '' && ([...reason].length > Number(d.reasonMax) || FORBIDDEN.test(reason)))
      return reasonError(d.msgReasonInvalid, d.summaryTitle);
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const record = await loadKey();
      if (!record) throw Object.assign(new Error(d.msgNoKey), { shown: true });
      const envelope = await (await fetch(d.envelopeUrl)).json();
      const general = envelope.signatures
        ? envelope
        : {
            payload: envelope.payload,
            signatures: [
              { protected: envelope.protected, ...(envelope.header ? { header: envelope.header } : {}), signature: envelope.signature },
            ],
          };
      const enterprise = fromB64u(general.signatures[0].signature);
      const header = {
        alg: record.alg,
        x5c: record.chain,
        iat: Math.floor(Date.now() / 1000),
        decision,
        ...(reason === '' ? {} : { reason }),
        'sig#S256': b64u(await crypto.subtle.digest('SHA-256', enterprise)),
        crit: ['decision', 'sig#S256', ...(reason === '' ? [] : ['reason'])],
      };
      general.signatures.push(await signEntry(record, header, general.payload));
      const res = await fetch(d.postUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/jose+json', 'x-csrf-token': d.csrf },
        body: JSON.stringify(general),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        location.assign(`${d.pageUrl}?countersigned=1`);
        return;
      }
      throw Object.assign(new Error(`${res.status === 409 ? d.msgConflict : d.msgFailed} ${body.detail ?? res.status}`), { shown: true });
    } catch (error) {
      button.disabled = false;
      showError(error.shown ? error.message : `${d.msgFailed} ${error.message}`, d.summaryTitle);
    }
  });
}
