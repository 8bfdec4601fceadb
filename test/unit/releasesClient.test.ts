// Manifest resolution (src/client/resolveRelease.ts) against a real local HTTP server, and the shared
// install id (src/telemetry/installId.ts), both on fake-indexeddb: what a page does when the release
// server answers, is missing (static hosting), fails, or hangs.
import 'fake-indexeddb/auto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { configure } from '../../src/client/configure';
import { forgetReleaseManifest } from '../../src/client/resolveRelease';
import { resolveSource } from '../../src/client/resolveSource';
import { sharedInstallId } from '../../src/telemetry/installId';
import { waitFor } from '../helpers/waitFor';

const SPEC = { inputs: [{ name: 'x', type: 'float32', shape: [1] }], outputs: [{ name: 'y', type: 'float32', shape: [1] }] };
const REGISTRY_ENTRY = {
  id: 'demo',
  version: '1',
  file: 'demo.onnx',
  sha256: 'a'.repeat(64),
  bytes: 10,
  license: 'MIT',
  source: { generator: 'scripts/onnx/models/demo.ts' },
  task: 'test',
  description: 'demo',
  ...SPEC,
};
const MANIFEST = {
  models: {
    demo: {
      id: 'demo',
      version: '2',
      url: '/releases/demo/2.onnx',
      sha256: 'b'.repeat(64),
      bytes: 12,
      ...SPEC,
      stable: '1',
      state: 'candidate',
      rolledBack: ['0'],
    },
  },
};

/** What `/<folder>/v1/manifest` answers: the folder names the behaviour; `mode` changes it mid-test. */
let mode: 'manifest' | 'error' | 'hang' | 'gone' = 'manifest';
const installsAsked: string[] = [];
const hanging: ServerResponse[] = [];

let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname.endsWith('/models/registry.json')) {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([REGISTRY_ENTRY]));
    }
    const folder = url.pathname.split('/')[1];
    if (!url.pathname.endsWith('/v1/manifest') || folder === 'static') return void res.writeHead(404).end();
    installsAsked.push(url.searchParams.get('install') ?? '');
    if (folder === 'spa') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
    if (mode === 'error') return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"UNAVAILABLE"}');
    if (mode === 'hang') return void hanging.push(res);
    if (mode === 'gone') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(MANIFEST));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

function at(folder: string): void {
  configure({ baseUrl: `${origin}/lib/`, server: `${origin}/${folder}/` });
  forgetReleaseManifest();
}

describe('a registry id follows the release server', () => {
  it('resolves to the version the manifest assigns this install, with its release state', async () => {
    mode = 'manifest';
    at('live');
    const source = await resolveSource('demo');
    expect(source).toMatchObject({
      id: 'demo',
      version: '2',
      url: `${origin}/releases/demo/2.onnx`,
      sha256: 'b'.repeat(64),
      bytes: 12,
      release: { stable: '1', rolledBack: ['0'] },
    });
    expect(source.release?.exact).toBeUndefined();
    expect(installsAsked.at(-1)).toBe(await sharedInstallId());
    // `fresh` (model.update()) asks again and loads exactly the assigned version.
    const asked = installsAsked.length;
    expect((await resolveSource('demo', { fresh: true })).release).toMatchObject({ exact: true });
    expect(installsAsked.length).toBe(asked + 1);
  });

  it('a pinned version (`id@1`) and an id the manifest does not release resolve through registry.json', async () => {
    mode = 'manifest';
    at('live');
    expect(await resolveSource('demo@1')).toMatchObject({ version: '1', url: `${origin}/lib/models/demo.onnx` });
    expect((await resolveSource('demo@1')).release).toBeUndefined();
  });

  it.each(['static', 'spa'])('no release server (%s: 404, or a fallback page) resolves through registry.json', async (folder) => {
    at(folder);
    const source = await resolveSource('demo');
    expect(source).toMatchObject({ version: '1', url: `${origin}/lib/models/demo.onnx` });
    expect(source.release).toBeUndefined();
  });

  it('a failing server (5xx) leaves the stored assignment in force', async () => {
    mode = 'manifest';
    at('flaky');
    expect((await resolveSource('demo')).version).toBe('2');
    // The assignment is stored fire-and-forget; wait until it is there (bounded) before the server fails.
    await waitFor(
      'the stored assignment to stand while the server fails',
      async () => {
        mode = 'error';
        forgetReleaseManifest();
        return (await resolveSource('demo')).version === '2';
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect((await resolveSource('demo')).release).toMatchObject({ stable: '1' });
    // A 404 is not an outage: the server has no releases (any more), so registry.json decides.
    mode = 'gone';
    forgetReleaseManifest();
    expect(await resolveSource('demo')).toMatchObject({ version: '1', url: `${origin}/lib/models/demo.onnx` });
  });

  it('a server that never answers is given up after the manifest timeout: the stored assignment stands', async () => {
    mode = 'manifest';
    at('slow');
    expect((await resolveSource('demo')).version).toBe('2');
    await waitFor(
      'the stored assignment to stand while the server fails',
      async () => {
        mode = 'error';
        forgetReleaseManifest();
        return (await resolveSource('demo')).version === '2';
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    mode = 'hang';
    forgetReleaseManifest();
    const hangsBefore = hanging.length;
    expect((await resolveSource('demo')).version).toBe('2');
    expect(hanging.length).toBe(hangsBefore + 1);
  });

  it('without any stored assignment an unreachable server falls back to registry.json', async () => {
    mode = 'error';
    at('never-seen');
    expect(await resolveSource('demo')).toMatchObject({ version: '1' });
  });
});

describe('the install id', () => {
  it('is one per profile: a second context (a worker, without localStorage) gets the same id', async () => {
    const first = await sharedInstallId();
    vi.resetModules();
    const fresh = (await import('../../src/telemetry/installId')) as typeof import('../../src/telemetry/installId');
    expect(fresh.installIdReady()).toBe(false);
    expect(await fresh.sharedInstallId()).toBe(first);
    expect(fresh.installId()).toBe(first);
    expect(fresh.installIdReady()).toBe(true);
  });
});
