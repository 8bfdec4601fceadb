// The browser side of releases (staged rollout and rollback) in real Chromium against the real release control plane: the
// `npm start` server (src/start/main.ts) as a process on its own temp database, its decision loop parked
// (an hour's interval) so only this test's operator calls change the rollout. tiny-mlp v1 is the registry's
// seeded stable release; v2 (same model, other weights: same signature, other outputs) is published through
// the real HTTP API from Node (no Origin header), rolled out to 50 % and rolled back. Each browser context is
// one install; the version each should get is computed here with the server's own assignBucket.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { assignBucket } from '../../src/releases/assignBucket';
import { startAppServer } from '../helpers/appServer';
import { launchChromium } from '../helpers/chromium';
import { MODELS } from '../helpers/recordingAppServer';
import type { SpawnedServer } from '../helpers/spawnServer';
import { waitFor } from '../helpers/waitFor';
import { call, publish, setPercent } from '../releases/startReleaseServer';
import registry from '../../models/registry.json';

const TINY = registry.find((e) => e.id === 'tiny-mlp')!;
const v1Bytes = readFileSync(path.join(MODELS, TINY.file));
// Same length and graph, other weights: still a loadable model, with other outputs and another sha256.
const v2Bytes = Buffer.from(v1Bytes);
for (let i = 2600; i < 2700; i++) v2Bytes[i] ^= 0x11;

/** What this test has told the server; the version an install must get follows from it. */
const release = { candidate: undefined as string | undefined, percent: 0 };
/** Install ids of the manifest requests the server answered, in order (seen from the browser contexts). */
const manifestInstalls: string[] = [];

function assignedVersion(installId: string): string {
  return release.candidate && assignBucket(installId, TINY.id) < release.percent ? release.candidate : '1';
}

async function rollout(percent: number): Promise<void> {
  const res = await setPercent(server.url, TINY.id, '2', percent);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.release).toMatchObject({ version: '2', state: 'candidate', percent });
  release.percent = percent;
}

let server: SpawnedServer;
let browser: Browser;

