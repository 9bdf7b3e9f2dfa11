import { resolve } from 'node:path';
import { MAX_CRL_PARTITIONS, MIN_CRL_PARTITIONS } from './ca/crl-publisher.js';
import { ChanceryError } from './errors.js';

/** Start-up configuration faults: the message names the variable or flag and what is wrong. */
export type ConfigErrorCode = 'ERR_CONFIG_INVALID' | 'ERR_CONFIG_DATA_DIR' | 'ERR_CONFIG_PORT_IN_USE';
export class ConfigError extends ChanceryError<ConfigErrorCode> {}

/** Validated start-up configuration. Built once by `loadConfig`; never read from env elsewhere. */
export interface Config {
  dataDir: string;
  /** Unset: the embedded PGlite database under `dataDir`. */
  databaseUrl: string | undefined;
  host: string;
  port: number;
  logLevel: LogLevel;
  /** Unset: dev mode, a generated passphrase kept in the data dir (mode 0600). */
  keyPassphrase: string | undefined;
  /**
   * Base URL certificates point at (CRL distribution point, OCSP and caIssuers), without a
   * trailing slash. Unset: http://HOST:PORT of the listening service.
   */
  publicUrl: string | undefined;
  /**
   * CHANCERY_TSA_URL: an outside RFC 3161 TSA (HTTP POST, RFC 3161 §3.4) for the service's own
   * time-stamps. Unset: Chancery's own TSA signs them.
   */
  tsaUrl: string | undefined;
  /**
   * CHANCERY_CRL_PARTITIONS (--crl-partitions): how many CRL partitions the issuing CA spreads its
   * certificates over, chosen at init and stored with the CA; at a later start it must equal the
   * stored count. Unset: the default at init, the stored count afterwards.
   */
  crlPartitions: number | undefined;
  /**
   * CHANCERY_AUGMENT: what the service adds to accepted signatures. `lt` (default): signature
   * time-stamps and, when a workflow ends, the validation data (B-LT); `t`: time-stamps only
   * (B-T); `none`: the envelope is kept as submitted (B-B).
   */
  augment: AugmentLevel;
  /**
   * CHANCERY_ARCHIVE_TIMESTAMP_INTERVAL (seconds): the first checkpoint after each interval is
   * time-stamped (archive time-stamp, src/audit/archive-timestamps.ts). Unset: 600.
   */
  archiveTimestampIntervalMs?: number;
  /**
   * Per-client bucket of refused authentications and login challenges (src/http/rate-limit.ts),
   * from CHANCERY_RATE_LIMIT_PER_SECOND and CHANCERY_RATE_LIMIT_BURST. Unset: the defaults.
   */
  rateLimit?: { perSecond: number; burst: number };
}

