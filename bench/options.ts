/**
 * A benchmark's command-line options, each declared by its default: a string ('224'), a flag
 * (false) or a string with no default (undefined). Numbers stay text, for the benchmark to read.
 */
import { parseArgs } from 'node:util';

type Defaults = Record<string, string | boolean | undefined>;
type Values<D extends Defaults> = {
  [K in keyof D]: D[K] extends boolean ? boolean : D[K] extends string ? string : string | undefined;
};

export function benchOptions<D extends Defaults>(defaults: D): Values<D> {
  const options = Object.fromEntries(
    Object.entries(defaults).map(([name, d]) => [
      name,
      typeof d === 'boolean'
        ? { type: 'boolean' as const, default: d }
        : { type: 'string' as const, ...(d === undefined ? {} : { default: d }) },
    ]),
  );
  return parseArgs({ options }).values as Values<D>;
}
