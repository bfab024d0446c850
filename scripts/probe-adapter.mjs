// Prints the WebGPU adapter Dawn finds (exit 0), or says there is none (exit 1).
import { create } from 'webgpu';

if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) {
  console.log('no WebGPU adapter');
  process.exitCode = 1;
} else {
  const i = adapter.info;
  console.log(`WebGPU adapter: ${[i.vendor, i.architecture, i.description].filter(Boolean).join(' ')}`);
  const device = await adapter.requestDevice();
  device.destroy();
}
