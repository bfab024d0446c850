/**
 * Every command-line option declared once — name, value placeholder, help, default, check — in one
 * table per command (shared groups, below, spread in); the parser and the command's --help come
 * from it, and main.ts lists the command (COMMANDS) for the main --help and the tests:
 *
 *   export const PREDICT = defineCommand({
 *     name: 'predict', summary: 'classify an image', about: 'Classifies ...',
 *     options: {
 *       ...WEIGHTS, ...SIZE,                                 // shared: --weights, --size
 *       top: { arg: 'K', help: 'how many classes to print', default: 5, parse: wholeNumber() },
 *       out: { arg: 'DIR', help: 'where to write', required: true },
 *       resume: { help: 'a flag: no arg, true when given' },
 *     },
 *   });
 *
 *   const { values: v, given } = parseOptions(PREDICT, argv); // v.top: number, v.out: string
 *
 * (--help never reaches a command: main.ts answers it from the declaration.)
 *
 * A value with no `parse` is the text as given; one that is neither `required` nor has a
 * `default` may be undefined; `given` says which options the command line named.
 */
import { parseArgs } from 'node:util';
import { CAM_DEFAULTS } from '../explain/cam.js';
import { RISE_DEFAULTS } from '../explain/rise.js';
import { DEFAULT_SIZE, type InputSize } from '../io/input.js';
import { DEFAULT_STEP } from '../metrics/causal.js';
import type { StorageType } from '../gpu/tensor.js';
import {
  inputSize,
  MAX_MASKS,
  MAX_SEED,
  oneOf,
  probability,
  UsageError,
  wholeNumber,
  type ValueParser,
} from './args.js';

export interface Option<T = unknown> {
  /** The value's placeholder in help ("N"); an option without one is a flag (true when given). */
  arg?: string;
  /** Help text: lines joined by "\n", "(default …)" is added from `default` or `defaultText`. */
  help: string;
  /** The value when the option is not given. */
  default?: T;
  /** The default as help states it, where it is not a constant (or not this module's to pass). */
  defaultText?: string;
  required?: boolean;
  /** May be given several times: the values in order. */
  repeat?: boolean;
  /** The text's checked value (args.ts); without it the value is the text. */
  parse?: ValueParser<T>;
  /** A heading in help, above the first option of the group. */
  group?: string;
}

export type OptionTable = Record<string, Option>;

export interface Command<O extends OptionTable = OptionTable> {
  name: string;
  /** One line, for the list of commands. */
  summary: string;
  /** Arguments other than options, as help shows them ("DIR..."); absent: none are taken. */
  positionals?: string;
  /** What the command does: the help's paragraph under the usage line. */
  about: string;
  options: O;
  /** Text after the options (environment variables, ...). */
  notes?: string;
}

/** The option table's values, as the command sees them. */
type Parsed<O> = O extends { arg: string } ? (O extends { parse: ValueParser<infer T> } ? T : string) : boolean;
type Value<O> = O extends { arg: string }
  ? O extends { repeat: true }
    ? Parsed<O>[]
    : O extends { required: true } | { default: unknown }
      ? Parsed<O>
      : Parsed<O> | undefined
  : boolean;
export type Values<O extends OptionTable> = { [K in keyof O]: Value<O[K]> } & { help: boolean };

/** Declares a command, keeping its table's exact type (for the values' types). */
export const defineCommand = <O extends OptionTable>(command: Command<O>): Command<O> => command;
/** Declares a group of options for several commands' tables. */
export const defineOptions = <O extends OptionTable>(options: O): O => options;

