import type { Request } from 'express';
import { AuditError } from '../../audit/errors.js';
import type { ConsistencyProof, EntriesPage, InclusionProof } from '../../audit/reader.js';
import type { StoredArchiveTimestamp } from '../../audit/archive-timestamps.js';
import type { StoredCheckpoint } from '../../audit/store.js';
import type { RouteTable } from '../routes.js';

/** The log's read side as these routes use it. */
export interface LogReads {
  latestCheckpoint(): Promise<StoredCheckpoint>;
  entries(start: number, end: number): Promise<EntriesPage>;
  inclusionProof(index: number, size: number): Promise<InclusionProof>;
  inclusionProofByLeafHash(leafHashHex: string, size: number): Promise<InclusionProof>;
  consistencyProof(from: number, to: number): Promise<ConsistencyProof>;
  archiveTimestamp(size?: number): Promise<StoredArchiveTimestamp>;
}

export interface LogRouteDeps {
  reader: LogReads;
  /** The log's C2SP verifier key, `<origin>+<key ID>+<key>`. */
  vkey: string;
}

/**
 * The audit log's public API: verifier key, latest signed checkpoint,
 * entry pages and Merkle proofs. Parameters are decimal integers; anything else, or out of range,
 * is a 400 problem (ERR_AUDIT_RANGE).
 */
export function logRoutes(deps: LogRouteDeps): (table: RouteTable) => void {
  return (table) => {
    table.add('get', '/log/key', (_req, res) => {
      res.type('text/plain; charset=utf-8').send(`${deps.vkey}\n`);
    });

    table.add('get', '/log/checkpoint', async (_req, res) => {
      const checkpoint = await deps.reader.latestCheckpoint();
      res.setHeader('Cache-Control', 'no-cache');
      res.type('text/plain; charset=utf-8').send(checkpoint.note);
    });

    table.add('get', '/log/entries', async (req, res) => {
      const start = integerParam(req, 'start');
      const end = integerParam(req, 'end');
      res.json(await deps.reader.entries(start, end));
    });

    table.add('get', '/log/proof/inclusion', async (req, res) => {
      const size = optionalParam(req, 'size') ?? (await deps.reader.latestCheckpoint()).size;
      const leafHash = stringParam(req, 'leafHash');
      if (leafHash !== undefined) {
        if (req.query['index'] !== undefined) throw new AuditError('ERR_AUDIT_RANGE', 'give index or leafHash, not both');
        res.json(await deps.reader.inclusionProofByLeafHash(leafHash, size));
        return;
      }
      res.json(await deps.reader.inclusionProof(integerParam(req, 'index'), size));
    });

    table.add('get', '/log/proof/consistency', async (req, res) => {
      res.json(await deps.reader.consistencyProof(integerParam(req, 'from'), integerParam(req, 'to')));
    });

    // The archive time-stamped checkpoint covering a tree of `size` entries (the smallest at or
    // above it), or the latest: its signed note and the RFC 3161 token over the note's SHA-256.
    table.add('get', '/api/v1/log/timestamps', async (req, res) => {
      const t = await deps.reader.archiveTimestamp(optionalParam(req, 'size'));
      res.json({
        treeSize: t.treeSize,
        note: t.note,
        token: t.token.toString('base64'),
        genTime: t.genTime.toISOString(),
        tsaCertificateSha256: t.tsaCertificateSha256,
        logIndex: t.logIndex,
      });
    });
  };
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

function stringParam(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AuditError('ERR_AUDIT_RANGE', `${name} must be given once`);
  return value;
}

function optionalParam(req: Request, name: string): number | undefined {
  const value = stringParam(req, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isSafeInteger(n))
    throw new AuditError('ERR_AUDIT_RANGE', `${name} must be a non-negative decimal integer`);
  return n;
}

function integerParam(req: Request, name: string): number {
  const n = optionalParam(req, name);
  if (n === undefined) throw new AuditError('ERR_AUDIT_RANGE', `${name} is required`);
  return n;
}
