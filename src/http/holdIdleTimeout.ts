import type { IncomingMessage } from 'node:http';

/**
 * Lift the idle-socket timeout (serverTimeouts' `idleTimeoutMs`) while the server works on `req`'s answer, so a
 * client waiting for a long but bounded piece of work (a sandboxed run or publish check, which has its own time
 * limit) gets its answer rather than a hang-up. Call the returned function before writing the answer: it puts the
 * timeout back, so a client that then stops reading is still cut off.
 *
 * @example
 * const restore = holdIdleTimeout(req);
 * let result; try { result = await pool.run(job); } finally { restore(); }
 * sendJson(res, 200, result);
 */
export function holdIdleTimeout(req: IncomingMessage): () => void {
  const { socket } = req;
  const previous = socket.timeout ?? 0;
  if (previous === 0) return () => {};
  socket.setTimeout(0);
  return () => {
    if (!socket.destroyed) socket.setTimeout(previous);
  };
}
