// Strict parsing of numeric command-line options: a bad value is one clear line and exit 2.
import { CliError } from './errors.js';

export function parseIntOption(flag: string, text: string, min: number, max: number): number {
  const value = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new CliError('BAD_OPTION', `${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/** A lease id from the command line: a whole number >= 1. */
export function parseLeaseId(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) throw new CliError('BAD_LEASE_ID', `"${text}" is not a lease id (a whole number >= 1)`);
  return Number(text);
}
