import { sandboxSettingsFromEnv } from '../sandbox';
import type { InferenceServerOptions } from './createInferenceServer';

/**
 * `ONDEVICE_WORKERS`, `ONDEVICE_QUEUE_LIMIT`, `ONDEVICE_MAX_BODY_BYTES`, `ONDEVICE_MAX_RESPONSE_BYTES`,
 * `ONDEVICE_RUN_TIMEOUT_MS`, `ONDEVICE_API_TOKEN`, `ONDEVICE_API_RATE_PER_SECOND` / `ONDEVICE_API_RATE_BURST`,
 * `ONDEVICE_MODELS_DIR`, `ONDEVICE_BATCH_MAX` (rows; turns dynamic batching on) / `ONDEVICE_BATCH_DELAY_MS`
 * (default 2), and the sandbox limits `ONDEVICE_SANDBOX_*` (sandboxSettingsFromEnv).
 */
export function inferenceServerOptionsFromEnv(env: NodeJS.ProcessEnv, host: string): InferenceServerOptions {
  const int = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
    return n;
  };
  const perSecond = int('ONDEVICE_API_RATE_PER_SECOND');
  const batchMax = int('ONDEVICE_BATCH_MAX');
  return {
    host,
    modelsDir: env.ONDEVICE_MODELS_DIR || undefined,
    workers: int('ONDEVICE_WORKERS'),
    queueLimit: int('ONDEVICE_QUEUE_LIMIT'),
    maxBodyBytes: int('ONDEVICE_MAX_BODY_BYTES'),
    maxResponseBytes: int('ONDEVICE_MAX_RESPONSE_BYTES'),
    runTimeoutMs: int('ONDEVICE_RUN_TIMEOUT_MS'),
    sandbox: sandboxSettingsFromEnv(env),
    apiToken: env.ONDEVICE_API_TOKEN || undefined,
    ...(batchMax ? { batching: { maxBatch: batchMax, maxDelayMs: int('ONDEVICE_BATCH_DELAY_MS') ?? 2 } } : {}),
    ...(perSecond !== undefined ? { rateLimit: { perSecond, burst: int('ONDEVICE_API_RATE_BURST') ?? perSecond * 2 } } : {}),
  };
}
