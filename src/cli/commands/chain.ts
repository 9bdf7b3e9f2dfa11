import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ChanceryError } from '../../errors.js';
import { OID } from '../../oids.js';
import { parseCertificates, type Certificate } from '../../verify/certificate.js';
import { KEY_USAGE_NAMES, type KeyUsageName } from '../../verify/certificate-types.js';
import { crlSource } from '../../verify/crl.js';
import { validatePath, type PathResult, type Purpose } from '../../verify/path.js';
import type { Check } from '../../verify/report.js';
import { ocspResponseSource } from '../../verify/ocsp.js';
import { firstAnswer, noRevocation } from '../../verify/revocation.js';
import { EXIT, ExitCode, action, print } from '../run.js';
import { usageError } from '../errors.js';

/**
 * `chancery chain verify`: certification path validation alone, the same
 * validatePath the service runs. Exit 0 TOTAL_PASSED, 1 TOTAL_FAILED, 2 INDETERMINATE, 64 usage.
 * A leaf or intermediate that does not parse is a FORMAT_FAILURE verdict, not a crash.
 */

interface ChainVerifyOptions {
  trusted: string;
  untrusted: string[];
  leaf: string;
  at?: string;
  eku: string[];
  keyUsage: string[];
  crl: string[];
  ocsp: string[];
  revocation?: boolean;
  maxDepth?: string;
  peerName?: string;
  json?: boolean;
}

/** Short names accepted by --eku besides dotted OIDs. */
const EKU_NAMES: Record<string, string> = {
  documentSigning: OID.kpDocumentSigning,
  ocspSigning: OID.kpOcspSigning,
  clientAuth: OID.kpClientAuth,
  serverAuth: '1.3.6.1.5.5.7.3.1',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
};

export function registerChain(program: Command): void {
  const chain = program.command('chain').description('certificate chain tools');
  chain
    .command('verify')
    .description('validate the certification path of a certificate (RFC 5280 §6) and list every check')
    .requiredOption('--trusted <pem>', 'trust anchors (PEM certificates)')
    .requiredOption('--leaf <pem>', 'the certificate to validate (PEM or DER)')
    .option('--untrusted <pem>', 'intermediate certificates to build the path with (PEM); repeatable', collect, [])
    .option('--at <iso-time>', 'validation time (RFC 3339), default now')
    .option('--eku <oid>', `extended key usage the leaf must assert (OID or ${Object.keys(EKU_NAMES).join('|')}); repeatable`, collect, [])
    .option('--key-usage <name>', `key usage the leaf must assert (${KEY_USAGE_NAMES.join('|')}); repeatable`, collect, [])
    .option('--crl <file>', 'a CRL (DER or PEM) for revocation checking; repeatable', collect, [])
    .option('--ocsp <file>', 'a DER OCSP response for revocation checking (asked after the CRLs); repeatable', collect, [])
    .option('--no-revocation', 'do not check revocation (the output says so); otherwise, without --crl, revocation status is unknown')
    .option('--max-depth <n>', 'maximum number of intermediate CA certificates (default 8)')
    .option('--peer-name <name>', 'DNS name, IP address or email address the leaf must carry in its subjectAltName')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (opts: ChainVerifyOptions) => {
        const time = opts.at === undefined ? new Date() : parseTime(opts.at);
        const maxDepth = opts.maxDepth === undefined ? undefined : parseDepth(opts.maxDepth);
        const purpose = purposeFrom(opts.eku, opts.keyUsage);
        const anchors = readCertificates(opts.trusted, '--trusted');
        if ('formatFailure' in anchors) throw usageError(anchors.formatFailure);
        const leafInput = readCertificates(opts.leaf, '--leaf');
        const untrusted = opts.untrusted.map((f) => readCertificates(f, '--untrusted'));
        const crls = opts.crl.map((f) => readInput(f, '--crl'));
        const ocsp = opts.ocsp.map((f) => readInput(f, '--ocsp'));
        const bad = [leafInput, ...untrusted].find((x): x is { formatFailure: string } => 'formatFailure' in x);

        let result: PathResult;
        if (bad !== undefined) {
          result = {
            indication: 'TOTAL_FAILED',
            subIndication: 'FORMAT_FAILURE',
            path: [],
            checks: [{ id: 'path.input', result: 'FAILED', message: bad.formatFailure, subIndication: 'FORMAT_FAILURE' }],
          };
        } else {
          const [leaf, ...extra] = leafInput as Certificate[];
          result = await validatePath({
            leaf: leaf!,
            intermediates: [...extra, ...untrusted.flatMap((u) => u as Certificate[])],
            anchors,
            time,
            purpose,
            revocation:
              opts.revocation === false
                ? noRevocation()
                : ocsp.length === 0
                  ? crlSource(crls)
                  : firstAnswer(crlSource(crls), ocspResponseSource(ocsp)),
            ...(maxDepth === undefined ? {} : { maxDepth }),
            ...(opts.peerName === undefined ? {} : { peerName: opts.peerName }),
          });
        }
        print(opts.json === true, chainResultJson(result, time), () => describeChainResult(result, time));
        throw new ExitCode(
          result.indication === 'TOTAL_PASSED' ? EXIT.ok : result.indication === 'TOTAL_FAILED' ? EXIT.failed : EXIT.indeterminate,
        );
      }),
    );
}

