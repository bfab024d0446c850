// Sharded, resumable evaluate-dataset and merge: the partition of --shard I/N and auto/N, a shard
// killed with SIGKILL and resumed, the merge of the shards against one run over the whole folder,
// and the refusals (other settings, a missing or doubled shard, a non-empty --out).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../src/cli/args.js';
import { recordPath, runDifferences, type Manifest } from '../src/cli/run-folder.js';
import { parseShard, shardNames } from '../src/cli/shard.js';
import { aggregate, type ImageRecord } from '../src/metrics/dataset.js';
import { BIN, cli, flippedDemo, ROOT } from './cli-helpers.js';
import { rng } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'webgpu-xai-shard-'));

test('shards: the union of N shards is the whole set, with no overlap, whatever the listing order', () => {
  const names = [
    'b.png',
    'a.png',
    'B.png',
    'é.png',
    'a b.png',
    'z.npy',
    '10.png',
    '9.png',
    '.hidden.png',
    'c,1.jpg',
    'ä.png',
  ];
  const sorted = [...names].sort();
  const rand = rng();
  for (let n = 1; n <= 13; n++) {
    const shuffled = [...names].sort(() => rand() - 0.5);
    const shards = Array.from({ length: n }, (_, i) => shardNames(shuffled, { index: i, count: n }));
    assert.equal(shards.flat().sort(), sorted, `N=${n}: the union is the whole set, each name once`);
    shards.forEach((s, i) => {
      assert.equal(
        s,
        shardNames(names, { index: i, count: n }),
        `N=${n}: shard ${i} does not depend on the listing order`,
      );
      assert.equal(
        s,
        sorted.filter((_, k) => k % n === i),
        `N=${n}: shard ${i} is positions k ≡ ${i} (mod ${n}) of the sorted names`,
      );
    });
  }
});

test('--shard I/N and auto/N (Kubernetes, Slurm); bad values are usage errors', () => {
  assert.equal(parseShard('c', '3/8', {}), { shard: { index: 3, count: 8 }, source: undefined });
  assert.equal(parseShard('c', 'auto/8', { JOB_COMPLETION_INDEX: '5', SLURM_ARRAY_TASK_ID: '1' }), {
    shard: { index: 5, count: 8 },
    source: 'JOB_COMPLETION_INDEX=5',
  });
  assert.equal(parseShard('c', 'auto/8', { SLURM_ARRAY_TASK_ID: '7' }), {
    shard: { index: 7, count: 8 },
    source: 'SLURM_ARRAY_TASK_ID=7',
  });
  assert.equal(parseShard('c', 'auto/8', { SLURM_ARRAY_TASK_ID: '12', SLURM_ARRAY_TASK_MIN: '10' }).shard, {
    index: 2,
    count: 8,
  });
  const bad: [string, Record<string, string>, RegExp][] = [
    ['8/8', {}, /--shard 8\/8: index 8 is out of range: shards are 0\.\.7/],
    ['1/0', {}, /N must be a whole number ≥ 1/],
    ['-1/4', {}, /expected I\/N/],
    ['1 /4', {}, /expected I\/N/],
    [
      'auto/4',
      {},
      /neither JOB_COMPLETION_INDEX \(Kubernetes Indexed Job\) nor SLURM_ARRAY_TASK_ID \(Slurm job array\) is set/,
    ],
    ['auto/4', { JOB_COMPLETION_INDEX: '' }, /JOB_COMPLETION_INDEX is "", not a whole number/],
    ['auto/4', { JOB_COMPLETION_INDEX: '4' }, /index 4 \(JOB_COMPLETION_INDEX=4\) is out of range: shards are 0\.\.3/],
    [
      'auto/4',
      { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '2' },
      /index -1 \(SLURM_ARRAY_TASK_ID=1 − SLURM_ARRAY_TASK_MIN=2\) is out of range/,
    ],
  ];
  for (const [value, env, pattern] of bad) {
    assert.throws(
      () => parseShard('evaluate-dataset', value, env),
      (e: Error) => e instanceof UsageError && pattern.test(e.message),
      `${value} ${JSON.stringify(env)}`,
    );
  }
});

test('record files: one plain file per name, never hidden, distinct', () => {
  const names = ['a.png', '.hidden.png', '../up.png', 'a%2Fb.png', 'x'.repeat(250) + '.png', 'x'.repeat(251) + '.png'];
  const paths = names.map((n) => recordPath('/out', n));
  for (const p of paths) {
    assert.is(dirname(p), '/out/images');
    assert.not.ok(basename(p).startsWith('.'), p);
    assert.ok(basename(p).length <= 205, p);
  }
  assert.is(new Set(paths).size, names.length);
});

