import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ChanceryError } from '../../errors.js';
import { loadPolicies, type LoadedPolicy } from '../../policy/policy.js';
import { parseCertificates, type Certificate } from '../../verify/certificate.js';
import { pemBlocks } from '../../verify/pem-input.js';
import { crlSource } from '../../verify/crl.js';
import { verifyEnvelope } from '../../verify/envelope.js';
import { noRevocation, type RevocationSource } from '../../verify/revocation.js';
import type { ValidationReport } from '../../verify/validation-report.js';
import { looksLikeZip, openEvidence, type OpenedEvidence } from '../../submissions/evidence.js';
import { verifyEvidenceReceipts, type VerifiedEvidenceReceipt } from '../../submissions/evidence-receipts.js';
import type { ReceiptTrust } from '../../submissions/receipts.js';
import { verifyManifestTimestamp } from '../../submissions/evidence-timestamp.js';
import type { TimestampReport } from '../../verify/validation-report.js';
import { EXIT, ExitCode, action, print } from '../run.js';
import { usageError } from '../errors.js';

/**
 * `chancery verify`: offline validation of an envelope. The same pure
 * `verifyEnvelope` the service runs; this file only reads files and prints. Exit 0 TOTAL_PASSED,
 * 1 TOTAL_FAILED, 2 INDETERMINATE, 64 usage.
 */

interface VerifyOptions {
  in: string;
  content?: string;
  trust: string;
  untrusted?: string[];
  crl: string[];
  revocation?: boolean;
  at?: string;
  policy?: string;
  logKey?: string;
  json?: boolean;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('validate a signed envelope (CMS or JWS) offline and print its validation report')
    .requiredOption('--in <file>', 'the envelope: DER or PEM CMS SignedData, a JWS (compact or JSON), or an evidence container (.asice)')
    .option('--content <file>', 'the document, for a detached envelope')
    .requiredOption('--trust <pem>', 'trust anchors (PEM certificates)')
    .option('--untrusted <pem>', 'further intermediate certificates (PEM); repeatable', collect, [])
    .option('--crl <file>', 'a CRL (DER or PEM) for revocation checking; repeatable', collect, [])
    .option('--no-revocation', 'do not check revocation (the report says so); without --crl, status is otherwise unknown')
    .option('--at <iso-time>', 'validation time (RFC 3339), default now')
    .option('--policy <id>', 'apply a transaction policy (schema, applicant binding, allowed algorithms)')
    .option('--log-key <file>', "the log's verifier key (log.vkey) to pin, for an evidence container's log proofs")
    .option('--json', 'print the validation report as JSON')
    .action(
      action(async (opts: VerifyOptions) => {
        const time = opts.at === undefined ? new Date() : parseTime(opts.at);
        const policy = opts.policy === undefined ? undefined : policyById(opts.policy);
        const anchors = certificatesFrom(opts.trust, '--trust');
        const intermediates = (opts.untrusted ?? []).flatMap((f) => certificatesFrom(f, '--untrusted'));
        const input = readInput(opts.in, '--in');
        // An evidence container (ASiC-E): its document, envelope, CRLs and log proofs of existence.
        const evidence = looksLikeZip(input) ? openContainer(input, opts) : undefined;
        const crls = [...(evidence?.crls ?? []), ...opts.crl.map((f) => readInput(f, '--crl'))];
        const revocation: RevocationSource = opts.revocation === false ? noRevocation() : crlSource(crls);
        // The container's receipts: signed by a seal that chains to --trust, each the receipt of its proven transition.
        const receipts =
          evidence === undefined ? undefined : await containerReceipts(evidence, { anchors, intermediates, revocation }, opts);
        // Its ASiC time assertion (a time-stamp over the manifest), when it has one.
        const timeAssertion =
          evidence === undefined ? undefined : await containerTimestamp(evidence, { anchors, intermediates, revocation, time }, opts);
        const report = await verifyEnvelope({
          envelope: evidence?.envelope ?? envelopeBytes(input),
          content: evidence?.document ?? (opts.content === undefined ? undefined : readInput(opts.content, '--content')),
          anchors,
          intermediates,
          revocation,
          policy,
          ...(evidence !== undefined && policy === undefined ? { policies: loadPolicies() } : {}),
          proofsOfExistence: evidence?.proofsOfExistence,
          time,
        });
        const manifest = evidence === undefined ? undefined : { objects: evidence.manifest.objects, timeAssertion: timeAssertion ?? null };
        print(opts.json === true, receipts === undefined ? report : { ...report, evidence: { receipts, manifest } }, () =>
          [
            describeReport(report),
            ...(receipts === undefined ? [] : ['', describeReceipts(receipts), describeManifest(evidence!, timeAssertion)]),
          ].join('\n'),
        );
        throw new ExitCode(
          report.indication === 'TOTAL_PASSED' ? EXIT.ok : report.indication === 'TOTAL_FAILED' ? EXIT.failed : EXIT.indeterminate,
        );
      }),
    );
}

