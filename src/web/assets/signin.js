// Sign-in with a certificate, in the browser: the PKCS#12 file is opened here (node-forge), its
// key checked against its certificate and the certificate's validity dates checked, then the
// server's login challenge is signed with WebCrypto. Only the signed challenge leaves the page;
// the private key is kept in this browser (IndexedDB, as a non-extractable CryptoKey) for signing.
import forge from 'node-forge';

const form = document.getElementById('signin-form');
const done = document.getElementById('signin-done');

const OID = {
  ec: '1.2.840.10045.2.1',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  ed25519: '1.3.101.112',
  rsa: '1.2.840.113549.1.1.1',
};

const b64u = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const binary = (bytes) => String.fromCharCode(...new Uint8Array(bytes));
const fromBinary = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A minimal DER reader: tag, content bounds, for walking a certificate. */
function tlv(buf, at) {
  const tag = buf[at];
  let len = buf[at + 1];
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i];
    head += n;
  }
  return { tag, at, start: at + head, end: at + head + len, next: at + head + len };
}
function children(buf, node) {
  const out = [];
  for (let at = node.start; at < node.end;) {
    const c = tlv(buf, at);
    out.push(c);
    at = c.next;
  }
  return out;
}
function oid(buf, node) {
  const b = buf.subarray(node.start, node.end);
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}
function time(buf, node) {
  const s = new TextDecoder().decode(buf.subarray(node.start, node.end));
  const full = node.tag === 0x17 ? (Number(s.slice(0, 2)) >= 50 ? '19' : '20') + s : s;
  return new Date(
    `${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)}T${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)}Z`,
  );
}

/** What the page needs of a certificate: validity, its SPKI and key algorithm. */
export function readCertificate(der) {
  const cert = tlv(der, 0);
  const tbs = children(der, cert)[0];
  let fields = children(der, tbs);
  if (fields[0].tag === 0xa0) fields = fields.slice(1); // version
  const [validity, spki] = [fields[3], fields[5]];
  const [notBefore, notAfter] = children(der, validity).map((t) => time(der, t));
  const algId = children(der, children(der, spki)[0]);
  const keyOid = oid(der, algId[0]);
  const curve = keyOid === OID.ec ? oid(der, algId[1]) : undefined;
  return { notBefore, notAfter, spki: der.slice(spki.at, spki.end), keyOid, curve };
}

function algorithmFor(info) {
  if (info.keyOid === OID.ec && info.curve === OID.p256)
    return { alg: 'ES256', key: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
  if (info.keyOid === OID.ec && info.curve === OID.p384)
    return { alg: 'ES384', key: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } };
  if (info.keyOid === OID.ed25519) return { alg: 'EdDSA', key: { name: 'Ed25519' }, sign: { name: 'Ed25519' } };
  if (info.keyOid === OID.rsa)
    return { alg: 'RS256', key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } };
  return undefined;
}

class PageError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/** Opens the PKCS#12: every certificate (DER) and the PKCS#8 of its key. */
function openPkcs12(bytes, password, msg) {
  let p12;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(binary(bytes)), false, password);
  } catch (error) {
    const text = String(error && error.message);
    if (/password|MAC|decrypt/i.test(text)) throw new PageError('password', msg.wrongPassword);
    throw new PageError('p12', msg.notPkcs12);
  }
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag] ?? []),
  ];
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? [];
  if (keyBags.length !== 1) throw new PageError('p12', msg.noKey);
  const keyAsn1 = keyBags[0].asn1 ?? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyBags[0].key));
  const certs = certBags.map((bag) => fromBinary(forge.asn1.toDer(bag.asn1 ?? forge.pki.certificateToAsn1(bag.cert)).getBytes()));
  if (certs.length === 0) throw new PageError('p12', msg.noCertificate);
  return { pkcs8: fromBinary(forge.asn1.toDer(keyAsn1).getBytes()), certs };
}

function sameKey(a, b) {
  return ['x', 'y', 'n', 'e'].every((k) => a[k] === b[k]);
}

