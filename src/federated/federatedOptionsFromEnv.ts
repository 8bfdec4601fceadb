import { LOOPBACK_HOST_NAMES } from '../http/hostAllowed';
import { isLoopbackHost } from '../http/isLoopbackHost';
import type { ReadAccessPolicy, WriteAccessPolicy } from '../http/checkWriteAccess';

/**
 * The federated endpoints' settings: access like the release control plane's (writes need ONDEVICE_ADMIN_TOKEN off
 * loopback, reads COLLECTOR_READ_TOKEN), and from the environment
 *   ONDEVICE_FEDERATED_INSTALL_REQUESTS_PER_MINUTE  round requests (offers and updates) per install a minute (default 60; 0: no limit)
 *   ONDEVICE_FEDERATED_POLL_MS                      how often a job counts an open round's updates (default 250)
 */
export function federatedOptionsFromEnv(
  env: NodeJS.ProcessEnv,
  release: { listenHost?: string; adminToken?: string; readToken?: string; requireReadToken?: boolean; allowedHosts?: string[] },
): { write: WriteAccessPolicy; read: ReadAccessPolicy; installRequestsPerMinute?: number; pollMs?: number } {
  const int = (name: string, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const loopback = release.listenHost === undefined || isLoopbackHost(release.listenHost);
  const openHosts = new Set([...LOOPBACK_HOST_NAMES, ...(release.allowedHosts ?? []).map((h) => h.trim().toLowerCase())]);
  return {
    write: { adminToken: release.adminToken || undefined, loopback, openHosts },
    read: { required: release.requireReadToken ?? !loopback, token: release.readToken || undefined, openHosts },
    installRequestsPerMinute: int('ONDEVICE_FEDERATED_INSTALL_REQUESTS_PER_MINUTE', 0),
    pollMs: int('ONDEVICE_FEDERATED_POLL_MS', 10),
  };
}
