import { RegistryError } from './errors.js';

/** A person's or organization's name: 1–`max` characters, no control characters, trimmed. */
export function parseName(value: unknown, field: string, max = 200): string {
  if (typeof value !== 'string') throw new RegistryError('ERR_REGISTRY_INVALID', `${field} is required (a string)`, { detail: { field } });
  const trimmed = value.normalize('NFC').trim();
  // eslint-disable-next-line no-control-regex
  if (trimmed.length === 0 || trimmed.length > max || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new RegistryError('ERR_REGISTRY_INVALID', `${field} must be 1–${max} characters without control characters`, {
      detail: { field },
    });
  }
  return trimmed;
}
