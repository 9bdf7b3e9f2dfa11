import { isIP } from 'node:net';
import type { Certificate } from '../certificate.js';
import { validDnsName, validMailbox } from './name-constraints.js';

/**
 * Matches an expected peer name against the leaf's subjectAltName (RFC 9525 §6.3 for DNS and
 * IP; exact mailbox for email). The subject CN is never consulted (RFC 9525 §6.4.4 lets a client
 * refuse it; Chancery does). DNS matching is case-insensitive; a SAN wildcard may only be the
 * whole left-most label and matches exactly one label.
 */
export function matchPeerName(leaf: Certificate, peerName: string): string | undefined {
  const san = leaf.subjectAltName ?? [];
  const ipKind = isIP(peerName);
  if (ipKind !== 0) {
    const want = ipBytes(peerName, ipKind);
    for (const n of san) if (n.type === 'ip' && want !== undefined && n.bytes.equals(want)) return undefined;
    return `the certificate has no IP address subjectAltName equal to ${peerName}`;
  }
  if (peerName.includes('@')) {
    if (!validMailbox(peerName)) return `the expected peer name ${peerName} is not a valid mailbox`;
    const at = peerName.lastIndexOf('@');
    const local = peerName.slice(0, at);
    const host = peerName.slice(at + 1).toLowerCase();
    for (const n of san) {
      if (n.type !== 'rfc822' || !validMailbox(n.value)) continue;
      const nat = n.value.lastIndexOf('@');
      if (n.value.slice(0, nat) === local && n.value.slice(nat + 1).toLowerCase() === host) return undefined;
    }
    return `the certificate has no email subjectAltName equal to ${peerName}`;
  }
  const want = peerName.toLowerCase();
  if (!validDnsName(want, false)) return `the expected peer name ${peerName} is not a valid DNS name`;
  for (const n of san) {
    if (n.type !== 'dns' || !validDnsName(n.value, true)) continue;
    const v = n.value.toLowerCase();
    if (v === want) return undefined;
    if (v.startsWith('*.')) {
      const dot = want.indexOf('.');
      if (dot > 0 && want.slice(dot + 1) === v.slice(2)) return undefined;
    }
  }
  return `the certificate has no DNS subjectAltName matching ${peerName}`;
}

function ipBytes(text: string, kind: number): Buffer | undefined {
  if (kind === 4) return Buffer.from(text.split('.').map(Number));
  // Expand IPv6 (with an optional embedded IPv4 tail) to 16 octets.
  let head = text;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    tail = v4[1]!.split('.').map(Number);
    head = text.slice(0, -v4[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groupsNeeded = 8 - tail.length / 2;
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const l = left === '' || left === undefined ? [] : left.split(':');
  const r = right === undefined || right === '' ? [] : right.split(':');
  const fill = right === undefined ? 0 : groupsNeeded - l.length - r.length;
  const groups = [...l, ...Array<string>(fill).fill('0'), ...r];
  if (groups.length !== groupsNeeded) return undefined;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  tail.forEach((b, i) => (out[12 + i] = b));
  return out;
}