/** The certificate (of those in the file) that the key belongs to, and the key for signing. */
async function matchKey(pkcs8, certs, msg) {
  for (const der of certs) {
    const info = readCertificate(der);
    const algorithm = algorithmFor(info);
    if (algorithm === undefined) continue;
    let priv;
    try {
      priv = await crypto.subtle.importKey('pkcs8', pkcs8, algorithm.key, true, ['sign']);
    } catch {
      continue; // the key is not of this certificate's algorithm
    }
    const pub = await crypto.subtle.importKey('spki', info.spki, algorithm.key, true, ['verify']);
    const [privJwk, pubJwk] = await Promise.all([crypto.subtle.exportKey('jwk', priv), crypto.subtle.exportKey('jwk', pub)]);
    if (!sameKey(privJwk, pubJwk)) continue;
    const key = await crypto.subtle.importKey('pkcs8', pkcs8, algorithm.key, false, ['sign']);
    return { der, info, algorithm, key };
  }
  throw new PageError('p12', msg.keyMismatch);
}

function storeKey(record) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('chancery', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('keys');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('keys', 'readwrite');
      tx.objectStore('keys').put(record, 'signing');
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    };
  });
}

function showErrors(errors, msg) {
  const old = document.querySelector('[data-error-summary]');
  if (old) old.remove();
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('.form-group-error')) el.classList.remove('form-group-error');
  const box = document.createElement('div');
  box.className = 'error-summary';
  box.setAttribute('role', 'alert');
  box.setAttribute('tabindex', '-1');
  box.dataset.errorSummary = '';
  const h = document.createElement('h2');
  h.className = 'error-summary-title';
  h.textContent = msg.summaryTitle;
  const ul = document.createElement('ul');
  ul.className = 'error-summary-list';
  for (const e of errors) {
    const a = Object.assign(document.createElement('a'), { href: `#${e.field}`, textContent: e.message });
    ul.append(Object.assign(document.createElement('li'), {}));
    ul.lastChild.append(a);
    const input = document.getElementById(e.field);
    const group = input?.closest('.form-group');
    if (group) {
      group.classList.add('form-group-error');
      const p = Object.assign(document.createElement('p'), { className: 'field-error', id: `${e.field}-error`, textContent: e.message });
      group.insertBefore(p, input);
      input.setAttribute('aria-describedby', `${e.field}-error`);
    }
  }
  box.append(h, ul);
  document.querySelector('main h1').before(box);
  box.focus();
}

if (form && done) {
  const msg = { ...form.dataset };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = document.getElementById('p12').files[0];
    const password = document.getElementById('password').value;
    const errors = [];
    if (!file) errors.push({ field: 'p12', message: msg.noFile });
    if (password === '') errors.push({ field: 'password', message: msg.noPassword });
    if (errors.length > 0) return showErrors(errors, msg);
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const { pkcs8, certs } = openPkcs12(new Uint8Array(await file.arrayBuffer()), password, msg);
      const { der, info, algorithm, key } = await matchKey(pkcs8, certs, msg);
      const now = new Date();
      if (now > info.notAfter) throw new PageError('p12', msg.expired.replace('{date}', info.notAfter.toISOString().slice(0, 10)));
      if (now < info.notBefore) throw new PageError('p12', msg.notYetValid.replace('{date}', info.notBefore.toISOString().slice(0, 10)));
      const chain = [der, ...certs.filter((c) => c !== der)];
      const challenge = await (await fetch('/api/v1/auth/challenge')).json();
      const header = { alg: algorithm.alg, x5c: chain.map(b64) };
      const enc = new TextEncoder();
      const input = `${b64u(enc.encode(JSON.stringify(header)))}.${b64u(enc.encode(JSON.stringify({ nonce: challenge.nonce })))}`;
      const signature = await crypto.subtle.sign(algorithm.sign, key, enc.encode(input));
      const res = await fetch('/api/v1/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jws: `${input}.${b64u(signature)}` }),
      });
      if (!res.ok) {
        const problem = await res.json().catch(() => ({}));
        const revoked = problem.subIndication === 'REVOKED' || /revoked/i.test(problem.detail ?? '');
        throw new PageError('p12', revoked ? msg.revoked : `${msg.refused} ${problem.detail ?? res.status}`);
      }
      const { token } = await res.json();
      await storeKey({ key, alg: algorithm.alg, sign: algorithm.sign, chain: chain.map(b64) }).catch(() => undefined);
      done.querySelector('input[name=token]').value = token;
      done.submit();
    } catch (error) {
      button.disabled = false;
      if (error instanceof PageError) showErrors([{ field: error.field, message: error.message }], msg);
      else showErrors([{ field: 'p12', message: `${msg.refused} ${error?.message ?? error}` }], msg);
    }
  });
}
