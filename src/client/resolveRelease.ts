import type { ModelSource } from '../core/protocol';
import { OnDeviceError } from '../core/OnDeviceError';
import type { ReleaseEntry } from '../registry/ReleaseManifest';
import { sharedInstallId } from '../telemetry/installId';
import { rememberAssignment, storedAssignment } from './assignmentStore';
import { getConfig } from './configure';
import { fetchReleaseManifest, type ManifestAnswer } from './fetchReleaseManifest';
import { ownValue } from '../core/ownValue';

let answerPromise: Promise<ManifestAnswer> | undefined;
let answerServer: string | undefined;

/** Where `GET /v1/manifest` is asked: `configure({ server })`, else the origin that serves ondevice.js. */
export function releaseServer(): string {
  const config = getConfig();
  return new URL(config.server ?? '/', config.baseUrl).href;
}

/**
 * The version the server assigns this install for registry id `id`, as a source the worker loads;
 * undefined when there is no release server (static hosting) or it does not release this model, so the
 * caller resolves through registry.json as before. Offline, or when the server cannot be reached within
 * MANIFEST_TIMEOUT_MS, the assignment last stored for this install stands. `fresh` asks the server again
 * (`model.update()`) instead of reusing this page's answer; it also loads exactly the assigned version.
 */
export async function resolveRelease(
  id: string,
  options: { signal?: AbortSignal; fresh?: boolean } = {},
): Promise<ModelSource | undefined> {
  const server = releaseServer();
  const answer = await untilAborted(manifestAnswer(server, options.fresh ?? false), options.signal);
  if (answer.kind === 'manifest') {
    const entry = ownValue(answer.manifest.models, id);
    if (!entry) return undefined;
    // Fire-and-forget: the stored assignment only serves later offline loads; failing to keep it changes nothing now.
    void rememberAssignment(server, entry).catch(() => undefined);
    return sourceFromRelease(entry, server, options.fresh ?? false);
  }
  if (answer.kind === 'unreachable') {
    const stored = await storedAssignment(server, id).catch(() => undefined);
    if (stored) return sourceFromRelease(stored, server, false);
  }
  return undefined;
}

function manifestAnswer(server: string, fresh: boolean): Promise<ManifestAnswer> {
  if (fresh || !answerPromise || answerServer !== server) {
    const next = sharedInstallId().then((install) => fetchReleaseManifest(server, install));
    answerServer = server;
    answerPromise = next;
    // An unreachable server is asked again by the next load; a manifest or "no server here" holds for this page.
    void next.then((answer) => {
      if (answer.kind === 'unreachable' && answerPromise === next) answerPromise = undefined;
    });
  }
  return answerPromise;
}

function sourceFromRelease(entry: ReleaseEntry, server: string, exact: boolean): ModelSource {
  const { dims, fill } = entry.sample ?? {};
  return {
    url: new URL(entry.url, server).href,
    id: entry.id,
    version: entry.version,
    sha256: entry.sha256,
    bytes: entry.bytes,
    ...(entry.externalData ? { externalData: entry.externalData.map((d) => ({ ...d, url: new URL(d.url, server).href })) } : {}),
    ...(entry.totalBytes !== undefined ? { totalBytes: entry.totalBytes } : {}),
    inputs: entry.inputs,
    outputs: entry.outputs,
    ...(dims || fill ? { sample: { dims, fill } } : {}),
    ...(entry.optimized ? { optimized: { ...entry.optimized, url: new URL(entry.optimized.url, server).href } } : {}),
    release: { stable: entry.stable, rolledBack: entry.rolledBack, ...(exact ? { exact } : {}) },
  };
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new OnDeviceError('ABORTED', 'Loading was aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new OnDeviceError('ABORTED', 'Loading was aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Forget this page's manifest answer (tests; a changed `configure({ server })` is noticed on its own). */
export function forgetReleaseManifest(): void {
  answerPromise = undefined;
}
