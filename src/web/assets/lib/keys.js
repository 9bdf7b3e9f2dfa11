// The signing key this browser keeps after sign-in (IndexedDB, a non-extractable CryptoKey with
// its algorithm and certificate chain), JWS helpers, and the error summary the pages share.

export const enc = new TextEncoder();

export function b64u(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromB64u(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

export function loadKey() {
  return new Promise((resolve) => {
    let open;
    try {
      open = indexedDB.open('chancery', 1);
    } catch {
      resolve(undefined);
      return;
    }
    open.onupgradeneeded = () => open.result.createObjectStore('keys');
    open.onerror = () => resolve(undefined);
    open.onsuccess = () => {
      const req = open.result.transaction('keys', 'readonly').objectStore('keys').get('signing');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(undefined);
    };
  });
}

/** One JWS signature entry over `payloadB64` with `header` protected. */
export async function signEntry(record, header, payloadB64) {
  const protectedB64 = b64u(enc.encode(JSON.stringify(header)));
  const signature = await crypto.subtle.sign(record.sign, record.key, enc.encode(`${protectedB64}.${payloadB64}`));
  return { protected: protectedB64, signature: b64u(signature) };
}

export function showError(message, title, field = 'main') {
  const old = document.querySelector('[data-error-summary]');
  if (old) old.remove();
  const box = document.createElement('div');
  box.className = 'error-summary';
  box.setAttribute('role', 'alert');
  box.setAttribute('tabindex', '-1');
  box.dataset.errorSummary = '';
  const h = Object.assign(document.createElement('h2'), { className: 'error-summary-title', textContent: title });
  const ul = Object.assign(document.createElement('ul'), { className: 'error-summary-list' });
  const li = document.createElement('li');
  li.append(Object.assign(document.createElement('a'), { href: `#${field}`, textContent: message }));
  ul.append(li);
  box.append(h, ul);
  document.querySelector('main h1').before(box);
  box.focus();
}
