// The pointing game: hits within 15 px of the region, misses beyond, energy share, and ground
// truth from boxes (original-image pixels) or mask images (nearest-neighbour resize).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boxesToRegion, maskToRegion, pointingGame } from '../src/metrics/pointing.js';

const [H, W] = [40, 50];

function mapWithPeak(y: number, x: number): Float32Array {
  const m = new Float32Array(H * W).fill(0.1);
  m[y * W + x] = 1;
  return m;
}

test('hit within 15 px of the region, miss at 16, inside is a hit', () => {
  const region = boxesToRegion([[10, 5, 20, 15]], W, H, H, W); // x 10..19, y 5..14
  assert.ok(pointingGame(mapWithPeak(10, 15), region, H, W).hit, 'inside');
  assert.ok(pointingGame(mapWithPeak(14 + 15, 15), region, H, W).hit, '15 px below the last row');
  assert.not.ok(pointingGame(mapWithPeak(14 + 16, 15), region, H, W).hit, '16 px below');
  assert.not.ok(pointingGame(mapWithPeak(14 + 11, 19 + 11), region, H, W).hit, 'diagonal 11,11: 15.6 px');
  assert.ok(pointingGame(mapWithPeak(14 + 10, 19 + 10), region, H, W).hit, 'diagonal 10,10: 14.1 px');
});

test('energy: the share of the non-negative map inside the region', () => {
  const region = new Uint8Array(H * W);
  region.fill(1, 0, W); // first row
  const map = new Float32Array(H * W).fill(-1);
  map.fill(3, 0, W); // 150 inside
  map.fill(1, W, 3 * W); // 100 outside; negatives count as 0
  const r = pointingGame(map, region, H, W);
  assert.ok(Math.abs(r.energy - 150 / 250) < 1e-12);
  assert.equal(r.peak, [0, 0]);
});

test('boxes scale from the original image to the model size; masks resize by nearest neighbour', () => {
  const region = boxesToRegion([[0, 0, 100, 50]], 200, 100, 10, 10); // left half, top half
  assert.is(
    region.reduce((a, b) => a + b, 0),
    25,
  );
  assert.is(region[0], 1);
  assert.is(region[5], 0);
  const mask = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 3) };
  mask.data.fill(255, 3 * 3, 4 * 3); // pixel (0, 3)
  const r = maskToRegion(mask, 4, 8);
  assert.equal(
    Array.from(r),
    [0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  );
});

test.run();
