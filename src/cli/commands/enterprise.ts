import { existsSync, statSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { ImportFormat, ImportReport } from '../../registry/import.js';
import type { Enterprise } from '../../registry/types.js';
import { connect, type OpenDirectAdmin } from '../connect.js';
import { usageError } from '../errors.js';
import { EXIT, ExitCode, action, print } from '../run.js';
import { withConnection, type ConnectionFlags } from './connection-options.js';

const describe = (e: Enterprise): string =>
  `${e.uscc}  ${e.status.padEnd(12)} ${e.division}  ${e.name}${e.checkOverridden ? '  (legacy code, check overridden)' : ''}${e.statusReason === null ? '' : `  — ${e.statusReason}`}`;

/**
 * `chancery enterprise register|show|revoke|deregister|list` (admin). `revoke` is the authority
 * revoking a licence (the enterprise joins the revoked-enterprise list); `deregister` is an
 * enterprise closing at its own request. Both revoke all its certificates.
 */
export function registerEnterprise(program: Command, openDirect: OpenDirectAdmin): void {
  const enterprise = program.command('enterprise').description('the enterprise registry (admin)');

  withConnection(enterprise.command('register').description('register an enterprise by its USCC'))
    .requiredOption('--uscc <code>', '18-character unified social credit code')
    .requiredOption('--name <name>', 'registered name')
    .option('--override-check', 'accept a legacy code whose check characters fail')
    .action(
      action(async (opts: ConnectionFlags & { uscc: string; name: string; overrideCheck?: boolean }) => {
        const client = await connect(opts, openDirect);
        try {
          const e = await client.registerEnterprise({
            uscc: opts.uscc,
            name: opts.name,
            ...(opts.overrideCheck === true ? { overrideCheck: true } : {}),
          });
          print(opts.json === true, e, () => `registered ${describe(e)}`);
        } finally {
          await client.close();
        }
      }),
    );

  withConnection(enterprise.command('show').description('show an enterprise'))
    .requiredOption('--uscc <code>', 'unified social credit code')
    .action(
      action(async (opts: ConnectionFlags & { uscc: string }) => {
        const client = await connect(opts, openDirect);
        try {
          const e = await client.getEnterprise(opts.uscc);
          print(opts.json === true, e, () => describe(e));
        } finally {
          await client.close();
        }
      }),
    );

  withConnection(
    enterprise.command('revoke').description("revoke an enterprise's licence: all its certificates are revoked (cessationOfOperation)"),
  )
    .requiredOption('--uscc <code>', 'unified social credit code')
    .option('--reason <text>', 'why (recorded with the revocation)')
    .action(
      action(async (opts: ConnectionFlags & { uscc: string; reason?: string }) => {
        const client = await connect(opts, openDirect);
        try {
          const r = await client.revokeEnterprise(opts.uscc, opts.reason);
          print(
            opts.json === true,
            r,
            () =>
              `revoked ${describe(r.enterprise)}\n  certificates revoked: ${r.revokedCertificates.length === 0 ? 'none' : r.revokedCertificates.join(', ')}`,
          );
        } finally {
          await client.close();
        }
      }),
    );

  withConnection(
    enterprise
      .command('deregister')
      .description('deregister an enterprise that closes at its own request: all its certificates are revoked (cessationOfOperation)'),
  )
    .requiredOption('--uscc <code>', 'unified social credit code')
    .option('--reason <text>', "why (recorded with the deregistration; default 'deregistered at its own request')")
    .action(
      action(async (opts: ConnectionFlags & { uscc: string; reason?: string }) => {
        const client = await connect(opts, openDirect);
        try {
          const r = await client.deregisterEnterprise(opts.uscc, opts.reason);
          print(
            opts.json === true,
            r,
            () =>
              `deregistered ${describe(r.enterprise)}\n  certificates revoked: ${r.revokedCertificates.length === 0 ? 'none' : r.revokedCertificates.join(', ')}`,
          );
        } finally {
          await client.close();
        }
      }),
    );

  withConnection(
    enterprise
      .command('import')
      .description(
        'bulk import of a registry file: CSV with a header (uscc,name,division,status,revokedAt,reason) or JSON Lines; each batch commits with its audit entries or not at all',
      ),
  )
    .requiredOption('--in <file>', 'the file (.csv, or .jsonl/.ndjson)')
    .option('--format <format>', 'csv | jsonl (default: from the file name)')
    .option('--from-line <n>', 'resume: skip the records before this line (the resumeFromLine of a stopped import)')
    .option('--batch <n>', 'lines per transaction (default 5000)')
    .option('--part-lines <n>', 'over HTTP: lines per request (default: sized to take about 15 s each)')
    .option('--check', 'validate the whole file (and look for USCCs already registered) without writing anything')
    .action(
      action(
        async (
          opts: ConnectionFlags & { in: string; format?: string; fromLine?: string; batch?: string; partLines?: string; check?: boolean },
        ) => {
          const format = importFormat(opts.in, opts.format);
          const fromLine = positive(opts.fromLine, '--from-line');
          const batchSize = positive(opts.batch, '--batch');
          const partLines = positive(opts.partLines, '--part-lines');
          if (!existsSync(opts.in) || !statSync(opts.in).isFile()) throw usageError(`${opts.in} is not a file`);
          const total = statSync(opts.in).size;
          const client = await connect(opts, openDirect);
          const bar = opts.json === true ? undefined : progressBar(total);
          let report: ImportReport;
          try {
            report = await client.importEnterprises({
              path: opts.in,
              format,
              ...(fromLine === undefined ? {} : { fromLine }),
              ...(batchSize === undefined ? {} : { batchSize }),
              ...(partLines === undefined ? {} : { partLines }),
              ...(opts.check === true ? { checkOnly: true } : {}),
              onProgress: (bytes) => bar?.update(bytes),
            });
          } finally {
            bar?.stop();
            await client.close();
          }
          print(opts.json === true, report, () => describeImport(report));
          if (!report.complete) throw new ExitCode(EXIT.failed);
        },
      ),
    );

  withConnection(enterprise.command('list').description('list enterprises (--status revoked: the revoked-enterprise list)'))
    .option('--status <status>', 'active | revoked | deregistered')
    .option('--after <uscc>', 'page after this USCC')
    .option('--limit <n>', 'page size (1–500, default 100)')
    .action(
      action(async (opts: ConnectionFlags & { status?: string; after?: string; limit?: string }) => {
        const client = await connect(opts, openDirect);
        try {
          const page = await client.listEnterprises({ status: opts.status, after: opts.after, limit: opts.limit });
          print(opts.json === true, page, () => (page.items.length === 0 ? '(none)' : page.items.map(describe).join('\n')));
        } finally {
          await client.close();
        }
      }),
    );
}

function importFormat(path: string, given: string | undefined): ImportFormat {
  const format = given ?? (/\.csv$/i.test(path) ? 'csv' : /\.(jsonl|ndjson)$/i.test(path) ? 'jsonl' : undefined);
  if (format === undefined) throw usageError('cannot tell the format from the file name: give --format csv or --format jsonl');
  if (format !== 'csv' && format !== 'jsonl') throw usageError(`--format must be csv or jsonl, not ${format}`);
  return format;
}

function positive(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9]\d{0,15}$/.test(value)) throw usageError(`${flag} must be a positive integer`);
  return Number(value);
}

