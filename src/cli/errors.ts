import { ChanceryError } from '../errors.js';

/** Faults of the command line itself (never raised by the service). */
export type CliErrorCode = 'ERR_CLI_USAGE' | 'ERR_CLI_FILE_EXISTS' | 'ERR_CLI_KEY_MISMATCH';
export class CliError extends ChanceryError<CliErrorCode> {}

/** A usage fault: the command exits 64 with this message. */
export function usageError(message: string): CliError {
  return new CliError('ERR_CLI_USAGE', message);
}