beforeAll(async () => {
  server = await startAppServer({
    ONDEVICE_RELEASE_EVAL_INTERVAL_MS: String(60 * 60_000),
    COLLECTOR_RATE_LIMIT_PER_SECOND: '0',
    COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0',
  });
  const published = await publish(server.url, TINY.id, '2', v2Bytes);
  expect(published.status, JSON.stringify(published.body)).toBe(201);
  expect(published.body.release).toMatchObject({ version: '2', state: 'candidate', percent: 0 });
  expect(published.body.release.sha256).toBe(createHash('sha256').update(v2Bytes).digest('hex'));
  // The server derived v2's pre-optimised copy (tiny-mlp v1, seeded from the registry, has none).
  expect(published.body.optimized).toMatchObject({ url: '/v1/releases/tiny-mlp/2/model.extended.onnx' });
  release.candidate = '2';
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A new browser context (one install) whose answered manifest requests are recorded. */
async function newInstall(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  context.on('requestfinished', (request) => {
    const url = new URL(request.url());
    if (url.pathname === '/v1/manifest') manifestInstalls.push(url.searchParams.get('install') ?? '');
  });
  const page = await context.newPage();
  return { context, page };
}

interface Loaded {
  version: string;
  fromCache: boolean;
  installId: string;
  probs: number[];
  /** model.info.optimized: the WASM session runs the version's pre-optimised copy. */
  optimized: boolean;
  optimizedError: unknown;
}

/** loadModel('tiny-mlp') in the page, run on a fixed input; the model stays on `window.__model`. */
function loadTiny(page: Page): Promise<Loaded> {
  return page.evaluate(async () => {
    const O = (window as any).OnDevice;
    const model = await O.loadModel('tiny-mlp', { backend: 'wasm', warmup: false });
    (window as any).__model = model;
    const out = await model.run({ x: { type: 'float32', data: Float32Array.from({ length: 16 }, (_, i) => i / 16), dims: [1, 16] } });
    return {
      version: model.version,
      fromCache: model.info.fromCache,
      installId: localStorage.getItem('ondevice.installId') ?? '',
      probs: Array.from(out.probs.data as Float32Array),
      optimized: model.info.optimized === true,
      optimizedError: model.info.optimizedError ?? null,
    };
  });
}

/** Stored versions of tiny-mlp that are complete (verified). */
function storedVersions(page: Page): Promise<string[]> {
  return page.evaluate(async () =>
    ((await (window as any).OnDevice.modelStore.list()) as { id: string; version?: string; complete: boolean }[])
      .filter((m) => m.id === 'tiny-mlp' && m.complete)
      .map((m) => m.version ?? '')
      .sort(),
  );
}

/** Wait until the store holds exactly `versions` complete (bounded). */
async function untilStored(page: Page, versions: string[]): Promise<void> {
  const want = JSON.stringify([...versions].sort());
  let last: string[] = [];
  await waitFor(
    () => `the store to hold versions ${want}; last seen ${JSON.stringify(last)}`,
    async () => JSON.stringify((last = await storedVersions(page))) === want,
  );
}

interface Install {
  context: BrowserContext;
  page: Page;
  first: Loaded;
}

const INSTALLS = 16;
let field: Promise<Install[]> | undefined;

/**
 * 16 fresh installs at 50 %, each after its first load of tiny-mlp: made once per file, by the first test that asks
 * (so each test also runs alone). The tests after the first move some of them on, as a field moves.
 */
function installs(): Promise<Install[]> {
  field ??= (async () => {
    await rollout(50);
    const made: Install[] = [];
    for (let i = 0; i < INSTALLS; i++) {
      const { context, page } = await newInstall();
      await page.goto(`${server.url}/test-page.html`);
      made.push({ context, page, first: await loadTiny(page) });
    }
    return made;
  })();
  return field;
}

/** Installs that started on v1 and move to v2 at 99 %. */
function movableV1Installs(all: Install[]): Install[] {
  return all.filter((i) => i.first.version === '1' && assignBucket(i.first.installId, TINY.id) < 99);
}

describe('the client follows the server', () => {
  test('16 installs at 50 %: each loads what the server assigns it, the count on v2 within binomial bounds', async () => {
    const all = await installs();
    // A fresh install loads its assigned version directly, from the network.
    for (const { first } of all) expect([first.version, first.fromCache]).toEqual([assignedVersion(first.installId), false]);
    const ids = new Set(all.map((i) => i.first.installId));
    expect(ids.size).toBe(INSTALLS);
    // Every manifest request carried the page's install id (the one stored for the profile).
    for (const id of ids) expect(manifestInstalls).toContain(id);
    const onV2 = all.filter((i) => i.first.version === '2').length;
    console.info(`releases: ${onV2} of ${INSTALLS} installs assigned v2 at 50 %`);
    // Binomial(16, 0.5): P(X <= 1) = P(X >= 15) = 17 / 65536, so [2, 14] holds with probability > 0.9994.
    expect(onV2).toBeGreaterThanOrEqual(2);
    expect(onV2).toBeLessThanOrEqual(14);
    const outputsOf = (v: string) => all.find((i) => i.first.version === v)!.first.probs;
    expect(outputsOf('1')).not.toEqual(outputsOf('2'));
    // On WASM the published v2 runs its pre-optimised copy (published through the release server), and computes
    // what onnxruntime-node computes on the uploaded bytes; v1 (no copy) runs its original.
    for (const { first } of all)
      expect([first.version, first.optimized, first.optimizedError]).toEqual([first.version, first.version === '2', null]);
    const session = await ort.InferenceSession.create(new Uint8Array(v2Bytes));
    const x = Float32Array.from({ length: 16 }, (_, i) => i / 16);
    const expected = Array.from((await session.run({ x: new ort.Tensor('float32', x, [1, 16]) })).probs.data as Float32Array);
    await session.release();
    for (const [i, e] of expected.entries()) expect(Math.abs(outputsOf('2')[i] - e)).toBeLessThanOrEqual(1e-5);
  });

  test('the same install gets the same version after reload, from the store', async () => {
    for (const install of await installs()) {
      await install.page.reload();
      const again = await loadTiny(install.page);
      expect(again.installId).toBe(install.first.installId);
      expect(again.version).toBe(install.first.version);
      expect(again.fromCache).toBe(true);
      expect(again.probs).toEqual(install.first.probs);
      expect(again.optimized).toBe(install.first.optimized);
    }
  });

  test('a stored install whose assignment changed keeps its version, fetches the new one in the background and uses it next load', async () => {
    // 100 % would promote v2 (the real server's rule); 99 % moves every v1 install whose bucket is below 99.
    // At least 2 of the >= 2 v1 installs (buckets 50–99) have a bucket below 99, but for a chance < 1e-3.
    const all = await installs();
    expect(movableV1Installs(all).length).toBeGreaterThanOrEqual(2);
    const install = movableV1Installs(all)[0];
    await rollout(99);
    try {
      await install.page.reload();
      const now = await loadTiny(install.page);
      expect(now.version).toBe('1');
      expect(now.fromCache).toBe(true);
      // The stable version stays stored beside the candidate: a rollback needs no download.
      await untilStored(install.page, ['1', '2']);
      await install.page.reload();
      const next = await loadTiny(install.page);
      expect(next.version).toBe('2');
      expect(next.fromCache).toBe(true);
      expect(next.optimized).toBe(true); // the background download fetched v2's copy
      expect(next.probs).toEqual(all.find((i) => i.first.version === '2')!.first.probs);
    } finally {
      await rollout(50);
    }
  });

  test('model.update() resolves to a new Model on the new assignment; the old one stays usable until disposed', async () => {
    const all = await installs();
    const install = movableV1Installs(all)[1];
    expect(install).toBeDefined();
    await install.page.reload();
    const before = await loadTiny(install.page);
    expect(before.version).toBe('1');
    await rollout(99);
    const updated = await install.page
      .evaluate(async () => {
        const old = (window as any).__model;
        const x = () => ({ x: { type: 'float32', data: Float32Array.from({ length: 16 }, (_, i) => i / 16), dims: [1, 16] } });
        const next = await old.update();
        const same = await next.update();
        const oldOut = Array.from((await old.run(x())).probs.data as Float32Array);
        const newOut = Array.from((await next.run(x())).probs.data as Float32Array);
        old.dispose();
        let afterDispose = '';
        await old.run(x()).catch((e: any) => (afterDispose = e.code));
        return {
          oldVersion: old.version,
          newVersion: next.version,
          distinct: next !== old,
          sameAgain: same === next,
          oldOut,
          newOut,
          afterDispose,
        };
      })
      .finally(() => rollout(50));
    expect(updated).toMatchObject({ oldVersion: '1', newVersion: '2', distinct: true, sameAgain: true, afterDispose: 'DISPOSED' });
    expect(updated.oldOut).toEqual(before.probs);
    expect(updated.newOut).toEqual(all.find((i) => i.first.version === '2')!.first.probs);
  });

  test('after a rollback every install is back on v1 at its next load, an install offline meanwhile included', async () => {
    const all = await installs();
    const v2Installs = all.filter((i) => i.first.version === '2');
    const offline = v2Installs[0];
    // Offline: no manifest can be fetched; the stored assignment (v2) loads from the store.
    const asked = manifestInstalls.length;
    // The page and its worker start online (no service worker here: a model by URL keeps the worker and its
    // onnxruntime alive), then the network goes before tiny-mlp loads.
    await offline.page.reload();
    await offline.page.evaluate(async () => {
      const O = (window as any).OnDevice;
      (window as any).__keeper = await O.loadModel('/models/counter.onnx', { backend: 'wasm', warmup: false, cache: false });
    });
    await offline.context.setOffline(true);
    const whileOffline = await loadTiny(offline.page);
    expect(whileOffline.version).toBe('2');
    expect(whileOffline.fromCache).toBe(true);
    expect(manifestInstalls.length).toBe(asked);

    const rolledBack = await call(`${server.url}/v1/releases/${TINY.id}/2/rollback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'releases client test' }),
    });
    expect(rolledBack.status, JSON.stringify(rolledBack.body)).toBe(200);
    expect(rolledBack.body.release).toMatchObject({ version: '2', state: 'rolled_back', percent: 0 });
    release.candidate = undefined;
    for (const install of all) {
      if (install === offline) continue;
      await install.page.reload();
      const after = await loadTiny(install.page);
      expect(after.version).toBe('1');
      await untilStored(install.page, ['1']);
    }
    await offline.context.setOffline(false);
    await offline.page.reload();
    const back = await loadTiny(offline.page);
    expect(back.version).toBe('1');
    // Its v1 was never stored (it started on v2): the rollback loads v1 directly, not v2 while v1 downloads.
    expect(back.probs).toEqual(all.find((i) => i.first.version === '1')!.first.probs);
    await untilStored(offline.page, ['1']);
  });
});
