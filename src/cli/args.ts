/**
 * The checked conversions of option values (text to number, size, choice), for the option tables
 * of options.ts. Each takes the text and the option as the user wrote it ("masks: --p1", for the
 * message) and returns the value, or throws a UsageError of one line.
 */
import { XaiError } from '../errors.js';
import { MAX_SIDE, type InputSize } from '../io/input.js';

/** A mistake in the command line itself: printed with a pointer to --help, exit code 2. */
export class UsageError extends XaiError {
  override name = 'UsageError';
}

/** A value parser: `flag` is "command: --name", the start of its error message. */
export type ValueParser<T> = (text: string, flag: string) => T;

/**
 * RISE masks per run (--masks, masks --n): 25 times the paper's 4000. Time grows linearly with N
 * (a forward per mask) and `masks` writes N·H·W·4 bytes, so a typo of a few zeros is refused.
 */
export const MAX_MASKS = 100_000;
/** Mask seeds are 32-bit words: a larger seed would silently wrap around to a smaller one. */
export const MAX_SEED = 2 ** 32 - 1;

/** A whole number in [min, max] written in decimal digits ("", " ", "1e3", "0x10", "-1" are refused). */
export function wholeNumber(min = 1, max = Number.MAX_SAFE_INTEGER): ValueParser<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`;
  return (text, flag) => {
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(n >= min && n <= max)) throw new UsageError(`${flag} must be a whole number ${range}, got "${text}"`);
    return n;
  };
}

/** A comma-separated list of values of `item` ("1,32"). */
export function listOf<T>(item: ValueParser<T>): ValueParser<T[]> {
  return (text, flag) => text.split(',').map((part) => item(part, flag));
}

/** A number > 0 (a fraction allowed). */
export const positiveNumber: ValueParser<number> = (text, flag) => {
  const x = text.trim() === '' ? NaN : Number(text);
  if (!(x > 0)) throw new UsageError(`${flag} must be > 0, got "${text}"`);
  return x;
};

/** RISE's keep probability: a number in (0, 1]. */
export const probability: ValueParser<number> = (text, flag) => {
  const p = text.trim() === '' ? NaN : Number(text);
  if (!(p > 0 && p <= 1)) throw new UsageError(`${flag} must be in (0, 1], got "${text}"`);
  return p;
};

/** "224" or "224x192" (height x width), each side 1..MAX_SIDE (4096). */
export const inputSize: ValueParser<InputSize> = (text, flag) => {
  const m = /^(\d+)(?:x(\d+))?$/.exec(text);
  const height = m ? Number(m[1]) : NaN;
  const width = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(height >= 1 && width >= 1))
    throw new UsageError(`${flag} must be N or HxW (e.g. 224 or 224x192), got "${text}"`);
  if (height > MAX_SIDE || width > MAX_SIDE)
    throw new UsageError(`${flag} ${text} is over the limit of ${MAX_SIDE} per side`);
  return { height, width };
};

/** One of `values`; `noun` ("method") names them in the message. */
export function oneOf<T extends string>(values: readonly T[], noun?: string): ValueParser<T> {
  return (text, flag) => {
    const v = text.trim();
    if (values.includes(v as T)) return v as T;
    throw new UsageError(
      noun
        ? `${flag}: unknown ${noun} "${v}" (${noun}s: ${values.join(', ')})`
        : `${flag} must be one of ${values.join(', ')}, got "${text}"`,
    );
  };
}
