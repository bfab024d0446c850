// The example page: a checkpoint and an image (yours or the bundled demo), one method, the
// overlay, RISE's progress and the insertion/deletion curves; and a live mode that explains
// webcam or video frames with Grad-CAM / Abs-CAM Init as fast as the adapter allows, the frames
// going to the GPU and the overlay drawn there (no readback). Plain JS: served as it is.
import {
  GpuContext, ResNet, parseWeights, decodeImageBitmap, rgbFromImage, resizeBilinearPIL, toNormalizedTensor,
  denormalizeToRgb, overlayHeatmap, EXPLAINERS, explainerFor, saliencyPlane, CausalMetrics, curvesSvg,
  CamExplainer, drawOverlay, auc,
} from 'webgpu-xai';

const $ = (id) => document.getElementById(id);
const DEMO = { weights: '/weights/demo-resnet18-w16.pth', image: '/weights/demo.png' };

let ctx;
let model = { key: '', net: undefined };
let imageFile; // a File from the input or a drop; undefined: the demo image

for (const e of EXPLAINERS) $('method').append(new Option(e.name, e.name));
$('method').value = 'abscam-init';

function status(text, state = 'busy') {
  $('status').textContent = text;
  $('status').dataset.state = state;
}

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function gpu() {
  ctx ??= await GpuContext.browser();
  return ctx;
}

/** The chosen checkpoint as a ResNet, loaded once per file. */
async function loadModel() {
  const file = $('weights').files[0];
  const key = file ? `${file.name}:${file.size}:${file.lastModified}` : 'demo';
  if (model.key !== key) {
    model.net?.dispose();
    const bytes = file ? new Uint8Array(await file.arrayBuffer()) : await fetchBytes(DEMO.weights);
    model = { key, net: ResNet.fromStateDict(await gpu(), parseWeights(bytes, file?.name ?? 'demo-resnet18-w16.pth')) };
  }
  return model.net;
}

async function loadImage() {
  const bytes = imageFile ?? (await fetchBytes(DEMO.image));
  return decodeImageBitmap(bytes, imageFile?.name ?? 'demo.png');
}

function drawRgb(canvas, img) {
  canvas.width = img.width;
  canvas.height = img.height;
  const rgba = new ImageData(img.width, img.height);
  for (let i = 0; i < img.width * img.height; i++) {
    rgba.data.set(img.data.subarray(3 * i, 3 * i + 3), 4 * i);
    rgba.data[4 * i + 3] = 255;
  }
  canvas.getContext('2d').putImageData(rgba, 0, 0);
}

/** One explanation, the CLI's way: CPU preprocessing, the overlay of overlay.png, evaluate --metric both. */
async function explainOnce() {
  $('run').disabled = true;
  try {
    status('loading the model and the image…');
    const net = await loadModel();
    const size = Number($('size').value);
    const x = toNormalizedTensor(resizeBilinearPIL(rgbFromImage(await loadImage()), size, size));
    const method = $('method').value;
    const explainer = explainerFor(method);
    const bar = $('progress');
    bar.hidden = !explainer.progress;
    bar.value = 0;
    status(`explaining with ${method}…`);
    const batch = Number($('batch').value) || undefined;
    const r = await explainer.explain(net, x, {
      layer: $('layer').value,
      batch,
      rise: explainer.family === 'rise' ? { masks: Number($('masks').value) } : undefined,
      onProgress: (done, total) => {
        bar.max = total;
        bar.value = done;
        status(`explaining with ${method}: ${done} / ${total} ${explainer.progress}`);
      },
    });
    const plane = saliencyPlane(r, 0);
    drawRgb($('overlay'), overlayHeatmap(denormalizeToRgb(x), plane.data));
    $('prediction').textContent = `class ${r.classes[0]} (logit ${r.scores[0].toFixed(3)}); ${r.timingsMs.total} ms`;
    status('insertion and deletion…');
    const metrics = new CausalMetrics(net);
    const curves = await metrics.evaluate(x, plane, ['insertion', 'deletion'], { step: Number($('step').value), batch });
    metrics.dispose();
    $('curves').innerHTML = curvesSvg(`${method}, class ${curves[0].classIndex}`, curves.map((c) => ({ label: `${c.metric} (AUC ${auc(c.scores).toFixed(4)})`, scores: c.scores })));
    // What this run computed, for scripts driving the page (the end-to-end test reads it).
    window.lastRun = {
      method, classes: r.classes, shape: r.saliency.shape, saliency: Array.from(r.saliency.data),
      curves: Object.fromEntries(curves.map((c) => [c.metric, c.scores])),
    };
    status('done', 'done');
  } catch (e) {
    console.error(e);
    status(String(e.message ?? e), 'error');
  } finally {
    $('run').disabled = false;
    $('progress').hidden = true;
  }
}

