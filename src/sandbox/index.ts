/**
 * The sandbox: model work the servers did not write runs in child processes that can be killed.
 *
 * onnxruntime-node runs a session synchronously on the calling thread, and neither a worker thread's
 * `terminate()` nor `RunOptions.terminate` (WASM only) stops a native run; `resourceLimits` caps only the V8
 * heap. So anything that loads or runs a model someone uploaded or registered runs here, in a child process
 * with a wall-clock limit and an RSS cap watched from outside (`/proc/<pid>/status`, every 20 ms); past either
 * the child gets SIGKILL and the call rejects with an `OnDeviceError`:
 *   - `TIMEOUT`, `details: { reason: 'TIMEOUT', limitMs }`
 *   - `OUT_OF_MEMORY`, `details: { reason: 'MEMORY', limitBytes, rssBytes }`
 *   - `WORKER_CRASHED` when the child dies otherwise; whatever a task throws comes back as its OnDeviceError.
 * The server's own thread only routes. A child whose server dies kills itself (a watchdog thread notices it
 * was re-parented, even while its main thread is stuck in a native run), and children still alive when the
 * server exits are killed with it.
 *
 * Limits (sandboxLimits.ts): each is a base plus a multiple of the model set's bytes, so real-size sets load
 * and a 300-byte bomb cannot run for minutes — time `timeBaseMs + timeMsPerMiB × MiB` (default 60 s + 100 ms
 * per MiB), memory `memoryBaseBytes + memoryPerModelByte × bytes` (default 2 GiB + 3 × bytes); settings from
 * the environment with `sandboxSettingsFromEnv` (`ONDEVICE_SANDBOX_*`).
 *
 * A model is a set of files on disk (`ModelFiles`): an `.onnx` file and the external-data files beside it;
 * the limits count all of them.
 *
 * What to call:
 *   - `readSignatureInSandbox(files)` → `{ inputs, outputs }`: proves the set loads (publish checks).
 *   - `writeOptimizedCopyInSandbox(files, to, feeds, { level, label })`: writes the pre-optimised copy and
 *     checks it computes the same outputs as the original on `feeds`.
 *   - `runSandboxed(tasksUrl, task, args, { modelBytes })`: one call of your own task module in a fresh child
 *     (these three run at most one child per core at a time; later calls wait their turn).
 *   - `new SandboxPool({ tasks, processes })`, `pool.call(task, args, { models, timeoutMs })`: long-lived
 *     children that keep what they loaded (warm sessions), FIFO, replaced when killed or crashed.
 *
 * A task module is a file that exports `tasks`, an object of async functions of one structured-cloneable
 * argument (typed arrays and BigInts travel as they are); the child imports it by URL. A task that loads a model
 * and then runs it calls `reportRunning()` in between: with `runTimeoutMs` (SandboxPool's `timeoutMs`) the run
 * then gets its own limit, apart from the load's. The messages between
 * server and child are written down in sandboxProtocol.ts.
 *
 * @example
 * import { readSignatureInSandbox } from '../sandbox';
 * try {
 *   const { inputs } = await readSignatureInSandbox({ onnx: path.join(dir, 'model.onnx'), externalData: ['model.onnx.data'] });
 * } catch (e) {
 *   if (e instanceof OnDeviceError && e.details.reason === 'MEMORY') answer422('the model needs more memory than its limit');
 * }
 */
export { modelFilesBytes, modelFilePaths, type ModelFiles } from './ModelFiles';
export { readSignatureInSandbox } from './readSignatureInSandbox';
export { reportRunning } from './reportRunning';
export { runSandboxed, type RunSandboxedOptions } from './runSandboxed';
export { SandboxPool, type ModelCost, type PoolCallOptions, type SandboxPoolOptions } from './SandboxPool';
export { SandboxProcess, type SandboxCallOptions, type SandboxStartOptions } from './SandboxProcess';
export type { SandboxTasks, TaskArgs, TaskName, TaskResult } from './sandboxProtocol';
export { DEFAULT_SANDBOX_SETTINGS, sandboxLimits, type SandboxLimits, type SandboxSettings } from './sandboxLimits';
export { sandboxSettingsFromEnv } from './sandboxSettingsFromEnv';
export { writeOptimizedCopyInSandbox } from './writeOptimizedCopyInSandbox';