/** The options of `argv` checked against the command's table; positionals only where it takes them. */
export function parseOptions<O extends OptionTable>(
  command: Command<O>,
  argv: string[],
): { values: Values<O>; given: ReadonlySet<string>; positionals: string[] } {
  const name = command.name;
  const config = Object.fromEntries(
    Object.entries(command.options).map(([key, o]) => [
      key,
      { type: o.arg ? 'string' : 'boolean', multiple: !!o.repeat } as const,
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...config, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${name}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!command.positionals && parsed.positionals.length)
    throw new UsageError(`${name}: unexpected argument "${parsed.positionals[0]}"`);
  const raw = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const values: Record<string, unknown> = { help: !!raw.help };
  if (raw.help) return { values: values as Values<O>, given: new Set(), positionals: parsed.positionals };
  for (const [key, o] of Object.entries(command.options)) {
    const text = raw[key];
    const flag = `${name}: --${key}`;
    if (!o.arg) values[key] = !!text;
    else if (text === undefined || (text === '' && o.required) || (Array.isArray(text) && text.length === 0)) {
      if (o.required) throw new UsageError(`${flag} is required`);
      values[key] = o.repeat ? [] : o.default;
    } else {
      const one = (t: string) => (o.parse ? o.parse(t, flag) : t);
      values[key] = Array.isArray(text) ? text.map(one) : one(text as string);
    }
  }
  const given = new Set(Object.keys(command.options).filter((key) => raw[key] !== undefined));
  return { values: values as Values<O>, given, positionals: parsed.positionals };
}

/** The command's --help: usage, what it does, its options (each with its default), notes. */
export function helpText(command: Command): string {
  const entries = Object.entries(command.options);
  const label = (key: string, o: Option) => `--${key}${o.arg ? ` ${o.arg}` : ''}`;
  const width = Math.max(14, ...entries.map(([key, o]) => label(key, o).length + 2));
  const indent = ' '.repeat(2 + width);
  const lines: string[] = [];
  let group: string | undefined;
  for (const [key, o] of entries) {
    if (o.group !== group) {
      group = o.group;
      lines.push('', ...(group ? [`${group}:`] : []));
    }
    const def =
      o.defaultText !== undefined
        ? ` (default: ${o.defaultText})`
        : o.default !== undefined
          ? ` (default ${showValue(o.default)})`
          : '';
    const help = `${o.help}${def}`.split('\n');
    lines.push(`  ${label(key, o).padEnd(width)}${help[0]}`, ...help.slice(1).map((l) => indent + l));
  }
  lines.push(`  ${'-h, --help'.padEnd(width)}this text`);
  return `Usage: ${usageLine(command)}\n\n${command.about}\n\n${lines.join('\n')}\n${command.notes ? `\n${command.notes}\n` : ''}`;
}

/** "webgpu-xai masks --n N --size S --out DIR [options]": the required options, then the rest. */
export function usageLine(command: Command): string {
  const parts = ['webgpu-xai', command.name];
  if (command.positionals) parts.push(command.positionals);
  for (const [key, o] of Object.entries(command.options)) {
    if (o.required) parts.push(`--${key} ${o.arg}${o.repeat ? ` [--${key} ${o.arg} ...]` : ''}`);
  }
  if (Object.values(command.options).some((o) => !o.required)) parts.push('[options]');
  return parts.join(' ');
}

/** A default as the command line writes it: 224 (or 224x192) for a size, 1,32 for a list. */
export function showValue(v: unknown): string {
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'object' && v !== null && 'height' in v) {
    const { height, width } = v as InputSize;
    return height === width ? `${height}` : `${height}x${width}`;
  }
  return String(v);
}

// Options several commands share, declared once.

export const WEIGHTS = defineOptions({
  weights: {
    arg: 'W',
    required: true,
    help: 'ResNet-18/34/50/101/152 state_dict saved by torch.save (.pth) or a .safetensors file;\nany class count (read from the keys)',
  },
});

export const SIZE = defineOptions({
  size: { arg: 'S', help: 'model input size for images: N or HxW', default: DEFAULT_SIZE, parse: inputSize },
});

/** The batch of the scoring forwards (Abs-CAM Final, Score-CAM, RISE, insertion/deletion). */
export const FORWARD_BATCH = defineOptions({
  batch: {
    arg: 'B',
    parse: wholeNumber(),
    help: 'images per forward of the scoring passes (Abs-CAM Final, Score-CAM,\nRISE, insertion/deletion)',
    defaultText: "from the adapter's limits (ResNet.defaultBatch):\n32 for a ResNet-18 at 224, 64 at 112",
  },
});

/** How the scoring forwards store activations and weights (ResNet.precision). */
export const PRECISION = defineOptions({
  precision: {
    arg: 'P',
    default: 'f32' as StorageType,
    parse: oneOf<StorageType>(['f32', 'f16']),
    help: 'f32, or f16: the scoring forwards store activations and weights in half\nprecision (sums stay f32; needs shader-f16; gradients stay f32)',
  },
});

export const STEP = defineOptions({
  step: { arg: 'N', help: 'pixels per insertion/deletion step', default: DEFAULT_STEP, parse: wholeNumber() },
});

export const LAYER = defineOptions({
  layer: {
    arg: 'L',
    help: 'block output the CAM methods explain at: layer1..layer4 or layerX.Y',
    defaultText: CAM_DEFAULTS.layer,
  },
});

/** The RISE mask settings (explain, masks, evaluate-dataset). */
export const RISE_GRID = defineOptions({
  grid: { arg: 'S', help: 'grid size s', default: RISE_DEFAULTS.grid, parse: wholeNumber(), group: 'RISE' },
  p1: {
    arg: 'P',
    help: 'keep probability of binary masks, in (0, 1]',
    default: RISE_DEFAULTS.p1,
    parse: probability,
    group: 'RISE',
  },
  seed: {
    arg: 'K',
    help: `mask seed, 0..${MAX_SEED}; the same seed gives the same masks\non any device and batch`,
    default: RISE_DEFAULTS.seed,
    parse: wholeNumber(0, MAX_SEED),
    group: 'RISE',
  },
});

export const RISE_OPTIONS = defineOptions({
  masks: {
    arg: 'N',
    help: `number of masks, 1..${MAX_MASKS}`,
    default: RISE_DEFAULTS.masks,
    parse: wholeNumber(1, MAX_MASKS),
    group: 'RISE',
  },
  ...RISE_GRID,
});