function describeImport(r: ImportReport): string {
  const lines = [
    r.checkOnly
      ? `checked ${r.lines} lines: ${r.valid} valid records, ${r.errors.length}${r.errorsTruncated ? '+' : ''} bad lines`
      : `imported ${r.imported} enterprises (${r.revoked} revoked, ${r.deregistered} deregistered) in ${r.batches} batches, ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.perSecond}/s`,
  ];
  for (const e of r.errors) lines.push(`  line ${e.line}: ${e.code}: ${e.message}`);
  if (r.errorsTruncated) lines.push('  … more bad lines not listed');
  if (!r.complete && !r.checkOnly) {
    lines.push(
      `stopped: every record through line ${r.committedThroughLine ?? '(none)'} is committed, nothing after it; fix the file and run again with --from-line ${r.resumeFromLine}`,
    );
  }
  return lines.join('\n');
}

/** A progress bar over the file's bytes on stderr when it is a terminal; otherwise nothing. */
function progressBar(total: number): { update: (bytes: number) => void; stop: () => void } | undefined {
  if (process.stderr.isTTY !== true) return undefined;
  const bar = new SingleBar({
    format: 'import [{bar}] {percentage}% {value}/{total} MB | eta {eta}s',
    stream: process.stderr,
    hideCursor: true,
  });
  const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;
  bar.start(mb(total), 0);
  return { update: (bytes) => bar.update(mb(bytes)), stop: () => bar.stop() };
}
