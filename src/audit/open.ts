import type { KeyStore } from '../crypto/key-store.js';
import type { Database } from '../db/types.js';
import type { Logger } from '../log.js';
import { Checkpointer } from './checkpointer.js';
import { openLogKey, type LogKey } from './log-key.js';
import { proveLogAtStart } from './prove-start.js';
import { LogReader } from './reader.js';
import { GroupCommitLog } from './sequencer.js';
import type { AuditLog } from './types.js';

export interface AuditPart {
  /** Append side for the other parts: `log.record((tx, append) => …)`. */
  log: AuditLog;
  /** Read side (checkpoints, entries, proofs) for the HTTP API. */
  reader: LogReader;
  logKey: LogKey;
  checkpointer: Checkpointer;
  /** Finishes queued appends, publishes a last checkpoint, stops timers. Idempotent. */
  close(): Promise<void>;
}

export interface OpenAuditOptions {
  db: Database;
  keyStore: KeyStore;
  dataDir: string;
  logger: Logger;
  clock?: () => Date;
  checkpointDelayMs?: number;
  checkpointPollMs?: number;
}

/**
 * Opens the audit log of a migrated database: the log key (created when missing), the start-up
 * proof of the database's log (src/audit/prove-start.ts: refuses to run when the database is
 * behind, disagrees with a signed checkpoint, or its stored hashes are not its entries'), the
 * checkpoint publisher, and the group-commit writer.
 */
export async function openAudit(options: OpenAuditOptions): Promise<AuditPart> {
  const logKey = await openLogKey(options.keyStore, options.dataDir);
  await proveLogAtStart(options.db, logKey, options.dataDir, options.logger);
  const checkpointer = new Checkpointer({
    db: options.db,
    logKey,
    dataDir: options.dataDir,
    logger: options.logger,
    ...(options.checkpointDelayMs === undefined ? {} : { delayMs: options.checkpointDelayMs }),
    ...(options.checkpointPollMs === undefined ? {} : { pollMs: options.checkpointPollMs }),
  });
  await checkpointer.start();
  const log = new GroupCommitLog({
    db: options.db,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    onCommitted: () => checkpointer.notify(),
  });
  let closing: Promise<void> | undefined;
  return {
    log,
    reader: new LogReader(options.db),
    logKey,
    checkpointer,
    close: () => {
      closing ??= (async () => {
        // An archive time-stamp being taken records its entry before the log closes.
        await checkpointer.stopArchiving();
        await log.close();
        await checkpointer.stop();
        // Prove what this run appended now, so the next start has only the rest to re-hash.
        await proveLogAtStart(options.db, logKey, options.dataDir, options.logger, { when: 'stop' }).catch((error: unknown) =>
          options.logger.error({ err: error }, 'the audit log did not prove at stop; the next start will refuse or re-hash'),
        );
      })();
      return closing;
    },
  };
}
