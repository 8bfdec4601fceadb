import { createHash } from 'node:crypto';
import { readSignature } from '../releases/readSignature';
import type { SandboxSettings } from '../sandbox';
import { parseFieldSamples, type FieldSample } from './FieldSample';
import type { RetrainPorts } from './runRetrainJob';

const CALL_TIMEOUT_MS = 60_000;
const PAGE = 20_000;

/**
 * Ports for a job run by the CLI against a server: the dataset export and release status with the read
 * token, publishing and the rollout with the admin token (the same calls as `ondevice release`).
 */
export function httpPorts(o: { server: string; readToken?: string; adminToken?: string; sandbox?: SandboxSettings }): RetrainPorts {
  const server = o.server.replace(/\/+$/, '');
  const read: Record<string, string> = o.readToken ? { authorization: `Bearer ${o.readToken}` } : {};
  const admin: Record<string, string> = o.adminToken ? { authorization: `Bearer ${o.adminToken}` } : {};
  const seg = encodeURIComponent;

  async function call(url: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    let detail = text.slice(0, 500);
    try {
      const body = JSON.parse(text) as { error?: unknown; code?: unknown };
      const error = typeof body.error === 'object' && body.error !== null ? (body.error as { code?: unknown; message?: unknown }) : body;
      detail = `${String(error.code ?? '')}: ${String((error as { message?: unknown }).message ?? body.error)}`;
    } catch {
      // Not JSON: the text itself.
    }
    throw new Error(`${init.method ?? 'GET'} ${new URL(url).pathname} → ${response.status} ${detail}`);
  }

  async function status(modelId: string) {
    return (await (await call(`${server}/v1/releases/${seg(modelId)}`, { headers: read })).json()) as {
      stable: string | null;
      policy: { stages: number[] };
      versions: Array<{ version: string; sha256: string }>;
    };
  }

  return {
    async current(modelId) {
      const s = await status(modelId);
      const stable = s.versions.find((r) => r.version === s.stable);
      if (!stable) throw new Error(`${modelId} has no stable release to retrain from`);
      let bytes: Uint8Array;
      const published = await fetch(`${server}/v1/releases/${seg(modelId)}/${seg(stable.version)}/model.onnx`, {
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
      if (published.ok) bytes = new Uint8Array(await published.arrayBuffer());
      else {
        // A seeded registry model: its bytes are served from /models/.
        await published.body?.cancel();
        // The registry is an array of entries (models/registry.json).
        const registry = (await (await call(`${server}/models/registry.json`)).json()) as Array<{
          id: string;
          version: string;
          file: string;
        }>;
        const entry = Array.isArray(registry) ? registry.find((m) => m.id === modelId && m.version === stable.version) : undefined;
        if (!entry) throw new Error(`cannot find the bytes of ${modelId} ${stable.version}`);
        bytes = new Uint8Array(await (await call(`${server}/models/${entry.file.split('/').map(seg).join('/')}`)).arrayBuffer());
      }
      if (createHash('sha256').update(bytes).digest('hex') !== stable.sha256)
        throw new Error(`${modelId} ${stable.version}: the downloaded bytes do not match their sha256`);
      const signature = await readSignature(bytes, o.sandbox);
      return { version: stable.version, bytes, ...signature, versions: s.versions.map((r) => r.version) };
    },
    async fieldSamples(modelId, limit) {
      const all: FieldSample[] = [];
      let since = 0;
      for (;;) {
        const url = `${server}/v1/datasets/${seg(modelId)}?since=${since}&limit=${PAGE}`;
        const page = parseFieldSamples(await (await call(url, { headers: read })).text(), `GET /v1/datasets/${modelId}`);
        all.push(...page);
        if (all.length > limit) all.splice(0, all.length - limit);
        // `since` is inclusive: the next page repeats the last millisecond (the job dedupes on id).
        const last = page.at(-1)?.receivedMs ?? since;
        if (page.length < PAGE || last === since) break;
        since = last;
      }
      return all.slice(Math.max(0, all.length - limit));
    },
    async publish(input) {
      const q = new URLSearchParams({ notes: input.notes.slice(0, 4000), metrics: JSON.stringify(input.metrics) });
      await call(`${server}/v1/releases/${seg(input.modelId)}/${seg(input.version)}?${q}`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/octet-stream' },
        body: new Uint8Array(input.bytes),
      });
    },
    async startRollout(modelId, version) {
      const percent = (await status(modelId)).policy.stages[0];
      await call(`${server}/v1/releases/${seg(modelId)}/${seg(version)}/rollout`, {
        method: 'PUT',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ percent }),
      });
      return percent;
    },
  };
}
