/**
 * The steps of a start, in order: the page's (`script` … `loaded`) and the worker's (`worker` … `smoke-run`).
 * Each is a User Timing mark named `ondevice:<step>`, so DevTools' Performance panel shows where a start's
 * time goes, and the warm-start benchmark reads them (the worker's through the test-only hooks).
 */
export type StartupStep =
  | 'script'
  | 'worker-created'
  | 'runtime-compiled'
  | 'worker-ready'
  | 'loaded'
  | 'worker'
  | 'ort-imported'
  | 'wasm-ready'
  | 'load'
  | 'bytes-ready'
  | 'session-ready'
  | 'smoke-run';

/**
 * Mark `step` now (`detail`: which model). Never throws: where User Timing is missing (old browsers,
 * Node) a start is simply not marked.
 *
 * @example
 * markStartup('session-ready', 'ppocr-v4-det');
 */
export function markStartup(step: StartupStep, detail?: string): void {
  try {
    globalThis.performance?.mark?.(`ondevice:${step}`, detail === undefined ? undefined : { detail });
  } catch {
    // No User Timing here: nothing to mark.
  }
}
