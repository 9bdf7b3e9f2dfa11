import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { LogClient } from '../../audit/auditor/client.js';
import { copyCheckpoint, fetchLog } from '../../audit/auditor/fetch.js';
import { proveInclusion, type ProofTarget } from '../../audit/auditor/prove.js';
import { compareWithService, replayLog, type ReplayResult } from '../../audit/auditor/replay.js';
import { defaultStatePath, readTrustedState, recordTrusted } from '../../audit/auditor/state.js';
import { copySource, remoteSource, verifyLog, type TrustedCheckpoint, type VerifyResult } from '../../audit/auditor/verify.js';
import { parseCheckpoint } from '../../audit/checkpoint.js';
import { parseNote, parseVerifierKey, type NoteVerifier } from '../../audit/note.js';
import { ChanceryError } from '../../errors.js';
import { proveReceipt } from '../../submissions/receipt-proof.js';
import { readCredential } from '../../client/admin.js';
import { loginOverHttp, RenewingLogin } from '../../client/login.js';
import { ChanceryClient } from '../../client/submissions.js';
import { signerFromPem } from '../../crypto/private-key-file.js';
import { offlineChanceryRevocation } from '../../submissions/receipts.js';
import { parseCertificates, type Certificate } from '../../verify/certificate.js';
import { EXIT, ExitCode, action, print } from '../run.js';
import { usageError } from '../errors.js';

/**
 * `chancery audit fetch|verify|prove`: the auditor's tools. They need no
 * database, only the log's HTTP API or a copy made by `fetch`, and trust only the verifier key
 * given with --log-key and the checkpoints the auditor verified before (its state file).
 */
