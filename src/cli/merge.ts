/**
 * `webgpu-xai merge DIR... --out OUT`: the shards of an evaluate-dataset run (each DIR the --out
 * of one `--shard I/N`) combined into the tables one run over the whole folder writes. The
 * records are read back in the single run's order (sorted by image name) and aggregated by the
 * same code, so every number is the one that run gives from the same records.
 */
import { existsSync } from 'node:fs';
import { XaiError } from '../errors.js';
import type { InputSize } from '../io/input.js';
import type { CausalMetricName } from '../metrics/causal.js';
import { aggregate } from '../metrics/dataset.js';
import { UsageError } from './args.js';
import { defineCommand, parseOptions } from './options.js';
import { checkEmptyOut, checkOutDir } from './output.js';
import { writeReport } from './report-files.js';
import { readManifest, readRecords, recordPath, runDifferences, type Manifest } from './run-folder.js';
import { shardLabel } from './shard.js';

export const MERGE = defineCommand({
  name: 'merge',
  summary: 'combine the shard folders of evaluate-dataset --shard I/N into one report',
  positionals: 'DIR...',
  about: `Combines the output folders of the shards of one evaluate-dataset run (--shard I/N, one folder
each) into OUT/results.csv, OUT/results.json and OUT/curves-<metric>.svg, as one run over the
whole folder writes them: the same rows in the same order, the same summary and mean curves.
Refused: folders whose model (weights SHA-256) or settings differ (naming what differs), shards
of different N, a shard given twice or an image in two folders; a missing shard or a shard with
unfinished images is named (rerun it with --resume).`,
  options: {
    out: { arg: 'OUT', required: true, help: 'a new or empty folder' },
  },
});

/** How many names an error lists before "..." */
const LIST = 8;
const list = (names: readonly string[]) =>
  `${names.slice(0, LIST).join(', ')}${names.length > LIST ? `, ... (${names.length} in all)` : ''}`;

export async function merge(argv: string[], log: (s: string) => void): Promise<number> {
  const { values: v, positionals: dirs } = parseOptions(MERGE, argv);
  if (dirs.length === 0) throw new UsageError('merge: name the shard folders to merge (merge DIR... --out OUT)');
  const { out } = v;
  checkOutDir('merge', out, []);
  checkEmptyOut(out, 'choose a new folder');

  const runs = dirs.map((dir) => ({ dir, m: readManifest(dir) }));
  const [first] = runs;
  for (const r of runs.slice(1)) {
    const diff = runDifferences(r.m, first.m, [`in ${r.dir}`, `in ${first.dir}`]);
    if (diff.length) throw new XaiError(`${r.dir} and ${first.dir} are runs with other settings: ${diff.join('; ')}`);
    if (r.m.shard.count !== first.m.shard.count) {
      throw new XaiError(
        `${r.dir} is shard ${shardLabel(r.m.shard)} and ${first.dir} shard ${shardLabel(first.m.shard)}: shards of different splits do not merge`,
      );
    }
  }
  const byIndex = new Map<number, string>();
  for (const { dir, m } of runs) {
    const other = byIndex.get(m.shard.index);
    if (other !== undefined) throw new XaiError(`shard ${shardLabel(m.shard)} is given twice: ${other} and ${dir}`);
    byIndex.set(m.shard.index, dir);
  }
  const count = first.m.shard.count;
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length)
    throw new XaiError(
      `missing shard${missing.length > 1 ? 's' : ''} ${list(missing.map((i) => `${i}/${count}`))} of ${count}`,
    );

  const owner = new Map<string, string>();
  for (const { dir, m } of runs) {
    for (const image of m.images) {
      const other = owner.get(image);
      if (other !== undefined) throw new XaiError(`${image} is in two shards: ${other} and ${dir}`);
      owner.set(image, dir);
    }
    const unfinished = m.images.filter((image) => !existsSync(recordPath(dir, image)));
    if (unfinished.length) {
      throw new XaiError(
        `${dir} (shard ${shardLabel(m.shard)}) has not finished ${unfinished.length} of ${m.images.length} images: ${list(unfinished)}; run it again with --resume`,
      );
    }
  }

  const s = first.m.settings as Manifest['settings'] & {
    methods: string[];
    metrics: CausalMetricName[];
    step: number;
    size: InputSize;
  };
  const images = [...owner.keys()].sort();
  const report = aggregate(
    readRecords(images.map((image) => ({ dir: owner.get(image)!, image }))),
    s.methods,
    s.metrics,
  );
  writeReport(
    out,
    {
      weights: first.m.weights.path,
      images: first.m.imageFolder,
      methods: s.methods,
      metrics: s.metrics,
      step: s.step,
      size: s.size,
    },
    report,
    log,
  );
  return 0;
}
