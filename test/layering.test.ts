// The source folders form layers: each imports only the folders below it (the files at src/'s
// top — errors, version, the entry points — are outside the layers). Kernels that reached up
// into the explainers, or a model that needed the metrics, would fail here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { ROOT } from './cli-helpers.js';

const LAYERS = ['io', 'viz', 'gpu', 'kernels', 'model', 'explain', 'metrics', 'report', 'cli'];

test('each src/ folder imports only the folders below it', () => {
  const src = `${ROOT}src/`;
  const folders = readdirSync(src, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  assert.equal([...folders].sort(), [...LAYERS].sort(), 'a new folder needs its place in LAYERS');
  for (const [level, folder] of LAYERS.entries()) {
    for (const file of readdirSync(`${src}${folder}`).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(`${src}${folder}/${file}`, 'utf8');
      for (const [, target] of text.matchAll(/(?:from|import\()\s*'\.\.\/([a-z-]+)\//g)) {
        assert.ok(LAYERS.indexOf(target) < level, `src/${folder}/${file} imports from src/${target}/`);
      }
    }
  }
});

test.run();
