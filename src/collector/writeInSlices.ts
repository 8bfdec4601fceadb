import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Write `parts` as the response body in slices of about `sliceBytes`, yielding to the event loop
 * between slices and waiting (bounded) for the socket to drain, so a large body — a `/metrics`
 * scrape at the series bound is several MB — never holds ingest requests for more than one slice.
 * `parts` may be lazy: each slice is produced just before it is written.
 */
export async function writeInSlices(
  res: ServerResponse,
  parts: Iterable<string>,
  sliceBytes = 64 * 1024,
  drainTimeoutMs = 10_000,
): Promise<void> {
  let slice = '';
  for (const part of parts) {
    slice += part;
    if (slice.length < sliceBytes) continue;
    const flushed = res.write(slice);
    slice = '';
    if (res.destroyed) return;
    if (!flushed) await drained(res, drainTimeoutMs);
    // Always a macrotask boundary: when the kernel takes a slice at once, Node emits 'drain' from
    // process.nextTick, and writing again from there would never let the event loop reach other sockets.
    await nextTurn();
    if (res.destroyed) return;
  }
  res.end(slice);
}

/** Wait (bounded) until the socket took what was written; a reader that stops reading loses its connection. */
export function drained(res: ServerResponse, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    // A reader that stops reading loses its connection rather than holding the body in memory forever.
    const timer = setTimeout(() => {
      res.destroy(new Error(`response not drained within ${timeoutMs} ms`));
      done();
    }, timeoutMs);
    res.once('drain', done);
    res.once('close', done);
  });
}
