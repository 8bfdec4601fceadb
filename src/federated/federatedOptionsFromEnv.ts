/**
 * The federated endpoints' settings from the environment (their access is the release control plane's: writes need
 * ONDEVICE_ADMIN_TOKEN off loopback, reads COLLECTOR_READ_TOKEN):
 *   ONDEVICE_FEDERATED_INSTALL_REQUESTS_PER_MINUTE  round requests (offers and updates) per install a minute (default 60; 0: no limit)
 *   ONDEVICE_FEDERATED_POLL_MS                      how often a job counts an open round's updates (default 250)
 */
export function federatedOptionsFromEnv(env: NodeJS.ProcessEnv): { installRequestsPerMinute?: number; pollMs?: number } {
  const int = (name: string, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  return {
    installRequestsPerMinute: int('ONDEVICE_FEDERATED_INSTALL_REQUESTS_PER_MINUTE', 0),
    pollMs: int('ONDEVICE_FEDERATED_POLL_MS', 10),
  };
}
