/**
 * Progress with ETA on stderr for long runs: rewritten in place on a terminal, otherwise one line
 * per 10% so that logs stay short.
 */
export function progressReporter(
  what: string,
  stream: NodeJS.WriteStream = process.stderr,
): (done: number, total: number, detail?: string) => void {
  const start = performance.now();
  let lastDecile = -1;
  return (done, total, detail) => {
    const secs = (performance.now() - start) / 1000;
    const eta = done > 0 ? (secs / done) * (total - done) : 0;
    const line = `${what}: ${done}/${total} (${Math.round((100 * done) / total)}%), ${secs.toFixed(1)} s, ETA ${eta.toFixed(1)} s${detail ? ` (${detail})` : ''}`;
    if (stream.isTTY) {
      stream.write(`\r${line}\x1b[K${done >= total ? '\n' : ''}`);
    } else {
      const decile = Math.floor((10 * done) / total);
      if (decile !== lastDecile) {
        lastDecile = decile;
        stream.write(`${line}\n`);
      }
    }
  };
}
