import type { Certificate } from '../certificate.js';
import type { GeneralSubtree, NameConstraints } from '../certificate-types.js';
import { describeGeneralName, EMAIL_ADDRESS_OID, formatIp, type GeneralName } from '../name.js';

/**
 * Name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b)(c), §6.1.4 (g)). The state keeps every
 * permittedSubtrees list seen so far, unmerged: a name is permitted when, for each list that
 * constrains its name form, it lies in one of that list's subtrees (this is exactly the
 * intersection RFC 5280 asks for, without computing it). Excluded subtrees are a union.
 *
 * Names we cannot place (otherName, x400Address, ediPartyName, registeredID, URIs without a
 * host) are refused when any constraint of their form applies, as §4.2.1.10 requires. Work is
 * bounded: more than MAX_COMPARISONS name/constraint comparisons on one path is a refusal
 * (pathological certificates with thousands of names and constraints).
 */

export const MAX_COMPARISONS = 1 << 18;

export interface NameConstraintState {
  /** One entry per CA (or trust anchor) that had permittedSubtrees. */
  permitted: GeneralSubtree[][];
  excluded: GeneralSubtree[];
  comparisons: number;
}

export function initialNameConstraints(): NameConstraintState {
  return { permitted: [], excluded: [], comparisons: 0 };
}

/** Adds a CA's constraints (§6.1.4 (g)); returns a refusal when a constraint is malformed. */
export function addNameConstraints(state: NameConstraintState, nc: NameConstraints): string | undefined {
  for (const list of [nc.permitted ?? [], nc.excluded ?? []]) {
    for (const subtree of list) {
      const bad = constraintSyntaxProblem(subtree.base);
      if (bad !== undefined) return bad;
    }
  }
  if (nc.permitted !== undefined) state.permitted.push(nc.permitted);
  // One by one: a certificate of a few MB can carry more subtrees than a call takes arguments.
  for (const subtree of nc.excluded ?? []) state.excluded.push(subtree);
  return undefined;
}

/** Checks a certificate's subject and subjectAltName against the state; a sentence when refused. */
export function checkNames(state: NameConstraintState, cert: Certificate): string | undefined {
  if (state.permitted.length === 0 && state.excluded.length === 0) return undefined;
  const names: GeneralName[] = [];
  if (!cert.subject.isEmpty) names.push({ type: 'directory', name: cert.subject });
  if (cert.subjectAltName !== undefined) for (const name of cert.subjectAltName) names.push(name);
  else {
    // §4.2.1.10: without a subjectAltName, rfc822Name constraints apply to emailAddress attributes.
    for (const email of cert.subject.attribute(EMAIL_ADDRESS_OID)) names.push({ type: 'rfc822', value: email });
  }
  for (const name of names) {
    const refusal = checkName(state, name);
    if (refusal !== undefined) return refusal;
    if (state.comparisons > MAX_COMPARISONS) {
      return `checking the names against the name constraints needs more than ${MAX_COMPARISONS} comparisons; refused as a denial-of-service guard`;
    }
  }
  return undefined;
}

function checkName(state: NameConstraintState, name: GeneralName): string | undefined {
  const form = name.type;
  const constrained = state.excluded.some((s) => s.base.type === form) || state.permitted.some((l) => l.some((s) => s.base.type === form));
  if (!constrained) return undefined;
  if (form === 'otherName' || form === 'x400' || form === 'edi' || form === 'registeredId') {
    return `the name ${describeGeneralName(name)} is of a form whose name constraints Chancery does not process (RFC 5280 §4.2.1.10: such a certificate must be refused)`;
  }
  const syntax = nameSyntaxProblem(name);
  if (syntax !== undefined) return `the name ${describeGeneralName(name)} cannot be placed in the constrained name space: ${syntax}`;
  for (const subtree of state.excluded) {
    if (subtree.base.type !== form) continue;
    state.comparisons++;
    if (mayMatch(subtree.base, name))
      return `the name ${describeGeneralName(name)} is inside the excluded subtree ${describeGeneralName(subtree.base)}`;
  }
  for (const list of state.permitted) {
    let relevant = false;
    let inside = false;
    for (const subtree of list) {
      if (subtree.base.type !== form) continue;
      relevant = true;
      state.comparisons++;
      if (within(subtree.base, name)) {
        inside = true;
        break;
      }
    }
    if (relevant && !inside) {
      const bases = list.filter((s) => s.base.type === form).map((s) => describeGeneralName(s.base));
      return `the name ${describeGeneralName(name)} is outside the permitted subtrees (${bases.slice(0, 5).join(', ')}${bases.length > 5 ? ', …' : ''})`;
    }
  }
  return undefined;
}

/** True when every name `name` can stand for lies within `base` (for permitted subtrees). */
function within(base: GeneralName, name: GeneralName): boolean {
  switch (name.type) {
    case 'dns': {
      const b = (base as { value: string }).value.toLowerCase();
      const n = name.value.toLowerCase();
      // A wildcard SAN *.X stands for every one-label extension of X; all of them lie within B
      // exactly when X does (CVE-2025-61727: judge a pattern by every name it can match).
      if (n.startsWith('*.')) return dnsWithin(b, n.slice(2));
      return dnsWithin(b, n);
    }
    case 'rfc822':
      return emailWithin((base as { value: string }).value, name.value);
    case 'uri': {
      const host = uriHost(name.value);
      return host !== undefined && uriHostWithin((base as { value: string }).value, host);
    }
    case 'ip':
      return ipWithin((base as { bytes: Buffer }).bytes, name.bytes);
    case 'directory':
      return name.name.hasPrefix((base as { name: typeof name.name }).name);
    default:
      return false;
  }
}

