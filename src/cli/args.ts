/** Command-line parsing shared by the commands: node:util parseArgs plus checked conversions. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { XaiError } from '../errors.js';
import { MAX_SIDE, type InputSize } from '../io/input.js';

/** A mistake in the command line itself: printed with a pointer to --help, exit code 2. */
export class UsageError extends XaiError {
  override name = 'UsageError';
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** The options of `argv`; its other arguments go into `positionals` where given, else they are refused. */
export function parse(command: string, argv: string[], options: Options, positionals?: string[]): Record<string, string | boolean | undefined> {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    const values = parsed.values;
    if (positionals) positionals.push(...parsed.positionals);
    else if (parsed.positionals.length) throw new UsageError(`${command}: unexpected argument "${parsed.positionals[0]}"`);
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

/**
 * RISE masks per run (--masks, masks --n): 25 times the paper's 4000. Time grows linearly with N
 * (a forward per mask) and `masks` writes N·H·W·4 bytes, so a typo of a few zeros is refused.
 */
export const MAX_MASKS = 100_000;
/** Mask seeds are 32-bit words: a larger seed would silently wrap around to a smaller one. */
export const MAX_SEED = 2 ** 32 - 1;

/** A whole number in [min, max] written in decimal digits ("", " ", "1e3", "0x10", "-1" are refused). */
export function intOption(command: string, value: unknown, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(String(value)) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(`${command}: --${name} must be a whole number ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`}, got "${value}"`);
  }
  return n;
}

/** --seed: 0..2^32 − 1 (default 0). */
export function seedOption(command: string, value: unknown): number {
  return intOption(command, value, 'seed', 0, 0, MAX_SEED);
}

/** --masks / masks --n: 1..MAX_MASKS. */
export function masksOption(command: string, value: unknown, name: string, fallback: number): number {
  return intOption(command, value, name, fallback, 1, MAX_MASKS);
}

/** --p1, RISE's keep probability: a number in (0, 1] (default 0.5). */
export function p1Option(command: string, value: unknown): number {
  if (value === undefined) return 0.5;
  const p = String(value).trim() === '' ? NaN : Number(value);
  if (!(p > 0 && p <= 1)) throw new UsageError(`${command}: --p1 must be in (0, 1], got "${value}"`);
  return p;
}

/** "224" or "224x192" (height x width), each side 1..MAX_SIDE (4096). */
export function sizeOption(command: string, value: unknown, fallback: InputSize): InputSize {
  if (value === undefined) return fallback;
  const m = /^(\d+)(?:x(\d+))?$/.exec(String(value));
  const height = m ? Number(m[1]) : NaN;
  const width = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(height >= 1 && width >= 1)) throw new UsageError(`${command}: --size must be N or HxW (e.g. 224 or 224x192), got "${value}"`);
  if (height > MAX_SIDE || width > MAX_SIDE) throw new UsageError(`${command}: --size ${value} is over the limit of ${MAX_SIDE} per side`);
  return { height, width };
}
