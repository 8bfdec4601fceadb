// The release routes are part of `npm start` (src/start/main.ts, needs `npm run build`), ahead of the
// collector's /v1/ 404 and beside the app's /models/.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseManifestSchema } from '../../src/registry/ReleaseManifest';
import { startAppServer } from '../helpers/appServer';
import type { SpawnedServer } from '../helpers/spawnServer';
import { call, publish, setPercent } from './startReleaseServer';

const TINY_MLP = new Uint8Array(readFileSync('models/generated/tiny-mlp.onnx'));

describe('releases in npm start', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await startAppServer();
  }, 60_000);
  afterAll(() => server?.stop());

  it('publishes, assigns through the manifest, and the manifest URLs serve the bytes', async () => {
    expect((await publish(server.url, 'tiny-mlp', '2', TINY_MLP)).status).toBe(201);
    expect((await setPercent(server.url, 'tiny-mlp', '2', 50)).status).toBe(200);
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const answer = await call(`${server.url}/v1/manifest?install=npm-start-${i}`);
      expect(answer.status).toBe(200);
      // Exactly what the page reads with (src/client/fetchReleaseManifest.ts): one schema for both sides.
      const parsed = v.safeParse(ReleaseManifestSchema, answer.body);
      expect(parsed.issues ?? []).toEqual([]);
      const entry = answer.body.models['tiny-mlp'];
      seen.add(entry.version);
      const bytes = await fetch(`${server.url}${entry.url}`, { signal: AbortSignal.timeout(10_000) });
      expect(bytes.status).toBe(200);
      expect(
        createHash('sha256')
          .update(new Uint8Array(await bytes.arrayBuffer()))
          .digest('hex'),
      ).toBe(entry.sha256);
    }
    expect([...seen].sort()).toEqual(['1', '2']);
  }, 60_000);
});
