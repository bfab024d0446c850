/**
 * Every explainer, declared once, in the order help texts and README.md's table list them.
 * Adding a method: its entry here (a new family: its implementation file and entry factory).
 */
import { XaiError } from '../errors.js';
import { camExplainer } from './cam.js';
import type { Explainer } from './explainer.js';
import { riseExplainer } from './rise.js';

export const EXPLAINERS: readonly Explainer[] = [
  camExplainer('abscam-init', 'w_k = mean|G_k|; normalise(upsample(Σ_k w_k A_k))  [Zeng et al., Abs-CAM, 2022]'),
  camExplainer('abscam-final', 'ReLU(Σ_k |logit_c(x ⊙ M_k)|·M_k), M_k = normalise(upsample(w_k A_k))  [Abs-CAM]'),
  camExplainer('gradcam', 'w_k = mean G_k; normalise(upsample(ReLU(Σ_k w_k A_k)))  [Selvaraju et al., ICCV 2017]'),
  camExplainer('gradcam++', 'w_k = Σ α·ReLU(G), closed-form α; then as Grad-CAM  [Chattopadhyay et al., WACV 2018]'),
  camExplainer(
    'scorecam',
    'w = softmax_k(logit_c(x ⊙ M_k)), M_k = normalise(upsample(A_k)), align_corners=True  [Wang et al., CVPRW 2020]',
  ),
  riseExplainer('rise', 'binary', 'Σ_i score_i·M_i / (N·p1), binary s×s grids upsampled  [Petsiuk et al., BMVC 2018]'),
  riseExplainer(
    'rise-gauss',
    'gaussian',
    'as RISE with clip(N(0.5, 0.25), 0, 1) grids, / (N·mean mask)  [the original project]',
  ),
  riseExplainer('rise-perlin', 'perlin', 'as RISE-Gauss with Perlin-noise grids  [ours]'),
];

export const METHODS: readonly string[] = EXPLAINERS.map((e) => e.name);

/** The explainer of a method name (an XaiError that lists the methods for any other). */
export function explainerFor(method: string): Explainer {
  const e = EXPLAINERS.find((x) => x.name === method);
  if (!e) throw new XaiError(`unknown method "${method}" (methods: ${METHODS.join(', ')})`);
  return e;
}

/** The help text's method list: "  name  summary" lines, indented by `indent`. */
export function methodsHelp(indent: string): string {
  const width = Math.max(...METHODS.map((m) => m.length));
  return EXPLAINERS.map((e) => `${indent}${e.name.padEnd(width)}  ${e.summary}`).join('\n');
}
