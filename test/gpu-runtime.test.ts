// The GPU runtime: errors become exceptions naming the kernel, device loss is reported, the
// buffer pool reuses and counts, a host's device is borrowed and not destroyed, the profiler times
// each dispatch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GpuContext, packUniforms } from '../src/gpu/context.js';
import { bucketSize } from '../src/gpu/buffer-pool.js';
import { softmax } from '../src/kernels/softmax.js';
import { GpuValidationError, XaiError } from '../src/errors.js';
import { closeGpu, gpu } from './helpers.js';

test('a validation error surfaces at the next readback and names the kernel', async () => {
  const ctx = await gpu();
  const x = ctx.upload({ shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
  const y = ctx.tensor([2, 3]);
  // The softmax pipeline binds x and y; the same buffer as both, read-only and read-write, is invalid.
  ctx.dispatch({
    pipeline: { shader: 'softmax', entryPoint: 'softmax' },
    buffers: { x, y: x },
    params: { rows: 2, cols: 3 },
    workgroups: [1],
    label: 'broken-softmax',
  });
  try {
    await ctx.read(y);
    assert.unreachable('expected a GPU error');
  } catch (e) {
    assert.instance(e, GpuValidationError); // our bug, not the user's input:
    assert.not.instance(e, XaiError); // not an XaiError (exit 70, never a skipped data set item)
    assert.match((e as Error).message, /^GPU validation error in kernels \[broken-softmax\]: /);
  }
  // The context stays usable afterwards.
  const ok = await ctx.read(softmax(ctx, x));
  assert.ok(Math.abs(ok.data[0] + ok.data[1] + ok.data[2] - 1) < 1e-6);
});

test('a dispatch names its buffers as the shader does: a missing or unknown name is refused', async () => {
  const ctx = await gpu();
  const x = ctx.tensor([2, 3]);
  const run = (buffers: Record<string, typeof x>, invocations = 2) =>
    ctx.dispatch({
      pipeline: { shader: 'softmax', entryPoint: 'softmax' },
      buffers,
      params: { rows: 2, cols: 3 },
      invocations,
      label: 'named',
    });
  assert.throws(() => run({ x }), /named: buffers \{x\} given, softmax.softmax binds \{x, y\}/);
  assert.throws(() => run({ x, out: x }), /binds \{x, y\}/);
  assert.throws(
    () =>
      ctx.dispatch({
        pipeline: { shader: 'softmax', entryPoint: 'softmax' },
        buffers: { x, y: ctx.tensor([2, 3]) },
        invocations: 2,
      }),
    /params missing/,
  );
  assert.throws(
    () => ctx.dispatch({ pipeline: { shader: 'pool', entryPoint: 'nope' }, buffers: {}, invocations: 1 }),
    /no entry point pool\.nope/,
  );
  ctx.release(x);
});

test('a tensor larger than one binding is refused with its size', async () => {
  const ctx = await gpu();
  const n = Math.ceil(ctx.limits.maxStorageBufferBindingSize / 4) + 1;
  assert.throws(
    () => ctx.tensor([n], 'huge'),
    /huge: a tensor of shape \[\d+\] needs .* MiB, more than this adapter binds at once/,
  );
});

test('the buffer pool reuses freed buffers and tracks peak bytes', async () => {
  const ctx = await gpu();
  const a = ctx.tensor([1000]);
  const peak = ctx.pool.peakAllocatedBytes;
  ctx.release(a);
  ctx.release(a); // twice is harmless
  const b = ctx.tensor([990]); // same bucket
  const c = ctx.tensor([995]); // must not get the same buffer as b
  assert.is(b.buffer, a.buffer);
  assert.is.not(c.buffer, b.buffer);
  assert.ok(ctx.pool.peakAllocatedBytes >= peak);
  ctx.release(b, c);
  assert.is(bucketSize(4000), 4096);
  assert.is(bucketSize(5000), 5120);
  assert.is(bucketSize(100), 256);
});

test('profiling times every dispatch', async () => {
  const ctx = await gpu();
  if (!ctx.startProfiling()) return; // adapter without timestamp queries
  const x = ctx.upload({ shape: [4, 5], data: new Float32Array(20).fill(1) });
  softmax(ctx, x, 'sm1');
  softmax(ctx, x, 'sm2');
  const times = await ctx.stopProfiling();
  assert.equal(
    times.map((t) => t.label),
    ['sm1', 'sm2'],
  );
  assert.ok(times.every((t) => t.ns >= 0));
});

test('a host device is borrowed: close() leaves it alive', async () => {
  const owner = await gpu();
  const borrowed = GpuContext.fromDevice(owner.device);
  const t = borrowed.upload({ shape: [3], data: new Float32Array([1, 2, 3]) });
  assert.equal(Array.from((await borrowed.read(t)).data), [1, 2, 3]);
  await borrowed.close();
  const u = owner.upload({ shape: [1], data: new Float32Array([7]) });
  assert.equal(Array.from((await owner.read(u)).data), [7]);
});

test('device loss gives a clear error', async () => {
  const ctx = await GpuContext.node();
  const victim = GpuContext.fromDevice(ctx.device);
  ctx.device.destroy(); // what a driver reset looks like to us
  await ctx.device.lost;
  assert.throws(() => victim.tensor([4]), /GPU device lost \(destroyed/);
  await ctx.close();
});

test("named uniforms are packed in the order and types of the shader's struct Params; an unknown name is refused", () => {
  // rise.wgsl: batch, classes, pixels, classFrom, groupSize, masks (u32), p1 (f32), accumulate (u32).
  const bytes = packUniforms('rise', { pixels: 7, p1: 0.25, accumulate: 1 });
  const view = new DataView(bytes.buffer);
  assert.is(bytes.byteLength, 32);
  assert.equal(
    [0, 1, 2, 3, 4, 5].map((i) => view.getUint32(4 * i, true)),
    [0, 0, 7, 0, 0, 0],
  );
  assert.is(view.getFloat32(24, true), 0.25);
  assert.is(view.getUint32(28, true), 1);
  assert.throws(
    () => packUniforms('rise', { pixel: 7 }),
    /no uniform pixel in rise \(it has: batch, classes, pixels, classFrom, groupSize, masks, p1, accumulate\)/,
  );
});

test.after(closeGpu);
test.run();
