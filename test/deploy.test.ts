// deploy/: the Kubernetes Indexed Job, the Slurm array script and the container recipe, checked
// for structure (no cluster here): the fields a run needs are there, the shard count N agrees
// between the scheduler and --shard auto/N, and the command is one evaluate-dataset accepts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { METHODS } from '../src/explain/methods.js';
import { ROOT } from './cli-helpers.js';
import { parseYamlSubset } from './yaml-subset.js';

const read = (path: string) => readFileSync(`${ROOT}deploy/${path}`, 'utf8');

test('the YAML subset reader: mappings, sequences, "- key:" items, scalars; refuses what it does not know', () => {
  const doc = parseYamlSubset(
    '# c\na:\n  b: 1\n  c: "2"\n  d:\n    - x\n    - name: n\n      v: true\n    - \'y: z\'\ne: s:t\n',
  );
  assert.equal(doc, { a: { b: 1, c: '2', d: ['x', { name: 'n', v: true }, 'y: z'] }, e: 's:t' });
  for (const bad of ['a: [1, 2]\n', 'a: |\n  x\n', 'a: 1\n  b: 2\n', 'a: 1\na: 2\n', 'a:\n\t- x\n']) {
    assert.throws(() => parseYamlSubset(bad), undefined, JSON.stringify(bad));
  }
});

/** The parts of a Job the test reads (what the YAML holds is checked, not assumed, below). */
interface Job {
  apiVersion: string;
  kind: string;
  spec: { completionMode: string; completions: number; parallelism: number; template: { spec: PodSpec } };
}
interface PodSpec {
  restartPolicy: string;
  containers: Container[];
  volumes: { name: string }[];
}
interface Container {
  image: string;
  args: unknown[];
  env: { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[];
  resources: { limits: Record<string, unknown> };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

/** The value after `flag` in an argument list. */
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

test('Kubernetes: an Indexed Job of N completions, each pod shard auto/N with --resume, a GPU, Vulkan for Dawn, volumes', () => {
  const job = parseYamlSubset(read('kubernetes/evaluate-job.yaml')) as unknown as Job;
  assert.is(job.apiVersion, 'batch/v1');
  assert.is(job.kind, 'Job');
  assert.is(job.spec.completionMode, 'Indexed');
  const n = job.spec.completions;
  assert.ok(Number.isInteger(n) && n >= 1, 'completions');
  assert.ok(
    Number.isInteger(job.spec.parallelism) && job.spec.parallelism >= 1 && job.spec.parallelism <= n,
    'parallelism in 1..completions',
  );
  const pod = job.spec.template.spec;
  assert.ok(['OnFailure', 'Never'].includes(pod.restartPolicy));
  assert.is(pod.containers.length, 1);
  const [c] = pod.containers;
  assert.type(c.image, 'string');
  assert.ok(
    c.args.every((a) => typeof a === 'string'),
    'every argument a string (numbers quoted)',
  );
  const args = c.args as string[];
  assert.is(args[0], 'evaluate-dataset');
  assert.is(after(args, '--shard'), `auto/${n}`, 'the N of --shard auto/N equals completions');
  assert.ok(args.includes('--resume'));
  for (const m of after(args, '--methods').split(',')) assert.ok(METHODS.includes(m), `method ${m}`);
  // $(SHARD) in --out is the pod's completion index.
  assert.match(after(args, '--out'), /\$\(SHARD\)/);
  const env = Object.fromEntries(c.env.map((e) => [e.name, e]));
  assert.is(
    env.SHARD.valueFrom?.fieldRef.fieldPath,
    "metadata.annotations['batch.kubernetes.io/job-completion-index']",
  );
  assert.equal(env.NVIDIA_DRIVER_CAPABILITIES.value?.split(',').sort(), ['compute', 'graphics', 'utility']);
  assert.is(c.resources.limits['nvidia.com/gpu'], 1);
  // Every mount has its volume and back; the inputs are under a mount, the output under a writable one.
  const volumes = new Set(pod.volumes.map((v) => v.name));
  const mounts = c.volumeMounts;
  assert.equal(new Set(mounts.map((m) => m.name)), volumes);
  const under = (path: string, writable = false) =>
    mounts.some((m) => path.startsWith(`${m.mountPath}/`) && !(writable && m.readOnly));
  assert.ok(under(after(args, '--images')) && under(after(args, '--weights')), 'images and weights on a volume');
  assert.ok(under(after(args, '--out'), true), 'results on a writable volume');
});

test('Slurm: --array=0-(N-1) with N the --shard auto/N, one GPU per task, --resume; valid bash', () => {
  const script = read('slurm/evaluate.sbatch');
  const array = /^#SBATCH --array=0-(\d+)$/m.exec(script);
  const n = /^N=(\d+)$/m.exec(script);
  assert.ok(array && n, 'an --array=0-M line and N=');
  assert.is(Number(array![1]), Number(n![1]) - 1, '--array=0-(N-1)');
  assert.match(script, /--shard "auto\/\$N"/);
  assert.match(script, /^#SBATCH --gres=gpu:1$/m);
  assert.match(script, /evaluate-dataset[\s\S]*--resume/);
  for (const m of /--methods (\S+)/.exec(script)![1].split(',')) assert.ok(METHODS.includes(m), `method ${m}`);
  const r = spawnSync('bash', ['-n', `${ROOT}deploy/slurm/evaluate.sbatch`], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

test('Dockerfile: bookworm + Node 20, Vulkan loader, lavapipe from bookworm-backports, npm ci, entrypoint webgpu-xai', () => {
  const df = read('Dockerfile');
  assert.match(df, /^FROM node:20-bookworm(-slim)?$/m);
  assert.match(df, /apt-get install [^\n]*\blibvulkan1\b/);
  assert.match(df, /bookworm-backports main/);
  assert.match(df, /apt-get install [^\n]*-t bookworm-backports mesa-vulkan-drivers/);
  assert.match(df, /NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics/);
  assert.match(df, /RUN npm ci\b/);
  assert.match(df, /^ENTRYPOINT \["webgpu-xai"\]$/m);
  // Everything it copies exists, and the build (tsc over tsconfig's "include") has its sources.
  const copied = [...df.matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
  for (const path of copied) assert.ok(existsSync(`${ROOT}${path}`), `COPY ${path}`);
  for (const dir of JSON.parse(readFileSync(`${ROOT}tsconfig.json`, 'utf8')).include)
    assert.ok(copied.includes(dir), `COPY ${dir}`);
});

test.run();
