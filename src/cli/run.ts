import { ChanceryError } from '../errors.js';

/** Exit statuses shared by every command (sysexits-style where one exists). */
export const EXIT = {
  ok: 0,
  failed: 1,
  indeterminate: 2,
  usage: 64,
} as const;

/** Thrown by a command to end with a given status after printing its own output. */
export class ExitCode extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

/**
 * Wraps a command action: a ChanceryError becomes one line on stderr and exit status 1, never a
 * stack trace; anything unexpected prints its message (the stack only with CHANCERY_DEBUG=1).
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };
}

export function reportError(error: unknown): number {
  if (error instanceof ExitCode) return error.status;
  if (error instanceof ChanceryError) {
    process.stderr.write(`chancery: ${error.message}\n`);
    return error.code === 'ERR_CLI_USAGE' ? EXIT.usage : EXIT.failed;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`chancery: unexpected error: ${message}\n`);
  if (process.env['CHANCERY_DEBUG'] === '1' && error instanceof Error && error.stack !== undefined) {
    process.stderr.write(`${error.stack}\n`);
  }
  return EXIT.failed;
}

/** Prints data as JSON (for `--json`) or as the human text the command made. */
export function print(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}
