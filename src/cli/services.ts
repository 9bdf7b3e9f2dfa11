import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { OpenDirectAdmin } from './connect.js';

/**
 * What the commands need from the composed application. The CLI is a transport: it parses
 * flags, calls one of these and prints; the composition root (src/app) supplies them, so the
 * CLI never builds the parts itself.
 */
export interface CliServices {
  /** `chancery serve`: the running service, listening once this resolves. */
  startService(config: Config, logger: Logger): Promise<{ stop(): Promise<void> }>;
  /** `chancery init`: makes the CA hierarchy, service keys and admin credential in the data dir. */
  initialize(config: Config, logger: Logger, options: { adminName: string }): Promise<InitResult>;
  /** `chancery demo`: resolves true only when every step behaved as described. */
  runDemo(options: DemoOptions): Promise<boolean>;
  /** Registry and certificate commands given --data-dir without --url. */
  openDirectAdmin: OpenDirectAdmin;
}

/** What `chancery init` made, as it prints it (`--json`). */
export interface InitResult {
  dataDir: string;
  root: { serial: string; sha256: string; notAfter: string };
  issuing: { serial: string; sha256: string };
  admin: { serial: string; key: string; certificate: string };
  files: { root: string; chain: string; logVkey: string };
  logKey: string;
  /** How many CRL partitions the issuing CA spreads its certificates over, fixed from now on. */
  crlPartitions: number;
}

export interface DemoOptions {
  /** Where the instance lives; default a new temp dir. */
  dataDir?: string;
  /** Keep the data dir (keys, envelopes, receipts under demo/) instead of removing it. */
  keep?: boolean;
  /** One line per step (and a few notes). */
  say: (line: string) => void;
}
