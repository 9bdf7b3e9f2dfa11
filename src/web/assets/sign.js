// Check your answers → sign and submit: the document shown on the page (its exact bytes) is
// signed here as a General JWS with the key kept since sign-in (`alg`, `x5c`, `iat` protected,
// as `chancery sign --format jws` does), and submitted to the API. The key never leaves.
import { b64u, enc, loadKey, showError, signEntry } from './lib/keys.js';

const box = document.getElementById('sign');
const button = document.getElementById('sign-submit');

if (box && button) {
  const d = box.dataset;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const record = await loadKey();
      if (!record) throw Object.assign(new Error(d.msgNoKey), { shown: true });
      const payload = b64u(enc.encode(d.document));
      const header = { alg: record.alg, x5c: record.chain, iat: Math.floor(Date.now() / 1000) };
      const jws = { payload, signatures: [await signEntry(record, header, payload)] };
      const res = await fetch('/api/v1/submissions', {
        method: 'POST',
        headers: { 'content-type': 'application/jose+json' },
        body: JSON.stringify(jws),
      });
      const body = await res.json().catch(() => ({}));
      if (res.status === 201 || res.status === 200) {
        location.assign(`/applications/${encodeURIComponent(body.id)}?submitted=1`);
        return;
      }
      throw Object.assign(new Error(`${res.status === 422 ? d.msgRejected : d.msgFailed} ${body.detail ?? res.status}`), { shown: true });
    } catch (error) {
      button.disabled = false;
      showError(error.shown ? error.message : `${d.msgFailed} ${error.message}`, d.summaryTitle);
    }
  });
}