// ---- live mode: frames → GPU → explanation → overlay on a WebGPU canvas, no readback ----------

let live = false;
// ?canvas=off: explain and draw the overlays without presenting them. Headless Chromium 156 on
// SwiftShader loses its GPU instance ("Instance dropped") a few frames after a WebGPU canvas starts
// presenting, so the end-to-end test measures the live loop this way.
const SHOW_CANVAS = new URLSearchParams(location.search).get('canvas') !== 'off';

async function runLive(video) {
  const net = await loadModel();
  const size = Number($('size').value);
  const cam = new CamExplainer(net);
  const canvas = $('live');
  const target = canvas.getContext('webgpu');
  let configured = '';
  let frameTexture; // the current frame on the GPU: explained, then copied to the canvas
  let frames = 0;
  let since = performance.now();
  live = true;
  $('stop').disabled = false;
  while (live) {
    if (video.readyState < 2) {
      await new Promise((r) => requestAnimationFrame(r));
      continue;
    }
    if (configured !== `${video.videoWidth}x${video.videoHeight}`) {
      configured = `${video.videoWidth}x${video.videoHeight}`;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      // rgba8unorm, the frame texture's format, so that a frame is copied to the canvas on the GPU.
      target.configure({ device: ctx.device, format: 'rgba8unorm', usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_DST, alphaMode: 'opaque' });
      frameTexture?.destroy();
      frameTexture = ctx.device.createTexture({
        size: [canvas.width, canvas.height], format: 'rgba8unorm',
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_SRC | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
      });
    }
    // One frame onto the GPU, explained there (a GPUTexture input), then shown with its overlay.
    const bitmap = await createImageBitmap(video);
    ctx.device.queue.copyExternalImageToTexture({ source: bitmap }, { texture: frameTexture }, [canvas.width, canvas.height]);
    bitmap.close();
    const r = await cam.explainToGpu($('live-method').value, frameTexture, { inputSize: { height: size, width: size }, layer: $('layer').value });
    drawOverlay(ctx, r.saliency, frameTexture);
    ctx.release(r.saliency);
    if (SHOW_CANVAS) {
      const encoder = ctx.device.createCommandEncoder();
      encoder.copyTextureToTexture({ texture: frameTexture }, { texture: target.getCurrentTexture() }, [canvas.width, canvas.height]);
      ctx.device.queue.submit([encoder.finish()]);
    }
    frames++;
    const now = performance.now();
    if (now - since >= 1000) {
      const fps = (1000 * frames) / (now - since);
      $('fps').textContent = `${fps.toFixed(1)} frames/s (${size}×${size}, ${$('live-method').value})`;
      $('fps').dataset.fps = String(fps);
      frames = 0;
      since = now;
    }
    await new Promise((r) => requestAnimationFrame(r));
  }
}

async function startLive(setSource) {
  live = false;
  const video = $('video');
  try {
    await setSource(video);
    await video.play();
    status('live', 'live');
    await runLive(video);
  } catch (e) {
    console.error(e);
    status(String(e.message ?? e), 'error');
  }
}

$('webcam').onclick = () => startLive(async (v) => {
  v.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
});
$('video-file').onchange = () => {
  const f = $('video-file').files[0];
  if (f) startLive(async (v) => { v.srcObject = null; v.src = URL.createObjectURL(f); });
};
$('stop').onclick = () => {
  live = false;
  $('stop').disabled = true;
  const v = $('video');
  v.pause();
  v.srcObject?.getTracks().forEach((t) => t.stop());
};

// ---- inputs ------------------------------------------------------------------------------------

$('run').onclick = explainOnce;
$('weights').onchange = () => { $('weights-name').textContent = $('weights').files[0]?.name ?? 'bundled demo'; };
const setImage = (f) => { imageFile = f; $('image-name').textContent = f?.name ?? 'bundled demo image'; };
$('image').onchange = () => setImage($('image').files[0]);
const drop = $('drop');
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add('over'); };
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer.files[0]) setImage(e.dataTransfer.files[0]);
};
status('Pick a method and press Explain.', 'idle');