/** The JSON printed by `chain verify --json` (stable shape). */
export function chainResultJson(r: PathResult, time: Date): Record<string, unknown> {
  return {
    indication: r.indication,
    ...(r.subIndication === undefined ? {} : { subIndication: r.subIndication }),
    validationTime: time.toISOString(),
    path: r.path.map((c) => ({
      subject: c.subject.toString(),
      issuer: c.issuer.toString(),
      serialNumber: c.serialNumberHex,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      sha256: c.sha256Fingerprint,
    })),
    ...(r.policies === undefined ? {} : { policies: r.policies }),
    checks: r.checks,
  };
}

export function describeChainResult(r: PathResult, time: Date): string {
  const lines = [`${r.indication}${r.subIndication === undefined ? '' : ` / ${r.subIndication}`}`, `  at: ${time.toISOString()}`];
  r.path.forEach((c, i) =>
    lines.push(
      `  ${i === 0 ? 'leaf  ' : i === r.path.length - 1 ? 'anchor' : 'CA    '} ${c.subject.toString()} (serial ${c.serialNumberHex})`,
    ),
  );
  for (const c of r.checks) lines.push(`  ${mark(c)} ${c.id}: ${c.message}`);
  return lines.join('\n');
}

function mark(c: Check): string {
  return c.result === 'PASSED' ? '[ok]  ' : c.result === 'FAILED' ? '[FAIL]' : '[??]  ';
}

function purposeFrom(ekus: string[], keyUsages: string[]): Purpose {
  const extendedKeyUsage = ekus.map((e) => {
    const oid = EKU_NAMES[e] ?? e;
    if (!/^[0-2](\.(0|[1-9]\d*))+$/.test(oid))
      throw usageError(`--eku ${e}: not an OID or a known name (${Object.keys(EKU_NAMES).join(', ')})`);
    return oid;
  });
  const keyUsage = keyUsages.map((k) => {
    if (!(KEY_USAGE_NAMES as readonly string[]).includes(k)) throw usageError(`--key-usage ${k}: not one of ${KEY_USAGE_NAMES.join(', ')}`);
    return k as KeyUsageName;
  });
  return { extendedKeyUsage, keyUsage };
}

function parseTime(text: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text))
    throw usageError(`--at ${text}: not an RFC 3339 date-time with a zone (e.g. 2026-06-01T12:00:00Z)`);
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw usageError(`--at ${text}: not a valid date-time`);
  return d;
}

function parseDepth(text: string): number {
  if (!/^\d{1,3}$/.test(text)) throw usageError(`--max-depth ${text}: not a number from 0 to 999`);
  return Number(text);
}

function readInput(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw usageError(`${flag} ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

/** The certificates in a file, or why they cannot be read (a format failure, not a crash). */
function readCertificates(file: string, flag: string): Certificate[] | { formatFailure: string } {
  const bytes = readInput(file, flag);
  try {
    return parseCertificates(bytes, 'the file');
  } catch (error) {
    if (error instanceof ChanceryError) return { formatFailure: `${flag} ${file} is not a readable certificate: ${error.message}.` };
    throw error;
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
