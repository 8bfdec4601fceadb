// The one polling helper of the test suite. Prefer awaiting an event (a promise, playwright's own waits);
// poll only what has no event to await (a database row, a counter on a server, a process's output).

export interface WaitForOptions {
  /** Fail after this long (default 20 s). A wait that runs out throws: it never returns quietly. */
  timeoutMs?: number;
  /** Pause between two probes (default 100 ms). */
  intervalMs?: number;
}

/**
 * Poll `probe` until it returns a value other than `undefined`, `null` or `false`, and return that value.
 * Throws after `timeoutMs` with `what` (a function is asked only then: a process's output so far) and the
 * last value seen; an error thrown by `probe` fails at once.
 *
 * @example
 * const job = await waitFor('the job to finish', async () => (await jobs()).find((j) => j.state === 'succeeded'));
 * await waitFor('the worker to start', () => pool.busy === 1, { timeoutMs: 5_000, intervalMs: 10 });
 * await waitFor(() => `the server to lead:\n${server.output()}`, () => server.output().includes('leader'));
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 20_000, intervalMs = 100 }: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}; last value: ${describe(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function describe(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}