export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description("auditor tools: download the log, verify it offline, prove an entry's inclusion, replay it against the service");

  audit
    .command('fetch')
    .description('download the latest checkpoint and the entries it covers into DIR (resumes where it stopped)')
    .requiredOption('--url <url>', 'base URL of a Chancery service')
    .requiredOption('--out <dir>', 'directory of the local copy')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (opts: { url: string; out: string; json?: boolean }) => {
        const client = new LogClient(opts.url);
        const progress = progressBar('fetch');
        try {
          const result = await fetchLog(client, opts.out, progress.update);
          progress.stop();
          print(
            opts.json === true,
            result,
            () =>
              `fetched ${result.downloaded} entries; ${opts.out} now holds ${result.entries} entries and the checkpoint of size ${result.checkpointSize}`,
          );
        } finally {
          progress.stop();
        }
      }),
    );

  audit
    .command('verify')
    .description(
      'verify a log: canonical entries, leaf hashes, both chains, the Merkle root, the signed checkpoint, consistency with what you trusted before',
    )
    .option('--dir <dir>', 'a copy made by `chancery audit fetch`')
    .option('--url <url>', 'verify the log served at this URL, streaming it')
    .requiredOption('--log-key <vkey>', "the log's verifier key: a file holding it (log.vkey) or the key string, obtained out of band")
    .option('--trusted <file>', 'a checkpoint (signed note) you trust; the log must extend it; repeatable', collect, [])
    .option('--state <file>', 'auditor state: the last checkpoint verified for this key (default $XDG_STATE_HOME/chancery/audit/…)')
    .option('--no-state', 'neither read nor update the auditor state')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (opts: { dir?: string; url?: string; logKey: string; trusted: string[]; state: string | boolean; json?: boolean }) => {
        if ((opts.dir === undefined) === (opts.url === undefined)) throw usageError('give exactly one of --dir and --url');
        const vkey = readVerifierKey(opts.logKey);
        const verifier = parseVerifierKey(vkey);
        const statePath = opts.state === false ? undefined : typeof opts.state === 'string' ? opts.state : defaultStatePath(vkey);
        const trusted: TrustedCheckpoint[] = opts.trusted.map((file) => ({ note: readInput(file, '--trusted'), label: file }));
        const state = statePath === undefined ? undefined : readTrustedState(statePath, vkey, verifier);
        if (state !== undefined)
          trusted.push({ note: state.checkpoint, label: `the checkpoint verified on ${state.verifiedAt} (${statePath})` });

        let checkpoint: Buffer;
        let source;
        let seen: TrustedCheckpoint[] = [];
        if (opts.dir !== undefined) {
          const held = copyCheckpoint(opts.dir);
          if (held === undefined) throw usageError(`${opts.dir} holds no checkpoint: run \`chancery audit fetch --out ${opts.dir}\` first`);
          checkpoint = held;
          source = copySource(opts.dir);
          seen = copyHistory(opts.dir);
        } else {
          const client = new LogClient(opts.url!);
          checkpoint = await client.checkpoint();
          source = remoteSource(client, sizeOf(checkpoint));
        }
        const total = sizeOf(checkpoint);
        const progress = progressBar('verify');
        let result: VerifyResult;
        try {
          result = await verifyLog({ verifier, checkpoint, source, trusted, seen, onProgress: (n) => progress.update(n, total) });
        } finally {
          progress.stop();
        }
        let stateUpdated = false;
        if (result.ok && statePath !== undefined) {
          stateUpdated = recordTrusted(statePath, vkey, checkpoint.toString('utf8'), result.checkpoint.size, new Date());
        }
        print(opts.json === true, { ...result, ...(statePath === undefined ? {} : { statePath, stateUpdated }) }, () =>
          describeVerify(result, statePath, stateUpdated),
        );
        if (!result.ok) throw new ExitCode(EXIT.failed);
      }),
    );

  audit
    .command('replay')
    .description(
      "verify the log, rebuild every submission's status and steps, every certificate's revocation and every enterprise's status from its entries alone, and compare with what the service serves",
    )
    .requiredOption('--url <url>', 'base URL of the Chancery service to compare with')
    .requiredOption('--log-key <vkey>', "the log's verifier key: a file holding it (log.vkey) or the key string")
    .option('--dir <dir>', 'read the entries from a copy made by `chancery audit fetch` instead of streaming them from --url')
    .option(
      '--credential <dir>',
      "an auditor's key.pem and cert.pem: also compare the submissions API and each certificate's and enterprise's view",
    )
    .option('--trusted <file>', 'a checkpoint (signed note) you trust; the log must extend it; repeatable', collect, [])
    .option('--json', 'print the result as JSON')
    .action(
      action(async (opts: { url: string; logKey: string; dir?: string; credential?: string; trusted: string[]; json?: boolean }) => {
        const verifier = parseVerifierKey(readVerifierKey(opts.logKey));
        const trusted: TrustedCheckpoint[] = opts.trusted.map((file) => ({ note: readInput(file, '--trusted'), label: file }));
        let checkpoint: Buffer;
        let source;
        if (opts.dir !== undefined) {
          const held = copyCheckpoint(opts.dir);
          if (held === undefined) throw usageError(`${opts.dir} holds no checkpoint: run \`chancery audit fetch --out ${opts.dir}\` first`);
          checkpoint = held;
          source = copySource(opts.dir);
        } else {
          const client = new LogClient(opts.url);
          checkpoint = await client.checkpoint();
          source = remoteSource(client, sizeOf(checkpoint));
        }
        // Logged in first, so a refused credential fails before the log is read; renewed while the
        // comparison runs (at national scale it outlasts a token).
        let session: RenewingLogin | undefined;
        if (opts.credential !== undefined) {
          const { keyPem, certificates } = readCredential(opts.credential);
          const signer = signerFromPem('credential', keyPem);
          session = await RenewingLogin.start(() => loginOverHttp(opts.url.replace(/\/+$/, ''), signer, certificates));
        }
        const total = sizeOf(checkpoint);
        const progress = progressBar('replay');
        let result: ReplayResult;
        try {
          const { verify, state } = await replayLog({
            verifier,
            checkpoint,
            source,
            trusted,
            onProgress: (n) => progress.update(n, total),
          });
          progress.stop();
          if (!verify.ok) {
            result = {
              ok: false,
              verify,
              compared: { submissions: 0, certificates: 0, enterprises: 0, listed: 0 },
              divergences: {},
              skipped: [],
            };
          } else {
            const compare = progressBar('compare', 'subjects');
            try {
              result = await compareWithService(state, verify, {
                url: opts.url,
                ...(session === undefined ? {} : { authorization: () => session.authorization() }),
                onProgress: (done, all) => compare.update(done, all),
              });
            } finally {
              compare.stop();
            }
          }
        } finally {
          progress.stop();
        }
        print(opts.json === true, result, () => describeReplay(result));
        if (!result.ok) throw new ExitCode(EXIT.failed);
      }),
    );

  audit
    .command('prove')
    .description('prove that an entry is in the log: verified checkpoint, consistency with your trusted state, inclusion proof')
    .option('--index <n>', 'the entry index')
    .option('--leaf-hash <hex>', 'the entry leaf hash (SHA-256(0x00 ‖ entry), hex)')
    .option('--receipt <file>', 'a submission receipt (compact JWS): verify its seal signature and certificate chain, then prove its entry')
    .option(
      '--trust <pem>',
      "with --receipt: the CA root to verify the seal's chain with (default: the root the service serves at /ca/root.pem)",
    )
    .requiredOption('--url <url>', 'base URL of a Chancery service')
    .requiredOption('--log-key <vkey>', "the log's verifier key: a file holding it (log.vkey) or the key string")
    .option('--state <file>', 'auditor state to check consistency against (default as for verify)')
    .option('--no-state', 'do not read the auditor state')
    .option('--json', 'print the result as JSON')
    .action(
      action(
        async (opts: {
          index?: string;
          leafHash?: string;
          receipt?: string;
          trust?: string;
          url: string;
          logKey: string;
          state: string | boolean;
          json?: boolean;
        }) => {
          const vkey = readVerifierKey(opts.logKey);
          const verifier = parseVerifierKey(vkey);
          const statePath = opts.state === false ? undefined : typeof opts.state === 'string' ? opts.state : defaultStatePath(vkey);
          const state = statePath === undefined ? undefined : readTrustedState(statePath, vkey, verifier);
          if (opts.receipt !== undefined) {
            if (opts.index !== undefined || opts.leafHash !== undefined)
              throw usageError('give exactly one of --index, --leaf-hash and --receipt');
            await proveReceiptCommand(
              { ...opts, receipt: opts.receipt },
              verifier,
              state === undefined ? undefined : { note: state.checkpoint, label: `the checkpoint you verified on ${state.verifiedAt}` },
            );
            return;
          }
          const target = proofTarget(opts);
          const result = await proveInclusion({
            client: new LogClient(opts.url),
            verifier,
            target,
            ...(state === undefined
              ? {}
              : { trusted: { note: state.checkpoint, label: `the checkpoint you verified on ${state.verifiedAt}` } }),
          });
          print(opts.json === true, result, () =>
            [
              `entry ${result.index} (leaf hash ${result.leafHash}) is in the log`,
              `  inclusion proof verified against ${result.checkpoint.origin}, size ${result.checkpoint.size}, root ${result.checkpoint.root}`,
              ...(result.consistentWith === undefined
                ? []
                : [`  the log is consistent with your trusted checkpoint of size ${result.consistentWith}`]),
              ...(result.entry === undefined
                ? []
                : [`  ${result.entry.time} ${result.entry.kind} by ${result.entry.actor} about ${result.entry.subject}`]),
            ].join('\n'),
          );
        },
      ),
    );
}

