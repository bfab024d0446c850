/** Top-1 classes from logits read back to the host: used by the backward pass, the explainers and the metrics alike. */

/** Index of the largest value per row of [rows, cols] (the first one on ties, as torch.argmax). */
export function argmaxRows(t: { shape: number[]; data: Float32Array }): Uint32Array {
  const [rows, cols] = t.shape;
  const out = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (t.data[r * cols + c] > t.data[r * cols + best]) best = c;
    out[r] = best;
  }
  return out;
}
