import { databaseUrlFromEnv } from '../db/databaseUrlFromEnv';
import { isLoopbackHost } from '../http/isLoopbackHost';
import { sandboxSettingsFromEnv } from '../sandbox';
import type { ReleaseControlOptions } from './createReleaseControl';

/**
 * Release settings from the environment:
 *   ONDEVICE_ADMIN_TOKEN              bearer token for publishing and rollout changes (required off loopback)
 *   ONDEVICE_ROLLOUT_CONFIG           rollout policy file (default config/rollout.json)
 *   ONDEVICE_RELEASE_EVAL_INTERVAL_MS decision-loop period (default: the policy file's evaluationIntervalMs)
 *   ONDEVICE_MAX_PUBLISH_BYTES        largest file of a version: each upload, a single-body publish (default 4 GiB)
 *   ONDEVICE_MAX_VERSION_BYTES        largest version, its ONNX file and external data files together (default 4 GiB)
 *   ONDEVICE_PUBLISH_BODY_TIMEOUT_MS  deadline for receiving one upload (default 600000)
 *   ONDEVICE_RELEASE_FILES_DIR        this server's disk copy of the release files (default: release-files beside
 *                                     the SQLite database, or data/release-files with PostgreSQL)
 *   ONDEVICE_UPLOAD_GRACE_MS          uploaded files no version names are removed after this (default 86400000)
 *   ONDEVICE_SANDBOX_*                limits of the sandbox processes that check uploads (sandboxSettingsFromEnv)
 * and the collector's COLLECTOR_DB_PATH, COLLECTOR_DATABASE_URL, COLLECTOR_READ_TOKEN, COLLECTOR_REQUIRE_TOKEN,
 * COLLECTOR_ALLOWED_HOSTS, COLLECTOR_WEBHOOK_URL and COLLECTOR_REGISTRY.
 */
export function releaseOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  listenHost: string,
): { dbPath: string; databaseUrl?: string } & Omit<ReleaseControlOptions, 'store' | 'metrics'> {
  const int = (name: string) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
    return n;
  };
  return {
    dbPath: env.COLLECTOR_DB_PATH || 'data/collector.sqlite',
    databaseUrl: databaseUrlFromEnv(env),
    listenHost,
    adminToken: env.ONDEVICE_ADMIN_TOKEN || undefined,
    readToken: env.COLLECTOR_READ_TOKEN || undefined,
    requireReadToken: env.COLLECTOR_REQUIRE_TOKEN === '1' || !isLoopbackHost(listenHost) || undefined,
    allowedHosts: (env.COLLECTOR_ALLOWED_HOSTS ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
    webhookUrl: env.COLLECTOR_WEBHOOK_URL || undefined,
    registryPath: env.COLLECTOR_REGISTRY || undefined,
    rolloutConfigPath: env.ONDEVICE_ROLLOUT_CONFIG || undefined,
    evaluationIntervalMs: int('ONDEVICE_RELEASE_EVAL_INTERVAL_MS'),
    maxPublishBytes: int('ONDEVICE_MAX_PUBLISH_BYTES'),
    maxVersionBytes: int('ONDEVICE_MAX_VERSION_BYTES'),
    filesDir: env.ONDEVICE_RELEASE_FILES_DIR || undefined,
    uploadGraceMs: int('ONDEVICE_UPLOAD_GRACE_MS'),
    publishBodyTimeoutMs: int('ONDEVICE_PUBLISH_BODY_TIMEOUT_MS'),
    sandbox: sandboxSettingsFromEnv(env),
  };
}
