import { OnDeviceError } from './OnDeviceError';

/** A body that sends nothing for this long is abandoned (`TIMEOUT`). */
export const STALL_TIMEOUT_MS = 30_000;

export interface ReadChunksOptions {
  /** Named in errors. */
  url: string;
  /** Longest wait for the next chunk; default STALL_TIMEOUT_MS. */
  stallTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * The chunks of a response body as they arrive. Every read is bounded: a stall rejects with TIMEOUT and
 * the caller's signal with ABORTED. Either way, and when the consumer stops early (break or throw), the
 * stream is cancelled so the connection is not kept downloading for nobody.
 *
 * @example
 * for await (const chunk of readChunks(response.body, { url, signal })) buffer.append(chunk);
 */
export async function* readChunks(
  body: ReadableStream<Uint8Array>,
  options: ReadChunksOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await readWithin(reader, options);
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  { url, stallTimeoutMs = STALL_TIMEOUT_MS, signal }: ReadChunksOptions,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  if (signal?.aborted) throw new OnDeviceError('ABORTED', `The download of ${url} was aborted`, { url });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new OnDeviceError('TIMEOUT', `The download of ${url} stalled: no bytes for ${stallTimeoutMs} ms`, { url, stallTimeoutMs })),
      stallTimeoutMs,
    );
    onAbort = () => reject(new OnDeviceError('ABORTED', `The download of ${url} was aborted`, { url }));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([reader.read(), interrupted]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
