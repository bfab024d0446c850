// The explainer registry: one declaration per method, and everything that lists methods (README's
// table, the help texts, METHODS) agrees with it; every method answers in the one result shape.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { XaiError } from '../src/errors.js';
import { saliencyPlane } from '../src/explain/explainer.js';
import { explainPlane, METHODS, RISE_METHODS } from '../src/explain/methods.js';
import { EXPLAINERS, explainerFor } from '../src/explain/registry.js';
import { loadNpyFile, loadWeightsFile } from '../src/io/files.js';
import { ResNet } from '../src/model/resnet.js';
import { cli, ROOT } from './cli-helpers.js';
import { assertClose, closeGpu, gpu } from './helpers.js';

/** The method column of the `| method | formula | paper |` table under "### Explainers". */
function readmeMethods(): string[] {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('### Explainers'));
  const lines = section.split('\n');
  const header = lines.findIndex((l) => /^\|\s*method\s*\|\s*formula\s*\|\s*paper\s*\|$/.test(l.trim()));
  assert.ok(header >= 0, 'README.md: no "| method | formula | paper |" table under "### Explainers"');
  const rows: string[] = [];
  // A table ends at its first line that is not a row: a blank line would split it in two.
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const name = /^\|\s*`([^`]+)`\s*\|/.exec(line);
    assert.ok(name, `README.md: a row of the explainer table without a \`method\`: ${line}`);
    rows.push(name[1]);
  }
  return rows;
}

test("README's explainer table lists exactly the registry's methods, in its order", () => {
  assert.equal(readmeMethods(), [...METHODS]);
});

test('each method is declared once; METHODS and RISE_METHODS come from the registry', () => {
  assert.equal(new Set(METHODS).size, METHODS.length);
  assert.equal(
    [...METHODS],
    EXPLAINERS.map((e) => e.name),
  );
  assert.equal(RISE_METHODS, { rise: 'binary', 'rise-gauss': 'gaussian', 'rise-perlin': 'perlin' });
  for (const e of EXPLAINERS) {
    assert.is(explainerFor(e.name), e);
    assert.ok(e.summary.length > 0 && !e.summary.includes('\n'), `${e.name}: a one-line summary`);
  }
  assert.throws(
    () => explainerFor('lime'),
    (err: Error) => err instanceof XaiError && /unknown method "lime" \(methods: abscam-init, /.test(err.message),
  );
});

test('the help texts list every method (explain: with its summary)', () => {
  const explain = cli(['explain', '--help']).stdout;
  const lines = explain.split('\n');
  for (const e of EXPLAINERS)
    assert.ok(
      lines.some((l) => l.trim().startsWith(`${e.name} `) && l.endsWith(e.summary)),
      `explain --help: ${e.name}`,
    );
  assert.ok(cli(['evaluate-dataset', '--help']).stdout.includes(METHODS.join(', ')), 'evaluate-dataset --help');
});

test('every method answers in the one result shape; explainPlane gives its plane of the class', async () => {
  const model = ResNet.fromStateDict(await gpu(), loadWeightsFile(`${ROOT}test/fixtures/model/resnet18-w8-c5.pth`));
  const image = loadNpyFile(`${ROOT}test/fixtures/rise/input.npy`); // [1, 3, 48, 48]
  const opts = { batch: 8, rise: { masks: 16 } };
  for (const e of EXPLAINERS) {
    const r = await e.explain(model, image, { ...opts, classIndex: 2 });
    assert.equal([r.method, r.family], [e.name, e.family]);
    assert.equal(r.saliency.shape, [r.saliencyPer === 'image' ? 1 : model.numClasses, 48, 48], e.name);
    assert.equal(r.classes, [2]);
    assert.is(r.scores.length, 1);
    assert.ok(r.forwardPasses >= 1 && r.peakGpuBytes > 0 && r.timingsMs.total >= 0 && r.extras, e.name);
    assert.ok(e.note(r).length > 0, e.name);
    const plane = await explainPlane(model, e.name, image, 2, opts);
    assertClose(plane.data, saliencyPlane(r, 0).data, 1e-5, 1e-5, `${e.name}: explainPlane vs explain`);
  }
});

test.after(closeGpu);
test.run();