test('run differences name each setting that differs, in words', () => {
  const run = (settings: Record<string, unknown>, sha = 'a'.repeat(64)): Manifest => ({
    command: 'evaluate-dataset',
    version: '0',
    weights: { path: 'w.pth', sha256: sha },
    imageFolder: 'img',
    shard: { index: 0, count: 1 },
    images: [],
    settings: {
      methods: ['rise', 'gradcam'],
      size: { height: 224, width: 224 },
      labels: null,
      dataset: { count: 5, sha256: 'b'.repeat(64) },
      seed: 0,
      ...settings,
    },
  });
  assert.equal(runDifferences(run({}), run({}), ['here', 'there']), []);
  assert.equal(
    runDifferences(
      run(
        {
          methods: ['rise'],
          size: { height: 112, width: 96 },
          labels: `sha256:${'c'.repeat(64)}`,
          dataset: { count: 6, sha256: 'd'.repeat(64) },
        },
        'e'.repeat(64),
      ),
      run({}),
      ['here', 'in OUT'],
    ),
    [
      `the model (weights SHA-256): ${'e'.repeat(12)}… here, ${'a'.repeat(12)}… in OUT`,
      '--methods: rise here, rise,gradcam in OUT',
      '--size: 112x96 here, 224x224 in OUT',
      `--labels: content SHA-256 ${'c'.repeat(12)}… here, not given in OUT`,
      `the image folder: 6 images (names SHA-256 ${'d'.repeat(12)}…) here, 5 images (names SHA-256 ${'b'.repeat(12)}…) in OUT`,
    ],
  );
  const { seed, ...noSeed } = run({}).settings;
  assert.equal(runDifferences(run({}), { ...run({}), settings: noSeed }, ['here', 'there']), [
    `--seed: ${seed} here, not given there`,
  ]);
});

test('aggregate: rows and skipped images in record order, mean curves over records of one length', () => {
  const rec = (image: string, auc: number, curve: number[]): ImageRecord => ({
    image,
    rows: [{ image, method: 'm', class: 1, auc: { deletion: auc }, seconds: 1, explainSeconds: 0.5 }],
    curves: { m: { deletion: curve } },
  });
  const report = aggregate(
    [rec('a', 0.2, [1, 0]), { image: 'b', skipped: 'broken' }, rec('c', 0.4, [0.5, 0.25]), rec('d', 0.6, [1, 1, 1])],
    ['m'],
    ['deletion'],
  );
  assert.equal(
    report.rows.map((r) => r.image),
    ['a', 'c', 'd'],
  );
  assert.equal(report.skipped, [{ image: 'b', error: 'broken' }]);
  assert.equal(report.meanCurves.m.deletion, [0.75, 0.125]);
  assert.is(report.summary.m.deletion.n, 3);
  assert.ok(Math.abs(report.summary.m.deletion.mean - 0.4) < 1e-15);
});

// End to end: five items, one broken; shard 0/2 = a, c, e; shard 1/2 = b, d-broken.
const images = join(tmp, 'images');
mkdirSync(images);
const demo = readFileSync(`${ROOT}weights/demo.png`);
const flipped = flippedDemo();
for (const [name, bytes] of [
  ['a.png', demo],
  ['b.png', flipped],
  ['c.png', flipped],
  ['e.png', demo],
] as const)
  writeFileSync(join(images, name), bytes);
