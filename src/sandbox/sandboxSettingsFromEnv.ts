import { DEFAULT_SANDBOX_SETTINGS, type SandboxSettings } from './sandboxLimits';

/**
 * Sandbox settings from the environment (each falls back to its default):
 *   ONDEVICE_SANDBOX_TIME_BASE_MS          time every sandboxed call gets (default 60000)
 *   ONDEVICE_SANDBOX_TIME_MS_PER_MIB       time added per MiB of the model set (default 100)
 *   ONDEVICE_SANDBOX_MEMORY_BASE_BYTES     RSS every sandbox process gets (default 2147483648)
 *   ONDEVICE_SANDBOX_MEMORY_PER_MODEL_BYTE RSS added per byte of the model set (default 3)
 */
export function sandboxSettingsFromEnv(env: NodeJS.ProcessEnv, defaults: SandboxSettings = DEFAULT_SANDBOX_SETTINGS): SandboxSettings {
  const number = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
    return n;
  };
  return {
    timeBaseMs: number('ONDEVICE_SANDBOX_TIME_BASE_MS', defaults.timeBaseMs),
    timeMsPerMiB: number('ONDEVICE_SANDBOX_TIME_MS_PER_MIB', defaults.timeMsPerMiB),
    memoryBaseBytes: number('ONDEVICE_SANDBOX_MEMORY_BASE_BYTES', defaults.memoryBaseBytes),
    memoryPerModelByte: number('ONDEVICE_SANDBOX_MEMORY_PER_MODEL_BYTE', defaults.memoryPerModelByte),
    memoryPollMs: defaults.memoryPollMs,
  };
}
