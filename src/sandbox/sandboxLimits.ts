/** The two limits one sandboxed call runs under; past either the child is killed with SIGKILL. */
export interface SandboxLimits {
  /** Wall-clock time for the call. */
  timeoutMs: number;
  /** Resident memory (RSS) of the child process. */
  memoryBytes: number;
}

/**
 * How limits scale with the model set a call loads: each limit is a base plus a multiple of the set's bytes
 * (the `.onnx` file and its external data), so a 2.5 GB set gets room a 200-byte upload does not.
 */
export interface SandboxSettings {
  /** Time every call gets. Default 60 s. */
  timeBaseMs: number;
  /** Time added per MiB of the model set. Default 100 ms (a 2.5 GB set: 60 s + 238 s). */
  timeMsPerMiB: number;
  /** Memory every child gets: Node, onnxruntime and the working memory of a run. Default 2 GiB. */
  memoryBaseBytes: number;
  /** Memory added per byte of the model set. Default 3 (a 2.5 GB set: 2 GiB + 7.5 GB). */
  memoryPerModelByte: number;
  /** How often the child's RSS is read while it works. Default 20 ms. */
  memoryPollMs: number;
}

export const DEFAULT_SANDBOX_SETTINGS: Readonly<SandboxSettings> = Object.freeze({
  timeBaseMs: 60_000,
  timeMsPerMiB: 100,
  memoryBaseBytes: 2 * 1024 ** 3,
  memoryPerModelByte: 3,
  memoryPollMs: 20,
});

/**
 * The limits for a call that loads `modelBytes` of models.
 *
 * @example
 * sandboxLimits(2.5e9) // { timeoutMs: 298_419, memoryBytes: 9_647_483_648 }
 */
export function sandboxLimits(modelBytes: number, settings: SandboxSettings = DEFAULT_SANDBOX_SETTINGS): SandboxLimits {
  return {
    timeoutMs: Math.ceil(settings.timeBaseMs + (settings.timeMsPerMiB * modelBytes) / 1024 ** 2),
    memoryBytes: Math.ceil(settings.memoryBaseBytes + settings.memoryPerModelByte * modelBytes),
  };
}