export const AUGMENT_LEVELS = ['none', 't', 'lt'] as const;
export type AugmentLevel = (typeof AUGMENT_LEVELS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Values given on the command line; they win over the environment. */
export interface ConfigOverrides {
  dataDir?: string | undefined;
  databaseUrl?: string | undefined;
  host?: string | undefined;
  port?: string | undefined;
  logLevel?: string | undefined;
  publicUrl?: string | undefined;
  crlPartitions?: string | undefined;
}

/**
 * Reads and validates configuration. MUST throw a ConfigError whose message is one line naming
 * the variable (or flag) and the fault; MUST NOT echo a secret value back.
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: ConfigOverrides = {}): Config {
  const pick = (flag: string | undefined, name: string): { value: string | undefined; from: string } =>
    flag !== undefined ? { value: flag, from: `--${kebab(name)}` } : { value: nonEmpty(env[name]), from: name };

  const dataDirIn = pick(overrides.dataDir, 'CHANCERY_DATA_DIR');
  const dataDir = resolve(dataDirIn.value ?? './data');

  const urlIn = pick(overrides.databaseUrl, 'DATABASE_URL');
  const databaseUrl = urlIn.value;
  if (databaseUrl !== undefined) validateDatabaseUrl(databaseUrl, urlIn.from);

  const hostIn = pick(overrides.host, 'HOST');
  const host = hostIn.value ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(host)) {
    throw new ConfigError('ERR_CONFIG_INVALID', `${hostIn.from}: "${host}" is not a host name or IP address`);
  }

  const portIn = pick(overrides.port, 'PORT');
  const port = portIn.value === undefined ? 8080 : parsePort(portIn.value, portIn.from);

  const levelIn = pick(overrides.logLevel, 'LOG_LEVEL');
  const logLevel = (levelIn.value ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('ERR_CONFIG_INVALID', `${levelIn.from}: "${levelIn.value}" is not one of ${LOG_LEVELS.join(', ')}`);
  }

  const keyPassphrase = nonEmpty(env['CHANCERY_KEY_PASSPHRASE']);
  if (keyPassphrase !== undefined && keyPassphrase.length < 12) {
    throw new ConfigError('ERR_CONFIG_INVALID', 'CHANCERY_KEY_PASSPHRASE: must be at least 12 characters');
  }

  const publicUrlIn = pick(overrides.publicUrl, 'CHANCERY_PUBLIC_URL');
  const publicUrl = publicUrlIn.value === undefined ? undefined : parsePublicUrl(publicUrlIn.value, publicUrlIn.from);

  const tsaUrlRaw = nonEmpty(env['CHANCERY_TSA_URL']);
  const tsaUrl = tsaUrlRaw === undefined ? undefined : parseTsaUrl(tsaUrlRaw);

  const partitionsIn = pick(overrides.crlPartitions, 'CHANCERY_CRL_PARTITIONS');
  const crlPartitions = partitionsIn.value === undefined ? undefined : parseCrlPartitions(partitionsIn.value, partitionsIn.from);
  const augment = (nonEmpty(env['CHANCERY_AUGMENT']) ?? 'lt') as AugmentLevel;
  if (!AUGMENT_LEVELS.includes(augment))
    throw new ConfigError('ERR_CONFIG_INVALID', `CHANCERY_AUGMENT: "${augment.slice(0, 32)}" is not one of ${AUGMENT_LEVELS.join(', ')}`);

  const perSecond = positiveNumber(env['CHANCERY_RATE_LIMIT_PER_SECOND'], 'CHANCERY_RATE_LIMIT_PER_SECOND');
  const burst = positiveNumber(env['CHANCERY_RATE_LIMIT_BURST'], 'CHANCERY_RATE_LIMIT_BURST');
  const archiveSeconds = positiveNumber(env['CHANCERY_ARCHIVE_TIMESTAMP_INTERVAL'], 'CHANCERY_ARCHIVE_TIMESTAMP_INTERVAL');
  const rateLimit = perSecond === undefined && burst === undefined ? undefined : { perSecond: perSecond ?? 2, burst: burst ?? 60 };

  return {
    dataDir,
    databaseUrl,
    host,
    port,
    logLevel,
    keyPassphrase,
    publicUrl,
    tsaUrl,
    crlPartitions,
    augment,
    ...(rateLimit === undefined ? {} : { rateLimit }),
    ...(archiveSeconds === undefined ? {} : { archiveTimestampIntervalMs: Math.round(archiveSeconds * 1000) }),
  };
}

function positiveNumber(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(n > 0))
    throw new ConfigError('ERR_CONFIG_INVALID', `${name}: "${raw.slice(0, 32)}" is not a positive number`);
  return n;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function kebab(envName: string): string {
  const map: Record<string, string> = {
    CHANCERY_DATA_DIR: 'data-dir',
    DATABASE_URL: 'database-url',
    HOST: 'host',
    PORT: 'port',
    LOG_LEVEL: 'log-level',
    CHANCERY_PUBLIC_URL: 'public-url',
    CHANCERY_CRL_PARTITIONS: 'crl-partitions',
  };
  return map[envName] ?? envName.toLowerCase();
}

function parsePort(raw: string, from: string): number {
  if (!/^\d{1,5}$/.test(raw)) {
    throw new ConfigError('ERR_CONFIG_INVALID', `${from}: "${raw}" is not a port number (0-65535)`);
  }
  const port = Number(raw);
  if (port > 65535) throw new ConfigError('ERR_CONFIG_INVALID', `${from}: ${port} is out of range (0-65535)`);
  return port;
}

function parseCrlPartitions(raw: string, from: string): number {
  const n = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || n < MIN_CRL_PARTITIONS || n > MAX_CRL_PARTITIONS)
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      `${from}: "${raw.slice(0, 32)}" is not a CRL partition count (an integer from ${MIN_CRL_PARTITIONS} to ${MAX_CRL_PARTITIONS})`,
    );
  return n;
}

function parsePublicUrl(raw: string, from: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('ERR_CONFIG_INVALID', `${from}: not a URL (expected e.g. https://chancery.example.gov.cn)`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new ConfigError('ERR_CONFIG_INVALID', `${from}: must be an http:// or https:// URL without query, fragment or credentials`);
  }
  return url.toString().replace(/\/+$/, '');
}

function parseTsaUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('ERR_CONFIG_INVALID', 'CHANCERY_TSA_URL: not a URL (expected e.g. https://tsa.example.org/tsr)');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hash !== '' || url.username !== '' || url.password !== '')
    throw new ConfigError('ERR_CONFIG_INVALID', 'CHANCERY_TSA_URL: must be an http:// or https:// URL without fragment or credentials');
  return url.toString();
}

function validateDatabaseUrl(raw: string, from: string): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('ERR_CONFIG_INVALID', `${from}: not a URL (expected postgres://user:password@host:port/database)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('ERR_CONFIG_INVALID', `${from}: scheme must be postgres:// or postgresql://, got ${url.protocol}//`);
  }
}

/** A database URL with its password replaced, for logs and error messages. */
export function redactDatabaseUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}