/** Opens an evidence container; a broken one is a TOTAL_FAILED verdict with its reason (exit 1). */
function openContainer(bytes: Buffer, opts: VerifyOptions): OpenedEvidence {
  try {
    return openEvidence(bytes, { logKey: opts.logKey === undefined ? undefined : readInput(opts.logKey, '--log-key').toString('utf8') });
  } catch (error) {
    return refuseContainer(error, opts);
  }
}

/** Verifies a container's receipts; one that fails is a TOTAL_FAILED verdict with its reason (exit 1). */
async function containerReceipts(evidence: OpenedEvidence, trust: ReceiptTrust, opts: VerifyOptions): Promise<VerifiedEvidenceReceipt[]> {
  try {
    return await verifyEvidenceReceipts(evidence, trust);
  } catch (error) {
    return refuseContainer(error, opts);
  }
}

/** Validates a container's time assertion; a token that is not intact is a TOTAL_FAILED verdict (exit 1). */
async function containerTimestamp(
  evidence: OpenedEvidence,
  trust: Parameters<typeof verifyManifestTimestamp>[1],
  opts: VerifyOptions,
): Promise<TimestampReport | undefined> {
  try {
    return await verifyManifestTimestamp(evidence, trust);
  } catch (error) {
    return refuseContainer(error, opts);
  }
}

function describeManifest(evidence: OpenedEvidence, t: TimestampReport | undefined): string {
  const lines = [`manifest: META-INF/ASiCManifest.xml lists ${evidence.manifest.objects} files, every SHA-256 digest matches`];
  if (t === undefined) lines.push('  no time assertion (META-INF/timestamp.tst): the container was made without a TSA');
  else
    lines.push(
      `  time assertion: genTime ${t.genTime ?? 'unknown'}${t.tsa === null ? '' : `, TSA ${t.tsa.subject}`}: ${t.indication}${t.subIndication === undefined ? '' : ` / ${t.subIndication}`}${t.indication === 'TOTAL_PASSED' ? ' (dates every file the manifest lists)' : ''}`,
    );
  return lines.join('\n');
}

