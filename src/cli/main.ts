/**
 * The `webgpu-xai` command. Every failure the user can cause ends in one line on stderr and a
 * non-zero exit code (2 for a bad command line, 1 for bad input or environment); our bugs (an
 * internal error, a GPU validation error naming its kernels) exit 70 and print their stack only
 * with WEBGPU_XAI_DEBUG=1.
 */
import { GpuValidationError, XaiError } from '../errors.js';
import { UsageError } from './args.js';
import { explain } from './explain.js';
import { evaluate } from './evaluate.js';
import { evaluateDatasetCommand } from './evaluate-dataset.js';
import { masks } from './masks.js';
import { merge } from './merge.js';
import { predict } from './predict.js';
import { report } from './report.js';
import { tune } from './tune.js';

const COMMANDS: Record<string, { run: (argv: string[], log: (s: string) => void) => Promise<number>; summary: string }> = {
  predict: { run: predict, summary: 'classify an image with a ResNet checkpoint' },
  explain: { run: explain, summary: 'saliency map of a prediction (Abs-CAM, Grad-CAM family, RISE)' },
  masks: { run: masks, summary: 'export RISE masks (.npy and a PNG sheet)' },
  evaluate: { run: evaluate, summary: 'insertion / deletion curve of a saliency map' },
  'evaluate-dataset': { run: evaluateDatasetCommand, summary: 'explain and score a folder of images (table, summary, mean curves)' },
  report: { run: report, summary: 'evaluate-dataset plus an HTML page comparing the methods (or --from DIR: rebuild it)' },
  merge: { run: merge, summary: 'combine the shard folders of evaluate-dataset --shard I/N into one report' },
  tune: { run: tune, summary: 'time the conv variants of a model on this adapter ahead of use' },
};

const MAIN_HELP = `Usage: webgpu-xai <command> [options]

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(17)} ${c.summary}`).join('\n')}

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
  const note = (e: unknown) => { failure ??= (e as NodeJS.ErrnoException).code ?? (e as Error).message; };
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
    failure: () => new Promise((done) => {
      try {
        process.stdout.write('', (e) => { if (e) note(e); done(failure); });
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
  const command = COMMANDS[name];
  if (!command) {
    console.error(`webgpu-xai: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')}; see --help)`);
    return 2;
  }
  try {
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
  const what = e instanceof GpuValidationError ? 'internal error (a bug in webgpu-xai, please report it)' : 'internal error';
  console.error(`webgpu-xai: ${what}: ${msg} (run with WEBGPU_XAI_DEBUG=1 for details)`);
  return 70;
}
