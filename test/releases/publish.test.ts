import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, publish, setPercent, startReleaseServer, type StartedReleaseServer } from './startReleaseServer';

const TINY_MLP = new Uint8Array(readFileSync('models/generated/tiny-mlp.onnx'));
const COUNTER = new Uint8Array(readFileSync('models/generated/counter.onnx'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The assignment rule as the client engineer's test server computes it, written out independently. */
function bucketOf(installId: string, modelId: string): number {
  const d = createHash('sha256').update(`${installId}:${modelId}`).digest();
  return (d[0] * 2 ** 24 + d[1] * 2 ** 16 + d[2] * 2 ** 8 + d[3]) % 100;
}

describe('publishing, the manifest and the bytes', () => {
  let srv: StartedReleaseServer;
  beforeAll(async () => {
    srv = await startReleaseServer({ env: { ONDEVICE_MAX_PUBLISH_BYTES: String(64 * 1024) } });
  }, 60_000);
  afterAll(async () => {
    await srv?.stop();
    srv?.cleanup();
  });
  // tiny-mlp 2 and breaking-1 are published once per file, by whichever test needs them first (so each test also
  // runs alone); the tests that publish them check the answers.
  let v2: ReturnType<typeof publish> | undefined;
  const publishV2 = () => (v2 ??= publish(srv.url, 'tiny-mlp', '2', TINY_MLP, `?metrics=${encodeURIComponent('{"accuracy":0.91}')}`));
  let breaking: ReturnType<typeof publish> | undefined;
  const publishBreaking = () => (breaking ??= publish(srv.url, 'tiny-mlp', 'breaking-1', COUNTER, '?breaking=1&notes=new%20inputs'));
  const versionsOf = async (modelId: string) =>
    ((await call(`${srv.url}/v1/releases/${modelId}`)).body.versions as { version: string; state: string; percent: number }[]).map(
      (v) => `${v.version}:${v.state}:${v.percent}`,
    );

  it('seeds every registry model as its stable release in the manifest', async () => {
    const res = await call(`${srv.url}/v1/manifest?install=i-1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const registry = JSON.parse(readFileSync('models/registry.json', 'utf8')) as Array<{
      id: string;
      version: string;
      file: string;
      sha256: string;
      optimized?: { file: string; sha256: string; bytes: number; onnxruntime: string };
    }>;
    for (const e of registry) {
      expect(res.body.models[e.id]).toMatchObject({
        id: e.id,
        version: e.version,
        sha256: e.sha256,
        url: `/models/${e.file}`,
        stable: e.version,
        state: 'stable',
        rolledBack: [],
      });
      // The registry's pre-optimised copy travels with its version, for the WASM backend.
      const { optimized } = e;
      expect(res.body.models[e.id].optimized).toEqual(
        optimized && {
          url: `/models/${optimized.file}`,
          sha256: optimized.sha256,
          bytes: optimized.bytes,
          onnxruntime: optimized.onnxruntime,
        },
      );
    }
    expect(Object.values(res.body.models).filter((m) => (m as { optimized?: unknown }).optimized)).toHaveLength(5);
  });

  it('refuses a corrupt upload and an incompatible signature with clear errors, and accepts --breaking', async () => {
    const before = await versionsOf('tiny-mlp');
    const corrupt = await publish(srv.url, 'tiny-mlp', '2', TINY_MLP.subarray(0, 1000));
    expect(corrupt.status).toBe(422);
    expect(corrupt.body).toMatchObject({ code: 'MODEL_LOAD_FAILED' });
    expect(corrupt.body.error).toMatch(/not a well-formed ONNX model/);

    const incompatible = await publish(srv.url, 'tiny-mlp', '2', COUNTER);
    expect(incompatible.status).toBe(409);
    expect(incompatible.body.code).toBe('INCOMPATIBLE_SIGNATURE');
    expect(incompatible.body.problems).toContain('output "probs" is gone');
    expect(incompatible.body.error).toMatch(/--breaking/);

    // nothing of either refusal was kept
    expect(await versionsOf('tiny-mlp')).toEqual(before);

    const breaking = await publishBreaking();
    expect(breaking.status).toBe(201);
    expect(breaking.body.release).toMatchObject({ state: 'candidate', percent: 0, notes: 'new inputs', sha256: sha(COUNTER) });
    expect(breaking.body.release.entry.inputs.map((s: any) => s.name)).toEqual(['x', 'state']);
  });

  it('publishes at 0 %, reads the signature with onnxruntime, refuses an existing version, and serves immutable bytes', async () => {
    const res = await publishV2();
    expect(res.status).toBe(201);
    expect(res.body.release).toMatchObject({
      modelId: 'tiny-mlp',
      version: '2',
      state: 'candidate',
      percent: 0,
      metrics: { accuracy: 0.91 },
      entry: { id: 'tiny-mlp', version: '2', url: '/v1/releases/tiny-mlp/2/model.onnx', sha256: sha(TINY_MLP), bytes: TINY_MLP.byteLength },
    });
    expect(res.body.release.entry.inputs).toEqual([{ name: 'x', type: 'float32', shape: ['batch', 16] }]);

    const again = await publish(srv.url, 'tiny-mlp', '2', TINY_MLP);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('VERSION_EXISTS');

    const bytes = await fetch(`${srv.url}/v1/releases/tiny-mlp/2/model.onnx`, { signal: AbortSignal.timeout(10_000) });
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(bytes.headers.get('etag')).toBe(`"${sha(TINY_MLP)}"`);
    expect(sha(new Uint8Array(await bytes.arrayBuffer()))).toBe(sha(TINY_MLP));

    const ranged = await fetch(`${srv.url}/v1/releases/tiny-mlp/2/model.onnx`, {
      headers: { range: 'bytes=100-' },
      signal: AbortSignal.timeout(10_000),
    });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-${TINY_MLP.byteLength - 1}/${TINY_MLP.byteLength}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(Buffer.from(TINY_MLP.subarray(100)))).toBe(true);
    const past = await fetch(`${srv.url}/v1/releases/tiny-mlp/2/model.onnx`, {
      headers: { range: `bytes=${TINY_MLP.byteLength}-` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(past.status).toBe(416);
    await past.arrayBuffer();
    const revalidated = await fetch(`${srv.url}/v1/releases/tiny-mlp/2/model.onnx`, {
      headers: { 'if-none-match': `"${sha(TINY_MLP)}"` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(revalidated.status).toBe(304);
  });

  it('assigns installs by sha256(install:model) mod 100, stably, and moves them only when the percentage crosses their bucket', async () => {
    expect((await publishV2()).status).toBe(201);
    expect((await publishBreaking()).status).toBe(201);
    expect((await setPercent(srv.url, 'tiny-mlp', '2', 30)).status).toBe(200);
    const installs = Array.from({ length: 60 }, (_, i) => `install-${i}`);
    const at30 = await Promise.all(
      installs.map(async (id) => (await call(`${srv.url}/v1/manifest?install=${id}`)).body.models['tiny-mlp']),
    );
    installs.forEach((id, i) => {
      const onCandidate = bucketOf(id, 'tiny-mlp') < 30;
      expect(at30[i]).toMatchObject(
        onCandidate
          ? { version: '2', state: 'candidate', stable: '1', url: '/v1/releases/tiny-mlp/2/model.onnx' }
          : { version: '1', state: 'stable', stable: '1' },
      );
    });
    expect(at30.some((e) => e.state === 'candidate') && at30.some((e) => e.state === 'stable')).toBe(true);
    // the same install asks again: same answer
    const again = (await call(`${srv.url}/v1/manifest?install=${installs[0]}`)).body.models['tiny-mlp'];
    expect(again.version).toBe(at30[0].version);
    // raising the percentage only moves installs, never back
    expect((await setPercent(srv.url, 'tiny-mlp', '2', 60)).status).toBe(200);
    for (const [i, id] of installs.entries()) {
      const e = (await call(`${srv.url}/v1/manifest?install=${id}`)).body.models['tiny-mlp'];
      if (at30[i].state === 'candidate') expect(e.state).toBe('candidate');
      expect(e.state === 'candidate').toBe(bucketOf(id, 'tiny-mlp') < 60);
    }
    expect((await setPercent(srv.url, 'tiny-mlp', 'breaking-1', 5)).body.code).toBe('ROLLOUT_IN_PROGRESS');
  });

  it('answers bad input on every endpoint with a 4xx JSON error and a stable code', async () => {
    expect((await publishV2()).status).toBe(201);
    const before = await versionsOf('tiny-mlp');
    const octet = { 'content-type': 'application/octet-stream' };
    const json = { 'content-type': 'application/json' };
    const cases: Array<[string, string, Record<string, string>, string | Uint8Array | undefined, number, string]> = [
      ['GET', '/v1/manifest', {}, undefined, 400, 'INVALID_INPUT'],
      ['GET', '/v1/manifest?install=bad%20id', {}, undefined, 400, 'INVALID_INPUT'],
      ['POST', '/v1/manifest?install=a', json, '{}', 405, 'METHOD_NOT_ALLOWED'],
      ['GET', '/v1/releases/no-such-model', {}, undefined, 404, 'NOT_FOUND'],
      ['GET', '/v1/releases/Bad..Id', {}, undefined, 400, 'INVALID_INPUT'],
      ['POST', '/v1/releases/tiny-mlp/-1', octet, TINY_MLP, 400, 'INVALID_INPUT'],
      // '..' is resolved by the URL parser: this is POST /v1/releases/ (the list)
      ['POST', '/v1/releases/tiny-mlp/..', octet, TINY_MLP, 405, 'METHOD_NOT_ALLOWED'],
      ['POST', '/v1/releases/tiny-mlp/v%2F1', octet, TINY_MLP, 400, 'INVALID_INPUT'],
      ['POST', '/v1/releases/tiny-mlp/9', { 'content-type': 'text/plain' }, 'x', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['POST', '/v1/releases/tiny-mlp/9', { ...octet, origin: 'https://evil.example' }, TINY_MLP, 403, 'BROWSER_REQUEST_REFUSED'],
      ['POST', '/v1/releases/tiny-mlp/9', { ...octet, host: 'evil.example' }, TINY_MLP, 403, 'HOST_NOT_ALLOWED'],
      ['POST', '/v1/releases/tiny-mlp/9', octet, new Uint8Array(0), 400, 'INVALID_INPUT'],
      ['POST', '/v1/releases/tiny-mlp/9', octet, new Uint8Array(65 * 1024), 413, 'BODY_TOO_LARGE'],
      ['POST', '/v1/releases/tiny-mlp/9?metrics=%7Bnot', octet, TINY_MLP, 400, 'INVALID_INPUT'],
      ['POST', '/v1/releases/tiny-mlp/9?breaking=maybe', octet, TINY_MLP, 400, 'INVALID_INPUT'],
      ['PUT', '/v1/releases/tiny-mlp/2/rollout', json, '{"percent":101}', 400, 'INVALID_INPUT'],
      ['PUT', '/v1/releases/tiny-mlp/2/rollout', json, '{"percent":"5"}', 400, 'INVALID_INPUT'],
      ['PUT', '/v1/releases/tiny-mlp/2/rollout', json, 'not json', 400, 'INVALID_INPUT'],
      [
        'PUT',
        '/v1/releases/tiny-mlp/2/rollout',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'percent=5',
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['PUT', '/v1/releases/tiny-mlp/404/rollout', json, '{"percent":5}', 404, 'NOT_FOUND'],
      ['PUT', '/v1/releases/tiny-mlp/1/rollout', json, '{"percent":5}', 409, 'NOT_A_CANDIDATE'],
      ['GET', '/v1/releases/tiny-mlp/2/rollout', {}, undefined, 405, 'METHOD_NOT_ALLOWED'],
      ['POST', '/v1/releases/tiny-mlp/1/rollback', json, '{}', 409, 'NOT_A_CANDIDATE'],
      ['POST', '/v1/releases/tiny-mlp/2/promote', json, '{"reason":5}', 400, 'INVALID_INPUT'],
      ['GET', '/v1/releases/tiny-mlp/404/model.onnx', {}, undefined, 404, 'NOT_FOUND'],
      ['GET', '/v1/releases/dtypes/1/model.onnx', {}, undefined, 404, 'NOT_FOUND'],
      ['GET', '/v1/releases/tiny-mlp/2/what', {}, undefined, 404, 'NOT_FOUND'],
      ['GET', '/v1/releases/tiny-mlp/2/model.onnx/more', {}, undefined, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, headers, body, status, code] of cases) {
      const res = await rawRequest(srv.url, method, path, headers, body);
      expect({ method, path, status: res.status, code: res.json?.code }).toEqual({ method, path, status, code });
      expect(typeof res.json.error).toBe('string');
    }
    // none of those changed anything
    expect(await versionsOf('tiny-mlp')).toEqual(before);
  });
});

/** node:http, so Host and Origin can be set as a browser or a rebound DNS name would. */
function rawRequest(base: string, method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array) {
  return new Promise<{ status: number; json: any }>((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers, timeout: 15_000 }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode!, json: JSON.parse(text) });
        } catch {
          reject(new Error(`${method} ${path}: ${res.statusCode} not JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : Buffer.from(body));
  });
}