/** True when some name `name` can stand for lies within `base` (for excluded subtrees). */
function mayMatch(base: GeneralName, name: GeneralName): boolean {
  if (name.type === 'dns' && name.value.startsWith('*.')) {
    const b = (base as { value: string }).value.toLowerCase();
    const x = name.value.slice(2).toLowerCase();
    // Some label.X lies within B when X lies within B, or when B itself is one label under X.
    if (dnsWithin(b, x)) return true;
    const dot = b.indexOf('.');
    return dot > 0 && b.slice(dot + 1) === x;
  }
  return within(base, name);
}

/** RFC 5280 §4.2.1.10: a DNS name is within B when it is B with zero or more labels added on the left. */
function dnsWithin(base: string, name: string): boolean {
  if (base === '') return true;
  return name === base || name.endsWith(`.${base}`);
}

/**
 * rfc822Name constraints: "local@host" is one mailbox, "host" every mailbox at that host,
 * ".host" every mailbox in a subdomain of host. Host parts compare case-insensitively, local parts
 * exactly.
 */
function emailWithin(base: string, email: string): boolean {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const host = email.slice(at + 1).toLowerCase();
  if (base.includes('@')) {
    const bat = base.lastIndexOf('@');
    return base.slice(0, bat) === local && base.slice(bat + 1).toLowerCase() === host;
  }
  const b = base.toLowerCase();
  if (b.startsWith('.')) return host.endsWith(b);
  return host === b;
}

/** URI constraints name a host: "host" exactly, ".host" any subdomain (RFC 5280 §4.2.1.10). */
function uriHostWithin(base: string, host: string): boolean {
  const b = base.toLowerCase();
  const h = host.toLowerCase();
  if (b.startsWith('.')) return h.endsWith(b);
  return h === b;
}

function uriHost(uri: string): string | undefined {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/.exec(uri);
  if (m === null || m[1] === '' || m[1]!.startsWith('[')) return undefined;
  return m[1];
}

function ipWithin(base: Buffer, address: Buffer): boolean {
  const half = base.length / 2;
  if (address.length !== half) return false;
  for (let i = 0; i < half; i++) if ((address[i]! & base[half + i]!) !== (base[i]! & base[half + i]!)) return false;
  return true;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** A valid preferred-syntax DNS name (RFC 1034 §3.5 as relaxed by RFC 1123), optionally with a leading "*." label. */
export function validDnsName(name: string, allowWildcard: boolean): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (i === 0 && allowWildcard && label === '*' && labels.length > 2) continue;
    if (!LABEL.test(label)) return false;
  }
  return true;
}

/** A mailbox local@domain with exactly one "@", a non-empty local part and a valid domain. */
export function validMailbox(email: string): boolean {
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@')) return false;
  const local = email.slice(0, at);
  if (!/^[\x21-\x7e]+$/.test(local) || /["(),:;<>[\\\]]/.test(local)) return false;
  return validDnsName(email.slice(at + 1), false);
}

function constraintSyntaxProblem(base: GeneralName): string | undefined {
  switch (base.type) {
    case 'dns':
      return base.value === '' || validDnsName(base.value, false)
        ? undefined
        : `the name constraint DNS:${base.value} is not a valid DNS name (no wildcards or leading periods, RFC 5280 §4.2.1.10)`;
    case 'rfc822': {
      const v = base.value;
      const ok = v.includes('@') ? validMailbox(v) : v.startsWith('.') ? validDnsName(v.slice(1), false) : validDnsName(v, false);
      return ok ? undefined : `the name constraint email:${v} is neither a mailbox nor a host (RFC 5280 §4.2.1.10)`;
    }
    case 'uri': {
      const v = base.value;
      const ok = v.startsWith('.') ? validDnsName(v.slice(1), false) : validDnsName(v, false);
      return ok ? undefined : `the name constraint URI:${v} is not a host name (RFC 5280 §4.2.1.10)`;
    }
    case 'ip': {
      if (base.bytes.length !== 8 && base.bytes.length !== 32)
        return `the name constraint IP:${formatIp(base.bytes)} is not an address and mask (8 or 32 octets)`;
      const mask = base.bytes.subarray(base.bytes.length / 2);
      let seenZero = false;
      for (const byte of mask) {
        for (let bit = 7; bit >= 0; bit--) {
          const one = (byte >> bit) & 1;
          if (one === 1 && seenZero) return `the name constraint IP:${formatIp(base.bytes)} has a mask that is not a CIDR prefix`;
          if (one === 0) seenZero = true;
        }
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function nameSyntaxProblem(name: GeneralName): string | undefined {
  switch (name.type) {
    case 'dns':
      return validDnsName(name.value, true) ? undefined : 'it is not a valid DNS name';
    case 'rfc822':
      return validMailbox(name.value) ? undefined : 'it is not a valid mailbox';
    case 'uri':
      return uriHost(name.value) === undefined ? 'the URI has no host name' : undefined;
    case 'ip':
      return name.bytes.length === 4 || name.bytes.length === 16 ? undefined : 'an IP address must be 4 or 16 octets';
    default:
      return undefined;
  }
}
