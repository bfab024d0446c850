/**
 * The `webgpu-xai` command. Every failure the user can cause ends in one line on stderr and a
 * non-zero exit code (2 for a bad command line, 1 for bad input or environment); our bugs (an
 * internal error, a GPU validation error naming its kernels) exit 70 and print their stack only
 * with WEBGPU_XAI_DEBUG=1.
 */
import { GpuValidationError, XaiError } from '../errors.js';
import { UsageError } from './args.js';
import { EVALUATE_DATASET, evaluateDatasetCommand } from './evaluate-dataset.js';
import { EVALUATE, evaluate } from './evaluate.js';
import { EXPLAIN, explain } from './explain.js';
import { MASKS, masks } from './masks.js';
import { MERGE, merge } from './merge.js';
import { helpText, parseOptions, type Command } from './options.js';
import { PREDICT, predict } from './predict.js';
import { REPORT, report } from './report.js';
import { TUNE, tune } from './tune.js';

type Run = (argv: string[], log: (s: string) => void) => Promise<number>;

/** Every command: its declaration (name, summary, options: options.ts) and what runs it. */
export const COMMANDS: readonly { spec: Command; run: Run }[] = [
  { spec: PREDICT, run: predict },
  { spec: EXPLAIN, run: explain },
  { spec: MASKS, run: masks },
  { spec: EVALUATE, run: evaluate },
  { spec: EVALUATE_DATASET, run: evaluateDatasetCommand },
  { spec: REPORT, run: report },
  { spec: MERGE, run: merge },
  { spec: TUNE, run: tune },
];

const MAIN_HELP = `Usage: webgpu-xai <command> [options]

Commands:
${COMMANDS.map(({ spec }) => `  ${spec.name.padEnd(17)} ${spec.summary}`).join('\n')}

Run \`webgpu-xai <command> --help\` for a command's options.
Environment: WEBGPU_XAI_DAWN_FLAGS (comma-separated Dawn toggles), WEBGPU_XAI_DEBUG=1 (stack traces),
WEBGPU_XAI_TUNE=0 (no conv tuning), WEBGPU_XAI_CONV=<variant> (force one), WEBGPU_XAI_CACHE_DIR,
LP_NUM_THREADS (lavapipe threads; default 4 per core, 8 to 32).
`;

export async function main(argv: string[]): Promise<number> {
  const stdout = checkedStdout();
  const code = await run(argv, stdout.log);
  const failure = await stdout.failure();
  if (failure && code === 0) {
    console.error(`webgpu-xai: error: cannot write to standard output: ${failure}`);
    return 1;
  }
  return code;
}

/**
 * Lines on stdout whose write errors are kept, not dropped (console.log drops them): a result
 * printed into a full disk or a closed pipe is a failed run, not exit 0.
 */
function checkedStdout(): { log: (s: string) => void; failure: () => Promise<string | undefined> } {
  let failure: string | undefined;
  const note = (e: unknown) => {
    failure ??= (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  };
  process.stdout.on('error', note);
  return {
    log: (s) => {
      try {
        process.stdout.write(`${s}\n`);
      } catch (e) {
        note(e);
      }
    },
    // An empty write's callback runs once everything before it has been written (or failed).
    failure: () =>
      new Promise((done) => {
        try {
          process.stdout.write('', (e) => {
            if (e) note(e);
            done(failure);
          });
        } catch (e) {
          note(e);
          done(failure);
        }
      }),
  };
}

async function run(argv: string[], log: (s: string) => void): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    log(MAIN_HELP);
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    console.error(
      `webgpu-xai: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.spec.name).join(', ')}; see --help)`,
    );
    return 2;
  }
  try {
    // --help is answered here, from the command's declaration: commands never see it.
    if (parseOptions(command.spec, rest).values.help) {
      log(helpText(command.spec));
      return 0;
    }
    return await command.run(rest, log);
  } catch (e) {
    return reportError(e, name);
  }
}

/** Prints a failure of command `name` as one line on stderr; returns the exit code. */
export function reportError(e: unknown, name: string): number {
  if (process.env.WEBGPU_XAI_DEBUG) console.error(e);
  if (e instanceof UsageError) {
    console.error(`webgpu-xai: ${e.message} (see webgpu-xai ${name} --help)`);
    return 2;
  }
  if (e instanceof XaiError) {
    console.error(`webgpu-xai: error: ${e.message}`);
    return 1;
  }
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  const what =
    e instanceof GpuValidationError ? 'internal error (a bug in webgpu-xai, please report it)' : 'internal error';
  console.error(`webgpu-xai: ${what}: ${msg} (run with WEBGPU_XAI_DEBUG=1 for details)`);
  return 70;
}
