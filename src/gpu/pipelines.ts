/**
 * Compute pipelines, created once per key: shader file + entry point + override constants.
 * Kernels put the *class* of a shape in the constants (kernel size, stride, flags) and the sizes in
 * a uniform, so a new input size reuses every pipeline (as ORT-web's program manager does).
 */
import { WGSL } from './wgsl.generated.js';

export interface PipelineKey {
  /** File name in shaders/ without `.wgsl`. */
  shader: string;
  entryPoint?: string;
  constants?: Record<string, number>;
}

export function pipelineLabel(key: PipelineKey): string {
  const c = key.constants ? Object.entries(key.constants).map(([k, v]) => `${k}=${v}`).join(',') : '';
  return `${key.shader}${key.entryPoint && key.entryPoint !== 'main' ? `.${key.entryPoint}` : ''}${c ? `[${c}]` : ''}`;
}

export class PipelineCache {
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();

  constructor(private device: GPUDevice) {}

  get(key: PipelineKey): GPUComputePipeline {
    const label = pipelineLabel(key);
    let pipeline = this.pipelines.get(label);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline({
        label,
        layout: 'auto',
        compute: { module: this.module(key.shader), entryPoint: key.entryPoint ?? 'main', constants: key.constants },
      });
      this.pipelines.set(label, pipeline);
    }
    return pipeline;
  }

  private module(name: string): GPUShaderModule {
    let m = this.modules.get(name);
    if (!m) {
      const code = WGSL[name];
      if (code === undefined) throw new Error(`no shader named ${name} (shaders/${name}.wgsl)`);
      m = this.device.createShaderModule({ label: name, code });
      this.modules.set(name, m);
    }
    return m;
  }
}
