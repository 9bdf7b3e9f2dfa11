// The log explorer's own checks, in the browser, trusting nothing the page says but the key:
// SHA-256 of the entry gives the leaf hash (RFC 6962 §2.1: 0x00 prefix), the inclusion proof
// leads from it to the checkpoint's root (RFC 9162 §2.1.3.2), and the checkpoint's Ed25519
// signature (C2SP signed-note) verifies with the pinned log key, or the served one when none is
// pinned. Ed25519 needs WebCrypto support for it; without it the page says what was not checked.

const PIN = 'chancery.log.vkey';
const enc = new TextEncoder();

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}
function fromHex(text) {
  if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error('not hex');
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
function fromBase64(text) {
  const bin = atob(text);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
async function sha256(...parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    buf.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}
const leafHash = (entry) => sha256(Uint8Array.of(0), entry);
const nodeHash = (l, r) => sha256(Uint8Array.of(1), l, r);

/** RFC 9162 §2.1.3.2: the root the proof of leaf `index` in a tree of `size` leads to. */
export async function rootFromProof(index, size, leaf, proof) {
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (fn > sn) throw new Error('index beyond the tree');
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw new Error('the proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Error('the proof is too short');
  return r;
}

/** Parses `<name>+<hex id>+<base64(0x01 ‖ key)>`. */
function parseVkey(vkey) {
  // The base64 key may itself contain '+': only the first two separate the fields.
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  if (first < 0 || second < 0) throw new Error('not a verifier key');
  const name = vkey.slice(0, first);
  const id = vkey.slice(first + 1, second);
  const raw = fromBase64(vkey.slice(second + 1));
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('not an Ed25519 verifier key');
  return { name, id: id.toLowerCase(), key: raw.subarray(1) };
}

/** The checkpoint's text, its root, and the signature by `name` with key ID `id`. */
function parseNote(note, name, id) {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new Error('the checkpoint has no signature');
  const text = note.slice(0, split + 1);
  const lines = text.split('\n');
  const root = fromBase64(lines[2]);
  const size = Number(lines[1]);
  for (const line of note.slice(split + 2).split('\n')) {
    if (!line.startsWith('\u2014 ')) continue;
    const [signer, blob] = line.slice(2).split(' ');
    if (signer !== name) continue;
    const bytes = fromBase64(blob);
    if (hex(bytes.subarray(0, 4)) !== id) continue;
    return { text, origin: lines[0], size, root, signature: bytes.subarray(4) };
  }
  throw new Error('the checkpoint carries no signature by the log key');
}

async function ed25519Verify(key, signature, message) {
  let publicKey;
  try {
    publicKey = await crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
  } catch {
    return undefined; // no Ed25519 in this browser's WebCrypto
  }
  return crypto.subtle.verify({ name: 'Ed25519' }, publicKey, signature, message);
}

function pinned() {
  try {
    return localStorage.getItem(PIN);
  } catch {
    return null;
  }
}

function setupPinning() {
  const section = document.querySelector('[data-log-key]');
  const button = document.getElementById('pin-key');
  const state = document.getElementById('pin-state');
  if (!section || !button || !state) return;
  const served = section.dataset.vkey;
  const show = () => {
    const p = pinned();
    if (p === null) state.textContent = '';
    else state.textContent = p === served ? section.dataset.msgPinned : section.dataset.msgPinDiffers;
    state.dataset.pin = p === null ? 'none' : p === served ? 'matches' : 'differs';
  };
  button.addEventListener('click', () => {
    try {
      localStorage.setItem(PIN, served);
    } catch {
      /* storage refused: nothing pinned */
    }
    show();
  });
  show();
}

async function checkInclusion() {
  const el = document.getElementById('inclusion-check');
  const out = document.getElementById('browser-check');
  if (!el || !out) return;
  const d = el.dataset;
  const p = pinned();
  const vkeyText = p ?? d.vkey;
  const say = (result, message) => {
    out.dataset.result = result;
    out.className = `status-result status-${result}`;
    out.replaceChildren(Object.assign(document.createElement('p'), { textContent: message }));
  };
  try {
    const vkey = parseVkey(vkeyText);
    const note = parseNote(d.checkpoint, vkey.name, vkey.id);
    const size = Number(d.treeSize);
    if (note.size !== size) throw new Error(`the proof is for ${size} entries, the checkpoint has ${note.size}`);
    const leaf = await leafHash(enc.encode(d.entry));
    if (hex(leaf) !== d.leafHash) throw new Error('the entry does not hash to its leaf hash');
    const proof = d.proof === '' ? [] : d.proof.split(',').map(fromHex);
    const root = await rootFromProof(Number(d.index), size, leaf, proof);
    if (hex(root) !== hex(note.root)) throw new Error(`the proof leads to ${hex(root)}, the checkpoint's root is ${hex(note.root)}`);
    const signed = await ed25519Verify(vkey.key, note.signature, enc.encode(note.text));
    const against = p === null ? d.msgServed : d.msgPinned;
    if (signed === undefined) say('partial', `${d.msgNoEd25519} ${against}`);
    else if (!signed) throw new Error('the checkpoint signature does not verify with the log key');
    else say('verified', `${d.msgVerified} ${against}`);
  } catch (error) {
    say('failed', `${d.msgFailed} ${error instanceof Error ? error.message : String(error)}`);
  }
}

setupPinning();
void checkInclusion();
