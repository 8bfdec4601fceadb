import { OnDeviceError } from './OnDeviceError';

/**
 * Wait for `promise`, or stop waiting when `signal` fires: rejects with `ABORTED` and `message`. The work
 * itself goes on (a shared fetch, a run already inside onnxruntime); its result or failure is dropped,
 * never left unhandled.
 *
 * @example
 * const registry = await untilAborted(sharedRegistryFetch, options.signal, 'Loading was aborted');
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, message: string): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new OnDeviceError('ABORTED', message));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
