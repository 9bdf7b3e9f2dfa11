// An officer's decision on an application submitted as CMS, countersigned here: the current
// envelope (DER) gets a countersignature on the enterprise's SignerInfo (RFC 5652 §11.4), built
// by the project's own DER code exactly as `chancery countersign` builds it, signed with the key
// kept since sign-in (WebCrypto; ECDSA's r ‖ s turned into DER). The envelope goes back as
// application/cms through the page's own endpoint (session cookie and CSRF token). The key never
// leaves this browser.
import { countersignCmsEnvelope, webCryptoSigning } from './lib/cms-countersign.js';
import { fromB64u, loadKey, showError } from './lib/keys.js';
import { readReason, showReasonError } from './lib/reason-field.js';

const form = document.getElementById('countersign');

if (form) {
  const d = form.dataset;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    const decision = fields.get('decision');
    if (!decision) return showError(d.msgNoDecision, d.summaryTitle, 'decision-approve');
    // The reason is signed as the commitment's qualifier, as `chancery countersign --reason` does.
    const { reason, error } = readReason(form, fields, decision);
    if (error !== undefined) return showReasonError(error, d.summaryTitle);
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const record = await loadKey();
      if (!record) throw Object.assign(new Error(d.msgNoKey), { shown: true });
      const fetched = await fetch(d.envelopeUrl);
      if (!fetched.ok) throw new Error(String(fetched.status));
      const envelope = new Uint8Array(await fetched.arrayBuffer());
      const countersigned = await countersignCmsEnvelope(envelope, {
        algorithm: record.alg,
        chain: record.chain.map(fromB64u),
        decision,
        reason,
        time: new Date(),
        ...webCryptoSigning(crypto.subtle, record),
      });
      const res = await fetch(d.postUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/cms', 'x-csrf-token': d.csrf },
        body: countersigned,
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
