/** Command-line parsing shared by the commands: node:util parseArgs plus checked conversions. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { XaiError } from '../errors.js';
import type { InputSize } from '../io/input.js';

/** A mistake in the command line itself: printed with a pointer to --help, exit code 2. */
export class UsageError extends XaiError {
  override name = 'UsageError';
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse(command: string, argv: string[], options: Options): Record<string, string | boolean | undefined> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if (positionals.length) throw new UsageError(`${command}: unexpected argument "${positionals[0]}"`);
    return values as Record<string, string | boolean | undefined>;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${command}: ${(e as Error).message.split('\n')[0]}`);
  }
}

export function required(command: string, values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`${command}: --${name} is required`);
  return v;
}

export function intOption(command: string, value: unknown, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${command}: --${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/** "224" or "224x192" (height x width). */
export function sizeOption(command: string, value: unknown, fallback: InputSize): InputSize {
  if (value === undefined) return fallback;
  const m = /^(\d+)(?:x(\d+))?$/.exec(String(value));
  const height = m ? Number(m[1]) : NaN;
  const width = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(height >= 1 && width >= 1)) throw new UsageError(`${command}: --size must be N or HxW (e.g. 224 or 224x192), got "${value}"`);
  return { height, width };
}