function refuseContainer(error: unknown, opts: VerifyOptions): never {
  if (!(error instanceof ChanceryError) || error.code !== 'ERR_SUBMISSION_EVIDENCE_INVALID') throw error;
  const verdict = { indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', evidence: { code: error.code, message: error.message } };
  print(opts.json === true, verdict, () => `TOTAL_FAILED / FORMAT_FAILURE\n  the evidence container is not valid: ${error.message}`);
  throw new ExitCode(EXIT.failed);
}

function describeReceipts(receipts: readonly VerifiedEvidenceReceipt[]): string {
  return [
    `receipts: ${receipts.length} verified, each signed by a service seal under --trust and matching its proven log entry`,
    ...receipts.map((r) => `  [ok]   log entry ${r.logIndex}: ${r.status} at ${r.at}, sealed by ${r.seal}`),
  ].join('\n');
}

/** A readable rendering: verdict, document, then each signature with every check. */
export function describeReport(r: ValidationReport): string {
  const lines: string[] = [];
  lines.push(`${r.indication}${r.subIndication === undefined ? '' : ` / ${r.subIndication}`}`);
  lines.push(
    `  format: ${r.format ?? 'unknown'}   policy: ${r.policy === null ? 'none (document-signing purpose only)' : `${r.policy.id} v${r.policy.version} (sha256 ${r.policy.sha256.slice(0, 16)}…)`}   at: ${r.validationTime}`,
  );
  if (r.document.sha256 !== null) {
    lines.push(
      `  document: sha256 ${r.document.sha256}${r.document.type === null ? '' : `, ${r.document.type}`}${r.document.applicant === null ? '' : `, applicant ${r.document.applicant}`}${r.document.applicationId === null ? '' : `, ${r.document.applicationId}`}`,
    );
  }
  for (const c of r.checks) lines.push(`  ${mark(c.result)} ${c.id}: ${c.message}`);
  for (const s of r.signatures) {
    lines.push('');
    const who = s.signer === null ? 'signer not found' : `${s.signer.subject} (serial ${s.signer.serialNumber})`;
    const decision = s.decision === undefined ? '' : `, decision ${s.decision ?? 'none'}`;
    lines.push(
      `signature ${s.index} (${s.role}${decision}): ${s.indication}${s.subIndication === undefined ? '' : ` / ${s.subIndication}`}`,
    );
    lines.push(`  ${who}${s.signer?.officer ? `, officer ${s.signer.officer.role} of ${s.signer.officer.jurisdiction}` : ''}`);
    if (s.reason !== undefined) lines.push(`  reason: ${JSON.stringify(s.reason)}`);
    lines.push(`  algorithm: ${s.algorithm ?? 'unknown'}   signed at: ${s.signingTime ?? 'unknown'}`);
    lines.push(`  best signature time: ${s.bestSignatureTime.time} (${s.bestSignatureTime.source}: ${s.bestSignatureTime.detail})`);
    for (const t of s.timestamps)
      lines.push(
        `  time-stamp ${t.index + 1}: ${t.indication}${t.subIndication === undefined ? '' : ` / ${t.subIndication}`}, genTime ${t.genTime ?? 'unknown'}${t.tsa === null ? '' : `, TSA ${t.tsa.subject}`}`,
      );
    for (const c of s.checks) lines.push(`  ${mark(c.result)} ${c.id}: ${c.message}`);
  }
  return lines.join('\n');
}

function mark(result: string): string {
  return result === 'PASSED' ? '[ok]  ' : result === 'FAILED' ? '[FAIL]' : '[??]  ';
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function readInput(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw usageError(`${flag} ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

function certificatesFrom(file: string, flag: string): Certificate[] {
  try {
    return parseCertificates(readInput(file, flag), `${flag} ${file}`);
  } catch (error) {
    if (error instanceof ChanceryError && error.code === 'ERR_CLI_USAGE') throw error;
    throw usageError(`${flag} ${file}: ${(error as Error).message}`);
  }
}

/** DER as is; PEM `CMS` or `PKCS7` armour decoded; anything else (a JWS) as is. */
function envelopeBytes(bytes: Buffer): Buffer {
  const text = bytes.subarray(0, 64).toString('latin1').trimStart();
  if (!text.startsWith('-----BEGIN ')) return bytes;
  const all = bytes.toString('latin1');
  try {
    const blocks = [...pemBlocks(all, 'CMS'), ...pemBlocks(all, 'PKCS7')];
    if (blocks.length !== 1) throw usageError('--in: a PEM envelope must hold exactly one CMS or PKCS7 block');
    return blocks[0]!;
  } catch (error) {
    if (error instanceof ChanceryError && error.code === 'ERR_CLI_USAGE') throw error;
    return bytes; // unreadable armour: validation reports FORMAT_FAILURE
  }
}

function parseTime(text: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text))
    throw usageError(`--at "${text}" is not an RFC 3339 date-time (e.g. 2026-03-01T08:00:00Z)`);
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw usageError(`--at "${text}" is not a real date-time`);
  return date;
}

function policyById(id: string): LoadedPolicy {
  const p = loadPolicies().get(id);
  if (p === undefined)
    throw usageError(
      `--policy ${id}: no such policy; known: ${loadPolicies()
        .list()
        .map((x) => x.id)
        .join(', ')}`,
    );
  return p;
}
