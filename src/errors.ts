/**
 * An error caused by the user's input or environment (a missing file, a corrupt checkpoint, a
 * wrong shape, no GPU adapter). Its message is one line that says what is wrong and, where it
 * can, what to do; the CLI prints it without a stack trace and exits non-zero.
 */
export class XaiError extends Error {
  override name = 'XaiError';
}
