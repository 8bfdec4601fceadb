import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configure } from '../../src/client/configure';
import { resolveSource } from '../../src/client/resolveSource';
import { OnDeviceError } from '../../src/core/OnDeviceError';

const ENTRY = {
  id: 'demo',
  version: '1',
  file: 'demo.onnx',
  sha256: 'a'.repeat(64),
  bytes: 10,
  license: 'MIT',
  source: { generator: 'scripts/onnx/models/demo.ts' },
  task: 'test',
  description: 'demo',
  inputs: [{ name: 'x', type: 'float32', shape: [1] }],
  outputs: [{ name: 'y', type: 'float32', shape: [1] }],
};

/** What each folder of the test server answers for `models/registry.json`. */
const REGISTRIES: Record<string, { type: string; body: string }> = {
  // A single-page-app host: every unknown path is its index.html, with a 200.
  spa: { type: 'text/html; charset=utf-8', body: '<!doctype html><html><body>app</body></html>' },
  // The same page sent without an HTML content type.
  untyped: { type: 'application/octet-stream', body: '\n  <!DOCTYPE html><title>app</title>' },
  broken: { type: 'application/json', body: '{"models": [' },
  invalid: { type: 'application/json', body: JSON.stringify([{ ...ENTRY, sha256: 'nope' }]) },
  array: { type: 'application/json', body: JSON.stringify([ENTRY]) },
  wrapped: { type: 'application/json', body: JSON.stringify({ models: [ENTRY] }) },
  // A served registry may keep files in folders below it (the repository's own may not).
  nested: { type: 'application/json', body: JSON.stringify([{ ...ENTRY, file: 'v2/demo.onnx' }]) },
};

let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const folder = req.url!.split('/')[1];
    const answer = REGISTRIES[folder];
    if (!answer || !req.url!.endsWith('/models/registry.json')) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': answer.type }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function failureOf(folder: string): Promise<OnDeviceError> {
  configure({ baseUrl: `${origin}/${folder}/` });
  const error = await resolveSource('demo').then(
    () => new Error('expected resolveSource to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OnDeviceError);
  return error as OnDeviceError;
}

describe('the registry fetch (a real HTTP server)', () => {
  it.each(['spa', 'untyped'])('an HTML page (%s) fails with MODEL_FETCH_FAILED naming the URL and baseUrl', async (folder) => {
    const error = await failureOf(folder);
    const url = `${origin}/${folder}/models/registry.json`;
    expect(error.code).toBe('MODEL_FETCH_FAILED');
    expect(error.message).toContain(url);
    expect(error.message).toContain('configure({ baseUrl })');
    expect(error.message).toContain(`${origin}/${folder}/`);
    expect(error.details).toMatchObject({ url, baseUrl: `${origin}/${folder}/` });
  });

  it('text that is not JSON fails with MODEL_FETCH_FAILED', async () => {
    const error = await failureOf('broken');
    expect(error.code).toBe('MODEL_FETCH_FAILED');
    expect(error.message).toMatch(/is not JSON/);
  });

  it('JSON that is not a valid registry fails with its problems instead of being trusted', async () => {
    const error = await failureOf('invalid');
    expect(error.code).toBe('MODEL_FETCH_FAILED');
    expect(error.details.problems).toEqual([expect.stringMatching(/^registry\[0\] \(demo\)\.sha256: expected 64 lower-case hex digits/)]);
  });

  it('a served registry may name files in folders', async () => {
    configure({ baseUrl: `${origin}/nested/` });
    expect(await resolveSource('demo')).toMatchObject({ id: 'demo', url: `${origin}/nested/models/v2/demo.onnx` });
  });

  it.each(['array', 'wrapped'])('a valid registry (%s) resolves an id', async (folder) => {
    configure({ baseUrl: `${origin}/${folder}/` });
    expect(await resolveSource('demo')).toMatchObject({ id: 'demo', url: `${origin}/${folder}/models/demo.onnx`, sha256: 'a'.repeat(64) });
  });
});