/** `audit prove --receipt`: src/submissions/receipt-proof.ts does the work; this prints it. */
async function proveReceiptCommand(
  opts: { receipt: string; trust?: string; url: string; json?: boolean },
  verifier: NoteVerifier,
  trusted: { note: string; label: string } | undefined,
): Promise<void> {
  const client = new LogClient(opts.url);
  const anchors =
    opts.trust === undefined ? await servedRoot(opts.url) : parseCertificates(readInput(opts.trust, '--trust'), `--trust ${opts.trust}`);
  // The issuing CA's CRL for the seal, the root's for the issuing CA: both are checked.
  const crls = await new ChanceryClient(client.url).caCrls();
  const proof = await proveReceipt({
    receipt: readInput(opts.receipt, '--receipt').toString('utf8'),
    trust: { anchors, revocation: offlineChanceryRevocation(crls) },
    client,
    verifier,
    ...(trusted === undefined ? {} : { trusted }),
  });
  const p = proof.receipt.payload;
  print(
    opts.json === true,
    { receipt: p, seal: proof.receipt.seal.subject.toString(), trust: opts.trust ?? `${client.url}/ca/root.pem`, ...proof.inclusion },
    () =>
      [
        `receipt for submission ${p.submission} (${p.applicant}): ${p.status} at ${p.at}`,
        `  signed by the service seal ${proof.receipt.seal.subject.toString()}, chain verified to ${opts.trust ?? `the root served by ${client.url} (pin one with --trust)`}`,
        `  its entry ${p.logIndex} (leaf hash ${p.leafHash}) is in the log: inclusion proof verified against ${proof.inclusion.checkpoint.origin}, size ${proof.inclusion.checkpoint.size}`,
        ...(proof.inclusion.consistentWith === undefined
          ? []
          : [`  the log is consistent with your trusted checkpoint of size ${proof.inclusion.consistentWith}`]),
      ].join('\n'),
  );
}

