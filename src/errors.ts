/**
 * Coded errors. Every failure Chancery reports carries a stable `code` (a string-literal union
 * declared by the part that raises it) usable in a `switch`; the HTTP edge maps codes to
 * statuses in one table (src/http/problem.ts). Messages are for people and MUST NOT contain
 * secrets. This module imports nothing, so every part can depend on it without a cycle.
 */
export interface ChanceryErrorOptions {
  cause?: unknown;
  /** Extra machine-readable fields for the problem document (safe to show a client). */
  detail?: Record<string, unknown>;
}

export class ChanceryError<C extends string = string> extends Error {
  override readonly name: string;
  readonly code: C;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: C, message: string, options: ChanceryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = options.detail;
  }
}

export function isChanceryError(value: unknown): value is ChanceryError {
  return value instanceof ChanceryError;
}
