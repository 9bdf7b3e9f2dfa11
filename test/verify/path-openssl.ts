import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Certificates made by the openssl CLI, the outside party: a root, intermediates and leaves from
 * extension snippets, CRLs through `openssl ca -gencrl`, and `openssl verify` as the second
 * opinion. Everything lives in one temporary directory per helper.
 */
export class OpensslPki {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'chancery-openssl-pki-'));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  run(args: string[]): string {
    return execFileSync('openssl', args, { cwd: this.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** A self-signed CA `name` (files name.pem, name.key). */
  root(name: string, o: { curve?: string; ext?: string; days?: number } = {}): string {
    const cfg = this.path(`${name}.cnf`);
    writeFileSync(
      cfg,
      `[req]\ndistinguished_name = dn\n[dn]\n[v3]\n${o.ext ?? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n'}`,
    );
    this.run([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      `ec_paramgen_curve:${o.curve ?? 'P-384'}`,
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      String(o.days ?? 3650),
      '-subj',
      `/O=OpenSSL Test/CN=${name}`,
      '-config',
      cfg,
      '-extensions',
      'v3',
    ]);
    return this.path(`${name}.pem`);
  }

  /**
   * A certificate `name` issued by `issuer` with the extensions in `ext` (openssl x509v3 config
   * lines). `key`: 'ec:P-256' (default), 'ec:P-384', 'ed25519', 'rsa:2048'.
   */
  issue(name: string, issuer: string, ext: string, o: { key?: string; days?: number; subject?: string } = {}): string {
    const key = o.key ?? 'ec:P-256';
    const keyArgs = key.startsWith('ec:')
      ? ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${key.slice(3)}`]
      : key === 'ed25519'
        ? ['-newkey', 'ed25519']
        : ['-newkey', key];
    writeFileSync(this.path(`${name}.ext`), ext);
    this.run([
      'req',
      ...keyArgs,
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      o.subject ?? `/O=OpenSSL Test/CN=${name}`,
      '-config',
      this.emptyConfig(),
    ]);
    this.run([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.pem`,
      '-CAkey',
      `${issuer}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      String(o.days ?? 365),
      '-extfile',
      `${name}.ext`,
    ]);
    return this.path(`${name}.pem`);
  }

  /** A CRL by `ca` listing the certificates named in `revoked` (files `crl-<ca>.pem`). */
  crl(ca: string, revoked: string[] = []): string {
    const db = `${ca}-index.txt`;
    writeFileSync(this.path(db), '');
    writeFileSync(this.path(`${ca}-crlnumber`), '01\n');
    writeFileSync(
      this.path(`${ca}-ca.cnf`),
      `[ca]\ndefault_ca = d\n[d]\ndatabase = ${db}\ncrlnumber = ${ca}-crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\n`,
    );
    for (const r of revoked)
      this.run([
        'ca',
        '-config',
        `${ca}-ca.cnf`,
        '-keyfile',
        `${ca}.key`,
        '-cert',
        `${ca}.pem`,
        '-revoke',
        `${r}.pem`,
        '-crl_reason',
        'keyCompromise',
      ]);
    this.run(['ca', '-config', `${ca}-ca.cnf`, '-gencrl', '-keyfile', `${ca}.key`, '-cert', `${ca}.pem`, '-out', `crl-${ca}.pem`]);
    return this.path(`crl-${ca}.pem`);
  }

  /**
   * A DER OCSP response about certificate `cert` (issued by `issuer`), signed by `signer`
   * (default the issuer), answering `status`; the CertID uses `hash` (default sha256).
   */
  ocsp(o: {
    issuer: string;
    cert: string;
    signer?: string;
    status: 'good' | 'revoked';
    revokedAt?: Date;
    hash?: 'sha1' | 'sha256';
    ndays?: number;
    name?: string;
  }): Buffer {
    const serial = this.run(['x509', '-in', `${o.cert}.pem`, '-noout', '-serial'])
      .trim()
      .split('=')[1]!;
    const t = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    const line =
      o.status === 'good'
        ? `V\t301231000000Z\t\t${serial}\tunknown\t/CN=${o.cert}\n`
        : `R\t301231000000Z\t${t(o.revokedAt ?? new Date())},keyCompromise\t${serial}\tunknown\t/CN=${o.cert}\n`;
    const name = o.name ?? `ocsp-${o.cert}-${o.status}`;
    writeFileSync(this.path(`${name}-index.txt`), line);
    this.run([
      'ocsp',
      `-${o.hash ?? 'sha256'}`,
      '-issuer',
      `${o.issuer}.pem`,
      '-cert',
      `${o.cert}.pem`,
      '-reqout',
      `${name}-req.der`,
      '-no_nonce',
    ]);
    const signer = o.signer ?? o.issuer;
    this.run([
      'ocsp',
      '-index',
      `${name}-index.txt`,
      '-rsigner',
      `${signer}.pem`,
      '-rkey',
      `${signer}.key`,
      '-CA',
      `${o.issuer}.pem`,
      '-reqin',
      `${name}-req.der`,
      '-respout',
      `${name}.der`,
      '-ndays',
      String(o.ndays ?? 1),
    ]);
    return readFileSync(this.path(`${name}.der`));
  }

  /** `openssl verify`: true when it accepts. `crls` turns on -crl_check_all. */
  verify(o: { trusted: string; untrusted?: string[]; leaf: string; crls?: string[]; attime?: Date }): boolean {
    const args = ['verify', '-CAfile', o.trusted];
    if (o.untrusted !== undefined && o.untrusted.length > 0) {
      const bundle = this.path(`untrusted-${Math.random().toString(36).slice(2)}.pem`);
      writeFileSync(bundle, o.untrusted.map((f) => execFileSync('cat', [f], { encoding: 'utf8' })).join(''));
      args.push('-untrusted', bundle);
    }
    for (const c of o.crls ?? []) args.push('-CRLfile', c);
    if (o.crls !== undefined) args.push('-crl_check_all');
    if (o.attime !== undefined) args.push('-attime', String(Math.floor(o.attime.getTime() / 1000)));
    args.push(o.leaf);
    try {
      this.run(args);
      return true;
    } catch {
      return false;
    }
  }

  private emptyConfig(): string {
    const file = this.path('empty.cnf');
    writeFileSync(file, '[req]\ndistinguished_name = dn\n[dn]\n[v3]\n');
    return file;
  }
}

export const CA_EXT =
  'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n';
export const LEAF_EXT =
  'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=1.3.6.1.5.5.7.3.36\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n';