async function servedRoot(url: string): Promise<Certificate[]> {
  const res = await fetch(`${url.replace(/\/+$/, '')}/ca/root.pem`).catch((error: unknown) => {
    throw new ChanceryError('ERR_AUDIT_FETCH_FAILED', `cannot fetch the CA root from ${url}: ${(error as Error).message}`);
  });
  if (!res.ok) throw new ChanceryError('ERR_AUDIT_FETCH_FAILED', `GET ${url}/ca/root.pem: HTTP ${res.status}`);
  return parseCertificates(Buffer.from(await res.arrayBuffer()), `${url}/ca/root.pem`);
}

/** Parses --index / --leaf-hash (a receipt is proven by proveReceiptCommand). */
function proofTarget(opts: { index?: string; leafHash?: string }): ProofTarget {
  if ((opts.index === undefined) === (opts.leafHash === undefined)) throw usageError('give exactly one of --index and --leaf-hash');
  if (opts.index !== undefined) {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(opts.index)) throw usageError(`--index: "${opts.index}" is not a non-negative integer`);
    return { index: Number(opts.index) };
  }
  const hash = opts.leafHash!.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hash)) throw usageError('--leaf-hash: expected 64 hex digits');
  return { leafHash: hash };
}

function describeReplay(result: ReplayResult): string {
  if (!result.verify.ok) return `the log does not verify, nothing replayed: ${describeVerify(result.verify, undefined, false)}`;
  const c = result.compared;
  const lines = [
    `replayed ${result.verify.entries} entries: ${c.submissions} submissions, ${c.certificates} certificates, ${c.enterprises} enterprises compared (${c.listed} list rows)`,
  ];
  for (const [kind, d] of Object.entries(result.divergences)) {
    const at = d.first.logIndex === null ? 'no log entry says so' : `log index ${d.first.logIndex} says ${d.first.log}`;
    lines.push(
      `  DIVERGES ${kind}: ${d.first.subject}: ${at}; the service says ${d.first.served}${d.count > 1 ? ` (${d.count} in all)` : ''}`,
    );
  }
  for (const s of result.skipped) lines.push(`  not compared: ${s}`);
  if (result.ok) lines.push('  the service serves what the log says');
  return lines.join('\n');
}

function describeVerify(result: VerifyResult, statePath: string | undefined, stateUpdated: boolean): string {
  if (!result.ok) {
    const at = result.failure.index === null ? '' : ` at index ${result.failure.index}`;
    return `FAILED${at}: ${result.failure.fault}: ${result.failure.message}`;
  }
  return [
    `verified ${result.checkpoint.origin}, size ${result.checkpoint.size}, root ${result.checkpoint.root}`,
    `  ${result.entries} entries (${result.subjects} subjects): canonical, hashes, global and subject chains, Merkle root and checkpoint signature all check out`,
    ...(result.consistentWith.length === 0
      ? []
      : [`  consistent with the trusted checkpoint(s) of size ${result.consistentWith.join(', ')}`]),
    ...(statePath === undefined ? [] : [`  auditor state ${statePath}${stateUpdated ? ' updated' : ' unchanged'}`]),
  ].join('\n');
}

/** Every checkpoint a copy has seen (DIR/checkpoints/<size>.note). */
function copyHistory(dir: string): TrustedCheckpoint[] {
  const history = join(dir, 'checkpoints');
  if (!existsSync(history)) return [];
  return readdirSync(history)
    .filter((f) => /^\d+\.note$/.test(f))
    .map((f) => ({ note: readFileSync(join(history, f)), label: `the checkpoint seen earlier (${join(history, f)})` }));
}

function sizeOf(note: Buffer): number {
  try {
    return parseCheckpoint(parseNote(note).text).size;
  } catch {
    return 0; // verifyLog reports the malformed checkpoint
  }
}

function readVerifierKey(arg: string): string {
  if (existsSync(arg)) return readFileSync(arg, 'utf8').trim();
  if (arg.includes('+')) return arg.trim();
  throw usageError(`--log-key: ${arg} is neither a file nor a verifier key string`);
}

function readInput(file: string, flag: string): Buffer {
  if (!existsSync(file)) throw usageError(`${flag}: ${file} does not exist`);
  return readFileSync(file);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A progress bar on stderr when it is a terminal; otherwise nothing. */
function progressBar(label: string, unit = 'entries'): { update: (done: number, total: number) => void; stop: () => void } {
  if (process.stderr.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% {value}/{total} ${unit} | eta {eta}s`,
    stream: process.stderr,
    hideCursor: true,
  });
  let started = false;
  let stopped = false;
  return {
    update: (done, total) => {
      if (stopped) return;
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop: () => {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
