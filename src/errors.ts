/**
 * An error caused by the user's input or environment (a missing file, a corrupt checkpoint, a
 * wrong shape, no GPU adapter). Its message is one line that says what is wrong and, where it
 * can, what to do; the CLI prints it without a stack trace and exits non-zero.
 */
export class XaiError extends Error {
  override name = 'XaiError';
}

/**
 * The GPU rejected a dispatch (a WebGPU validation error): a bug of ours, never the user's input.
 * Deliberately not an XaiError, so that nothing treats it as bad input (evaluate-dataset does not
 * skip an image for it); the CLI reports it, naming the kernels, with exit code 70.
 */
export class GpuValidationError extends Error {
  override name = 'GpuValidationError';
}
