import { usageError } from '../errors.js';

/** The passphrase in the named environment variable (never on the command line). */
export function passphraseFrom(variable: string | undefined): string | undefined {
  if (variable === undefined) return undefined;
  const value = process.env[variable];
  if (value === undefined || value === '') throw usageError(`--passphrase-env: ${variable} is not set`);
  return value;
}
