// An officer's decision, countersigned here: the current envelope (General JWS) gets one more
// signature entry whose protected header carries the decision and the SHA-256 of the
// enterprise's signature (`sig#S256`, both critical), as `chancery countersign` writes it;
// the envelope goes back through the page's own endpoint (session cookie and CSRF token).
import { b64u, fromB64u, loadKey, showError, signEntry } from './lib/keys.js';

const form = document.getElementById('countersign');

if (form) {
  const d = form.dataset;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const decision = new FormData(form).get('decision');
    if (!decision) return showError(d.msgNoDecision, d.summaryTitle, 'decision-approve');
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
        'sig#S256': b64u(await crypto.subtle.digest('SHA-256', enterprise)),
        crit: ['decision', 'sig#S256'],
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