writeFileSync(join(images, 'd-broken.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
const RUN = [
  'evaluate-dataset',
  '--weights',
  `${ROOT}weights/demo-resnet18-w16.pth`,
  '--images',
  images,
  '--methods',
  'abscam-init,rise',
  '--masks',
  '8',
  '--size',
  '112',
  '--step',
  '1254',
];
// The same conv variants in every process (no tuner choices from other test files).
const ENV = { WEBGPU_XAI_TUNE: '0' };
const out = (name: string) => join(tmp, name);
const results = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
/** results.csv without its last two columns (seconds, explain_seconds: what each image took in its own run). */
const csvNumbers = (dir: string) =>
  readFileSync(join(dir, 'results.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.replace(/,[^,]*,[^,]*$/, ''));
const withoutSeconds = (rows: { seconds?: number; explainSeconds?: number }[]) =>
  rows.map(({ seconds, explainSeconds, ...rest }) => rest);

test('one run over the whole folder (the reference)', () => {
  const r = cli([...RUN, '--out', out('single')], ENV);
  assert.is(r.code, 0, r.stderr);
  assert.equal(
    results(out('single')).rows.map((row: { image: string }) => row.image),
    ['a.png', 'a.png', 'b.png', 'b.png', 'c.png', 'c.png', 'e.png', 'e.png'],
  );
  assert.equal(readdirSync(join(out('single'), 'images')).sort(), [
    'a.png.json',
    'b.png.json',
    'c.png.json',
    'd-broken.png.json',
    'e.png.json',
  ]);
});

test('a shard killed with SIGKILL after its first record, rerun with --resume: same rows, finished images not redone', async () => {
  const dir = out('shard0');
  const env = { ...process.env, ...ENV, JOB_COMPLETION_INDEX: '0' };
  const child = spawn(process.execPath, [BIN, ...RUN, '--shard', 'auto/2', '--out', dir], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  const records = join(dir, 'images');
  const finished = () => (existsSync(records) ? readdirSync(records).filter((f) => !f.startsWith('.')) : []);
  const poll = setInterval(() => {
    if (finished().length) child.kill('SIGKILL');
  }, 5);
  await new Promise<void>((done) => child.on('close', () => done()));
  clearInterval(poll);
  assert.is(child.signalCode, 'SIGKILL', 'killed, not finished');
  assert.match(stderr, /webgpu-xai: shard 0\/2 \(index from JOB_COMPLETION_INDEX=0\)/);
  const before = finished();
  assert.ok(before.length >= 1 && before.length < 3, `killed mid-run: ${before}`);
  assert.not.ok(existsSync(join(dir, 'results.csv')));
  const mtimes = before.map((f) => statSync(join(records, f)).mtimeMs);
  // What a kill during a write leaves (io/files.ts names it so): removed by --resume.
  writeFileSync(join(records, `.e.png.json.${child.pid}.ab12cd.tmp`), '{"image": "e.p');

  const r = cli([...RUN, '--shard', '0/2', '--resume', '--out', dir], ENV);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`resuming .*shard0: ${before.length} of 3 images already done`));
  assert.equal(
    before.map((f) => statSync(join(records, f)).mtimeMs),
    mtimes,
    'the finished records were not rewritten',
  );
  assert.equal(readdirSync(records).sort(), ['a.png.json', 'c.png.json', 'e.png.json']);
  const single = results(out('single'));
  const shard = results(dir);
  assert.equal(
    withoutSeconds(shard.rows),
    withoutSeconds(single.rows.filter((row: { image: string }) => row.image !== 'b.png')),
  );
  // Resuming a finished shard redoes nothing and writes the same tables.
  const again = cli([...RUN, '--shard', '0/2', '--resume', '--out', dir], ENV);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stderr, /3 of 3 images already done/);
  assert.equal(results(dir), shard);
});

test('merge of the shards equals the single run: every AUC, the summary, the mean curves, the skipped list', () => {
  const s1 = cli([...RUN, '--shard', 'auto/2', '--resume', '--out', out('shard1')], {
    ...ENV,
    SLURM_ARRAY_TASK_ID: '8',
    SLURM_ARRAY_TASK_MIN: '7',
  });
  assert.is(s1.code, 0, s1.stderr);
  assert.match(s1.stderr, /shard 1\/2 \(index from SLURM_ARRAY_TASK_ID=8 − SLURM_ARRAY_TASK_MIN=7\)/);
  const m = cli(['merge', out('shard1'), out('shard0'), '--out', out('merged')]);
  assert.is(m.code, 0, m.stderr);
  assert.match(m.stderr, /skipped d-broken\.png: /);
  const single = results(out('single'));
  const merged = results(out('merged'));
  assert.equal(withoutSeconds(merged.rows), withoutSeconds(single.rows));
  assert.equal(merged.summary, single.summary);
  assert.equal(merged.meanCurves, single.meanCurves);
  assert.equal(merged.skipped, single.skipped);
  assert.equal(
    [merged.methods, merged.metrics, merged.step, merged.size],
    [single.methods, single.metrics, single.step, single.size],
  );
  assert.equal(csvNumbers(out('merged')), csvNumbers(out('single')));
  for (const metric of ['insertion', 'deletion']) {
    assert.is(
      readFileSync(join(out('merged'), `curves-${metric}.svg`), 'utf8'),
      readFileSync(join(out('single'), `curves-${metric}.svg`), 'utf8'),
    );
  }
  assert.match(m.stdout, /abscam-init +insertion 0\.\d+ ± 0\.\d+ \(n=4\)/);
});

test('a shard with no images (N above the image count) writes empty tables and says so', () => {
  const r = cli([...RUN, '--shard', '6/8', '--out', out('empty')], ENV);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /webgpu-xai: shard 6\/8 holds no images \(the folder has 5\); its tables are empty/);
  assert.equal(results(out('empty')).rows, []);
  assert.equal(JSON.parse(readFileSync(join(out('empty'), 'manifest.json'), 'utf8')).images, []);
});

/** A copy of a shard folder, changed by `edit`. */
function copyShard(from: string, to: string, edit: (dir: string) => void): string {
  cpSync(out(from), out(to), { recursive: true });
  edit(out(to));
  return out(to);
}

const editManifest =
  (change: (m: { settings: Record<string, unknown>; weights: { sha256: string } }) => void) => (dir: string) => {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    change(m);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  };

const refusals: [string, () => string[], RegExp, number][] = [
  [
    '--resume with another --seed',
    () => [...RUN, '--seed', '1', '--shard', '1/2', '--resume', '--out', out('shard1')],
    /--resume: .*shard1 holds a run with other settings: --seed: 1 here, 0 in .*shard1$/,
    1,
  ],
  [
    '--resume with another --shard and --masks',
    () => [...RUN, '--masks', '9', '--shard', '1/3', '--resume', '--out', out('shard1')],
    /other settings: --masks: 9 here, 8 in .*shard1; --shard: 1\/3 here, 1\/2 in .*shard1$/,
    1,
  ],
  [
    '--resume with labels the run did not have',
    () => {
      writeFileSync(out('labels.csv'), 'b.png,1\n');
      return [...RUN, '--labels', out('labels.csv'), '--shard', '1/2', '--resume', '--out', out('shard1')];
    },
    /other settings: --labels: content SHA-256 [0-9a-f]{12}… here, not given in .*shard1$/,
    1,
  ],
  [
    'a non-empty --out without --resume',
    () => [...RUN, '--out', out('single')],
    /--out .*single is not empty \(it holds curves-deletion\.svg, .*\); pass --resume to continue the run there, or choose a new folder/,
    1,
  ],
  [
    '--resume into a folder that is not a run',
    () => {
      mkdirSync(out('other'));
      writeFileSync(join(out('other'), 'notes.txt'), 'mine');
      return [...RUN, '--resume', '--out', out('other')];
    },
    /other holds no manifest\.json: not an evaluate-dataset output folder/,
    1,
  ],
  [
    '--shard auto/2 outside a job array',
    () => [...RUN, '--shard', 'auto/2', '--out', out('x')],
    /evaluate-dataset: --shard auto\/2: neither JOB_COMPLETION_INDEX/,
    2,
  ],
  [
    'merge: shards of other parameters',
    () => [
      'merge',
      out('shard0'),
      copyShard(
        'shard1',
        'seed1',
        editManifest((m) => {
          m.settings.seed = 1;
        }),
      ),
      '--out',
      out('m1'),
    ],
    /.*seed1 and .*shard0 are runs with other settings: --seed: 1 in .*seed1, 0 in .*shard0/,
    1,
  ],
  [
    'merge: shards of another model',
    () => [
      'merge',
      out('shard0'),
      copyShard(
        'shard1',
        'model',
        editManifest((m) => {
          m.weights.sha256 = 'f'.repeat(64);
        }),
      ),
      '--out',
      out('m2'),
    ],
    /runs with other settings: the model \(weights SHA-256\): ffffffffffff… in .*model, [0-9a-f]{12}… in .*shard0/,
    1,
  ],
  ['merge: a missing shard', () => ['merge', out('shard0'), '--out', out('m3')], /missing shard 1\/2 of 2/, 1],
  [
    'merge: a shard given twice (overlapping images)',
    () => ['merge', out('shard0'), out('shard1'), copyShard('shard1', 'twice', () => {}), '--out', out('m4')],
    /shard 1\/2 is given twice: .*shard1 and .*twice/,
    1,
  ],
  [
    'merge: a shard with an unfinished image',
    () => [
      'merge',
      out('shard0'),
      copyShard('shard1', 'unfinished', (d) => rmSync(join(d, 'images', 'b.png.json'))),
      '--out',
      out('m5'),
    ],
    /.*unfinished \(shard 1\/2\) has not finished 1 of 2 images: b\.png; run it again with --resume/,
    1,
  ],
  [
    'merge: a non-empty --out',
    () => ['merge', out('shard0'), out('shard1'), '--out', out('merged')],
    /--out .*merged is not empty .*; choose a new folder/,
    1,
  ],
  ['merge: no folders', () => ['merge', '--out', out('m6')], /merge: name the shard folders to merge/, 2],
];

for (const [name, args, pattern, code] of refusals) {
  test(`refused: ${name} → one line, exit ${code}`, () => {
    const r = cli(args(), ENV);
    assert.is(r.code, code, `exit code (stderr: ${r.stderr})`);
    assert.match(r.stderr, pattern);
    assert.is(r.stderr.split('\n').length, 1, `one line, got: ${r.stderr}`);
    assert.not.ok(r.jsStack, 'no stack trace');
  });
}

test('merge: an image in two shards of one split is refused', () => {
  const dir = copyShard(
    'shard1',
    'overlap',
    editManifest((m) => {
      (m as unknown as { shard: { index: number } }).shard.index = 0;
    }),
  );
  const third = copyShard('shard1', 'overlap2', () => {});
  const r = cli(['merge', dir, third, '--out', out('m7')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /b\.png is in two shards: .*overlap and .*overlap2/);
});

test.run();
