import { OnDeviceError } from '../core/OnDeviceError';

const PROBE_TIMEOUT_MS = 10_000;

/**
 * After a 404, tell "that model or version does not exist" from "this server has no such API": `GET path`
 * (a list every server with that API answers, token or not) answering 404 means the routes are missing,
 * e.g. `--server` points at `ondevice serve`, which has `/v2` only. Throws NOT_SUPPORTED with one line
 * that says so; returns when the server has them.
 *
 * @example
 * if (response.status === 404) await checkServerRoute(server, '/v1/releases', 'release API');
 */
export async function checkServerRoute(server: string, path: string, what: string): Promise<void> {
  let status: number;
  try {
    const response = await fetch(`${server}${path}`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.body?.cancel();
    status = response.status;
  } catch {
    return; // unreachable now: the caller reports its own answer
  }
  if (status === 404) {
    throw new OnDeviceError(
      'NOT_SUPPORTED',
      `${server} has no ${what} (GET ${path} answered 404); point --server (or $ONDEVICE_SERVER) at the server \`npm start\` runs, not \`ondevice serve\`, which serves /v2 only`,
      { server, path },
    );
  }
}
