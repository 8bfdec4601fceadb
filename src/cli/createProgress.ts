/** A one-line progress bar with rate and ETA on a TTY (stderr); nothing elsewhere. */
export function createProgress(stream: NodeJS.WriteStream, total: number | undefined) {
  const started = performance.now();
  let done = 0;
  let failed = 0;
  let lastDraw = 0;
  const draw = (force: boolean) => {
    if (!stream.isTTY) return;
    const now = performance.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const seconds = (now - started) / 1000;
    const rate = done / Math.max(seconds, 1e-3);
    const width = 24;
    const bar = total ? `[${'#'.repeat(Math.round((done / total) * width)).padEnd(width, '-')}] ` : '';
    const eta = total && rate > 0 ? ` ETA ${Math.ceil((total - done) / rate)}s` : '';
    const fails = failed ? `, ${failed} failed` : '';
    stream.write(`\r${bar}${done}${total ? `/${total}` : ''} rows${fails} ${rate.toFixed(1)} rows/s${eta}\u001b[K`);
  };
  return {
    tick(ok: boolean) {
      done++;
      if (!ok) failed++;
      draw(false);
    },
    finish() {
      draw(true);
      if (stream.isTTY) stream.write('\n');
    },
  };
}
