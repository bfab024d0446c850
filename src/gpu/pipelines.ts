/**
 * Compute pipelines, created once per key: shader file + entry point + module constants + override
 * constants. Kernels put the *class* of a shape in the constants (kernel size, stride, flags) and the
 * sizes in a uniform, so a new input size reuses every pipeline (as ORT-web's program manager does).
 *
 * Two kinds of constant: `constants` are WGSL `override`s, set at pipeline creation; `defines`
 * replace the value of a module-scope `const NAME: u32 = ...;` in the source before it is compiled,
 * for the values WGSL does not allow an override to carry (the size of a function-scope array, i.e.
 * a kernel's register tile). Each distinct set of defines is its own shader module.
 *
 * `types` do the same for storage types: a shader declares `alias NAME = f32;` for the element type
 * of the tensors it may read or write in half precision, and `types: { NAME: 'f16' }` makes that
 * alias f16 (and adds `enable f16;`, which needs the device feature `shader-f16`). Arithmetic stays
 * f32: kernels convert on load and store.
 */
import type { StorageType } from './tensor.js';
import { WGSL } from './wgsl.generated.js';

export interface PipelineKey {
  /** File name in shaders/ without `.wgsl`. */
  shader: string;
  entryPoint?: string;
  /** Module-scope u32 constants to specialise (`const NAME: u32 = ...;` in the shader). */
  defines?: Record<string, number>;
  /** Values of the shader's `override` declarations. */
  constants?: Record<string, number>;
  /** Storage type aliases to specialise (`alias NAME = f32;` in the shader), e.g. `{ act: 'f16' }`. */
  types?: Record<string, StorageType>;
}

const list = (r?: Record<string, number | string>) =>
  r
    ? Object.entries(r)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
    : '';

export function pipelineLabel(key: PipelineKey): string {
  const c = [list(key.types), list(key.defines), list(key.constants)].filter(Boolean).join(',');
  return `${key.shader}${key.entryPoint && key.entryPoint !== 'main' ? `.${key.entryPoint}` : ''}${c ? `[${c}]` : ''}`;
}

/** The shader's source with each define's `const NAME: u32 = ...;` given the define's value. */
export function specialise(shader: string, code: string, defines: Record<string, number> = {}): string {
  for (const [name, value] of Object.entries(defines)) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`${shader}: define ${name} = ${value} is not a u32`);
    const decl = new RegExp(`^const ${name}: u32 = [^;]+;`, 'm');
    if (!decl.test(code)) {
      const known = [...code.matchAll(/^const (\w+): u32 =/gm)].map((m) => m[1]);
      throw new Error(`${shader}: no module constant ${name} to define (it has: ${known.join(', ') || 'none'})`);
    }
    code = code.replace(decl, `const ${name}: u32 = ${value}u;`);
  }
  return code;
}

/** The shader's source with each `alias NAME = f32;` made the given type (f16 adds `enable f16;`). */
export function specialiseTypes(shader: string, code: string, types: Record<string, StorageType> = {}): string {
  let half = false;
  for (const [name, type] of Object.entries(types)) {
    const decl = new RegExp(`^alias ${name} = f32;`, 'm');
    if (!decl.test(code)) throw new Error(`${shader}: no \`alias ${name} = f32;\` to specialise`);
    code = code.replace(decl, `alias ${name} = ${type};`);
    half ||= type === 'f16';
  }
  return half ? `enable f16;\n${code}` : code;
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
        compute: { module: this.module(key), entryPoint: key.entryPoint ?? 'main', constants: key.constants },
      });
      this.pipelines.set(label, pipeline);
    }
    return pipeline;
  }

  private module({ shader: name, defines, types }: PipelineKey): GPUShaderModule {
    const id = `${name}[${[list(types), list(defines)].filter(Boolean).join(',')}]`;
    let m = this.modules.get(id);
    if (!m) {
      const code = WGSL[name];
      if (code === undefined) throw new Error(`no shader named ${name} (shaders/${name}.wgsl)`);
      m = this.device.createShaderModule({
        label: id,
        code: specialiseTypes(name, specialise(name, code, defines), types),
      });
      this.modules.set(id, m);
    }
    return m;
  }
}
