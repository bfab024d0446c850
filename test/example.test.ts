// The browser example (examples/browser/, what `npm run example` serves) driven in headless
// Chromium as a user drives it: a checkpoint and an image set on its file inputs, a method
// chosen, Explain clicked. What it computed must match the Node CLI on the same files (explain,
// then evaluate --metric both). Then its live mode on Chromium's fake webcam, which must explain
// frames and draw their overlays, and show a frame rate (printed: a measurement, not a check).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleServer } from '../examples/serve.js';
import { loadNpyFile } from '../src/io/files.js';
import { DrivenPage } from './chromium.js';
import { cli, ROOT } from './cli-helpers.js';
import { assertClose } from './helpers.js';
import { readFileSync } from 'node:fs';

const WEIGHTS = `${ROOT}weights/demo-resnet18-w16.pth`;
const IMAGE = `${ROOT}test/fixtures/image/rgb_37x23.png`; // not the page's demo image: the file input must be used
const SIZE = 112;
const STEP = 211;
// Small batches: on SwiftShader the conv tuner's timing grows with the batch (minutes at 64).
const BATCH = 4;

interface LastRun {
  method: string;
  classes: number[];
  shape: number[];
  saliency: number[];
  curves: { insertion: number[]; deletion: number[] };
}

let page: DrivenPage;
let server: ReturnType<typeof exampleServer>;

test.before(async () => {
  server = exampleServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  // canvas=off: the live mode draws each overlay into its frame texture but does not present it
  // (examples/browser/app.js says why: presenting a WebGPU canvas loses SwiftShader's instance).
  page = await DrivenPage.open(`http://127.0.0.1:${port}/examples/browser/?canvas=off`, [
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
  ]);
  await page.waitFor(`document.getElementById('status')?.dataset.state === 'idle'`, 60_000);
});

test.after(() => {
  page?.close();
  server?.close();
});

/** The CLI's saliency and curves for the same files and settings. */
function cliRun(
  method: string,
  extra: readonly string[],
): { saliency: Float32Array; insertion: Float32Array; deletion: Float32Array } {
  const out = mkdtempSync(join(tmpdir(), 'webgpu-xai-example-'));
  const common = ['--weights', WEIGHTS, '--input', IMAGE, '--size', String(SIZE), '--batch', String(BATCH)];
  const e = cli(['explain', '--method', method, ...common, ...extra, '--out', out]);
  assert.is(e.code, 0, e.stderr);
  const m = cli([
    'evaluate',
    '--metric',
    'both',
    ...common,
    '--saliency',
    `${out}/saliency.npy`,
    '--step',
    String(STEP),
    '--out',
    `${out}/metrics`,
  ]);
  assert.is(m.code, 0, m.stderr);
  const curve = (name: string) =>
    Float32Array.from(JSON.parse(readFileSync(`${out}/metrics/curve-${name}.json`, 'utf8')).scores);
  return {
    saliency: loadNpyFile(`${out}/saliency.npy`).data,
    insertion: curve('insertion'),
    deletion: curve('deletion'),
  };
}

for (const [method, settings, extra, saliencyTolerance] of [
  // Maps in [0, 1]; SwiftShader and lavapipe round differently (the CAM goldens' bound).
  ['gradcam', `document.getElementById('layer').value = 'layer3'`, ['--layer', 'layer3'], 1e-3],
  ['rise', `document.getElementById('masks').value = '16'`, ['--masks', '16'], 1e-4],
] as const) {
  test(`the example page's ${method} on files a user picks matches the CLI`, async () => {
    await page.setFiles('#weights', [WEIGHTS]);
    await page.setFiles('#image', [IMAGE]);
    await page.evaluate(`(() => {
      document.getElementById('method').value = '${method}';
      document.getElementById('size').value = '${SIZE}';
      document.getElementById('step').value = '${STEP}';
      document.getElementById('batch').value = '${BATCH}';
      ${settings};
      window.lastRun = undefined;
      document.getElementById('run').click();
    })()`);
    await page.waitFor(
      `['done', 'error'].includes(document.getElementById('status').dataset.state) && document.getElementById('run').disabled === false`,
      240_000,
    );
    const state = await page.evaluate<string>(
      `document.getElementById('status').dataset.state + ': ' + document.getElementById('status').textContent`,
    );
    assert.ok(state.startsWith('done'), state);
    assert.ok(
      await page.evaluate<boolean>(
        `document.getElementById('weights-name').textContent === 'demo-resnet18-w16.pth' && document.getElementById('image-name').textContent === 'rgb_37x23.png'`,
      ),
      'the page did not take the files',
    );
    assert.ok(await page.evaluate<boolean>(`document.querySelector('#curves svg') !== null`), 'no curves drawn');
    const r = await page.evaluate<LastRun>('window.lastRun');
    assert.is(r.method, method);
    const ref = cliRun(method, extra);
    const scale = method === 'rise' ? Math.max(...ref.saliency.map(Math.abs)) : 1;
    assertClose(r.saliency, ref.saliency, saliencyTolerance * scale, 0, `${method} saliency, page vs CLI`);
    // The curves rank pixels by the map: a tie broken the other way moves a step's score a little.
    assertClose(r.curves.insertion, ref.insertion, 1e-3, 0, 'insertion, page vs CLI');
    assertClose(r.curves.deletion, ref.deletion, 1e-3, 0, 'deletion, page vs CLI');
  });
}

test('the live mode explains fake-webcam frames on the GPU and shows its frame rate', async () => {
  await page.evaluate(
    `(() => { document.getElementById('live-method').value = 'abscam-init'; document.getElementById('webcam').click(); })()`,
  );
  await page.waitFor(
    `document.getElementById('fps').dataset.fps || document.getElementById('status').dataset.state === 'error'`,
    120_000,
  );
  const status = await page.evaluate<string>(`document.getElementById('status').textContent`);
  assert.is(status, 'live', status);
  // Two more readings, for the report.
  const readings: string[] = [];
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 2500));
    readings.push(await page.evaluate<string>(`document.getElementById('fps').textContent`));
  }
  console.log(`  live mode in Chromium (SwiftShader): ${readings.join('; ')}`);
  assert.is(
    await page.evaluate<string>(`document.getElementById('status').textContent`),
    'live',
    'the live loop stopped',
  );
  assert.ok(await page.evaluate<boolean>(`Number(document.getElementById('fps').dataset.fps) > 0`));
  await page.evaluate(`document.getElementById('stop').click()`);
});

test.run();
