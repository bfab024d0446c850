/**
 * --shard I/N: which part of a data set this process evaluates. The partition is a function of
 * the image names alone: they are sorted by name (JavaScript's UTF-16 code-unit order, the same
 * on every machine and locale, whatever order the file system lists them in) and image k of the
 * sorted list goes to shard k mod N. Round robin rather than contiguous ranges: names that sort
 * together (one class, one source) are spread over the shards, so shards take about equal time.
 *
 * `auto/N` takes I from the environment of a job array: JOB_COMPLETION_INDEX (a Kubernetes
 * Indexed Job, 0..N−1), else SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (a Slurm job array;
 * the minimum is 0 when unset).
 */
import { UsageError } from './args.js';

export interface Shard {
  index: number;
  count: number;
}

/** The whole data set: shard 0 of 1. */
export const WHOLE: Shard = { index: 0, count: 1 };

export type Env = Readonly<Record<string, string | undefined>>;

/** The shard of `--shard value`, and for auto/N which variables gave the index (to report). */
export function parseShard(command: string, value: string, env: Env): { shard: Shard; source?: string } {
  const fail = (why: string): never => {
    throw new UsageError(`${command}: --shard ${value}: ${why}`);
  };
  const m = /^(\d+|auto)\/(\d+)$/.exec(value);
  if (!m) fail('expected I/N (0 ≤ I < N, e.g. 3/8) or auto/N');
  const count = Number(m![2]);
  if (!(count >= 1 && count <= Number.MAX_SAFE_INTEGER)) fail('N must be a whole number ≥ 1');
  let index: number;
  let source: string | undefined;
  if (m![1] !== 'auto') {
    index = Number(m![1]);
  } else {
    const whole = (name: string): number => {
      const v = env[name]!;
      if (!/^\d+$/.test(v)) fail(`${name} is "${v}", not a whole number ≥ 0`);
      return Number(v);
    };
    if (env.JOB_COMPLETION_INDEX !== undefined) {
      index = whole('JOB_COMPLETION_INDEX');
      source = `JOB_COMPLETION_INDEX=${index}`;
    } else if (env.SLURM_ARRAY_TASK_ID !== undefined) {
      const id = whole('SLURM_ARRAY_TASK_ID');
      const min = env.SLURM_ARRAY_TASK_MIN === undefined ? 0 : whole('SLURM_ARRAY_TASK_MIN');
      index = id - min;
      source =
        env.SLURM_ARRAY_TASK_MIN === undefined
          ? `SLURM_ARRAY_TASK_ID=${id}`
          : `SLURM_ARRAY_TASK_ID=${id} − SLURM_ARRAY_TASK_MIN=${min}`;
    } else {
      return fail(
        'neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm job array) is set',
      );
    }
  }
  if (!(index! >= 0 && index! < count))
    fail(`index ${index!}${source ? ` (${source})` : ''} is out of range: shards are 0..${count - 1}`);
  return { shard: { index: index!, count }, source };
}

/** The names of shard `shard`, sorted (see the top of this file). */
export function shardNames(names: readonly string[], shard: Shard): string[] {
  return [...names].sort().filter((_, k) => k % shard.count === shard.index);
}

export const shardLabel = (s: Shard): string => `${s.index}/${s.count}`;
