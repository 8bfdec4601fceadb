// <ondevice-model>: events, run(), attribute changes reload, removal releases the model (worker count drops).
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBrowserSession, type BrowserSession } from '../helpers/appServer';
import { makeInputs } from '../helpers/inputs';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import { feedsFromWire, feedsToWire, PAGE_WIRE_SOURCE } from '../helpers/wire';
import registry from '../../models/registry.json';
import type { ModelEntry } from '../../src/registry/ModelEntry';

let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  session = await startBrowserSession();
  // test-page.html has no icon; Chromium's /favicon.ico request would log a 404 console error.
  await session.context.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
  page = await session.open('/test-page.html');
  await page.evaluate(PAGE_WIRE_SOURCE);
  // Record every element event in the page, in order.
  await page.evaluate(() => {
    (window as any).__events = [];
    (window as any).__record = (el: Element) => {
      for (const type of ['progress', 'ready', 'error']) {
        el.addEventListener(type, (e) => {
          const d = (e as CustomEvent).detail;
          (window as any).__events.push(
            type === 'progress'
              ? { type, loaded: d.loaded, total: d.total }
              : type === 'ready'
                ? { type, backend: d.backend, id: d.model.id, fallbackReason: d.fallbackReason }
                : { type, code: d.error.code, message: d.error.message },
          );
        });
      }
    };
  });
});

afterAll(async () => {
  await session?.close();
  await closeReferenceSessions();
});

const events = () => page.evaluate(() => (window as any).__events as { type: string; [k: string]: unknown }[]);
const workerCount = () => page.evaluate(() => (window as any).OnDevice.__testing.workerCount() as number);
async function waitForWorkers(count: number): Promise<void> {
  await expect.poll(workerCount, { timeout: 10_000, interval: 50 }).toBe(count);
}
async function reset(): Promise<void> {
  await page.evaluate(() => {
    document.querySelectorAll('ondevice-model').forEach((el) => el.remove());
    (window as any).__events.length = 0;
  });
  await waitForWorkers(0);
}

describe('<ondevice-model>', () => {
  test('is registered by ondevice.js; markup loads on connect with progress then ready; run() matches onnxruntime-node', async () => {
    await reset();
    const entry = registry.find((e) => e.id === 'tiny-mlp') as unknown as ModelEntry;
    const feeds = makeInputs(entry, { seed: 11 });
    const out = await page.evaluate(async (feeds) => {
      const w = (window as any).__wire;
      const host = document.createElement('div');
      // Parser-created, like a page author would write it; the recorder is attached before connecting.
      host.innerHTML = '<ondevice-model id="m" src="tiny-mlp" backend="wasm"></ondevice-model>';
      const el = host.firstElementChild as HTMLElement & { run(f: unknown): Promise<any>; whenReady(): Promise<unknown> };
      (window as any).__record(el);
      document.body.append(host);
      await el.whenReady();
      return {
        registered: !!customElements.get('ondevice-model'),
        backend: (el as any).backend,
        outputs: w.feedsToWire(await el.run(w.feedsFromWire(feeds))),
      };
    }, feedsToWire(feeds));
    expect(out.registered).toBe(true);
    expect(out.backend).toBe('wasm');
    expect(compareOutputs(feedsFromWire(out.outputs), await runReference(entry, feeds))).toEqual([]);
    const seen = await events();
    const progress = seen.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.loaded).toBe(entry.bytes);
    expect(seen.at(-1)).toMatchObject({ type: 'ready', backend: 'wasm', id: 'tiny-mlp' });
    expect(seen.filter((e) => e.type === 'ready')).toHaveLength(1);
    expect(await workerCount()).toBe(1);
  });

  test('removing the element releases the model: the worker count drops to 0', async () => {
    await reset();
    await page.evaluate(async () => {
      const el = document.createElement('ondevice-model') as HTMLElement & { whenReady(): Promise<unknown> };
      el.id = 'm';
      el.setAttribute('src', 'tiny-mlp');
      el.setAttribute('backend', 'wasm');
      document.body.append(el);
      await el.whenReady();
    });
    expect(await workerCount()).toBe(1);
    await page.evaluate(() => document.getElementById('m')!.remove());
    await waitForWorkers(0);
    const code = await page.evaluate(async () => {
      const el = document.createElement('ondevice-model') as any;
      try {
        await el.run({});
        return 'resolved';
      } catch (e: any) {
        return e.code;
      }
    });
    expect(code).toBe('INVALID_INPUT');
  });

  test('moving the element (remove + insert in one task) keeps its model', async () => {
    await reset();
    const reloaded = await page.evaluate(async () => {
      const el = document.createElement('ondevice-model') as any;
      el.setAttribute('src', 'tiny-mlp');
      el.setAttribute('backend', 'wasm');
      document.body.append(el);
      const first = await el.whenReady();
      const box = document.createElement('section');
      document.body.append(box);
      box.append(el); // disconnect + connect
      // whenReady() settles after the microtasks the move queued (release check, reload schedule) have run.
      const after = await el.whenReady();
      return { same: after === first && el.model === first, firstDisposed: first.isDisposed };
    });
    expect(reloaded).toEqual({ same: true, firstDisposed: false });
    expect(await workerCount()).toBe(1);
  });

  test('attribute changes reload and abort the load in flight: only the last src becomes ready', async () => {
    await reset();
    const result = await page.evaluate(async () => {
      const el = document.createElement('ondevice-model') as any;
      (window as any).__record(el);
      el.setAttribute('src', 'ppocr-v2-cls');
      el.setAttribute('backend', 'wasm');
      // Switch models while the first load is in flight: at its first progress event its bytes are
      // arriving and its session does not exist yet.
      const switched = new Promise<void>((resolve) =>
        el.addEventListener(
          'progress',
          () => {
            el.setAttribute('src', 'counter');
            resolve();
          },
          { once: true },
        ),
      );
      document.body.append(el);
      const first = await el.whenReady().then(
        () => 'resolved',
        (e: any) => e.code,
      );
      await switched;
      const model = await el.whenReady();
      const ready1 = model.id;
      el.setAttribute('src', 'tiny-mlp');
      const model2 = await el.whenReady();
      return { first, ready1, ready2: model2.id, firstDisposed: model.isDisposed, current: el.model.id };
    });
    expect(result).toEqual({ first: 'ABORTED', ready1: 'counter', ready2: 'tiny-mlp', firstDisposed: true, current: 'tiny-mlp' });
    const ready = (await events()).filter((e) => e.type === 'ready').map((e) => e.id);
    expect(ready).toEqual(['counter', 'tiny-mlp']);
    await waitForWorkers(1);
  });

  test('a model that cannot be fetched dispatches error with the OnDeviceError; fixing src recovers', async () => {
    await reset();
    const result = await page.evaluate(async () => {
      const el = document.createElement('ondevice-model') as any;
      (window as any).__record(el);
      el.setAttribute('src', '/models/does-not-exist.onnx');
      document.body.append(el);
      const code = await el.whenReady().then(
        () => 'resolved',
        (e: any) => e.code,
      );
      el.setAttribute('src', 'tiny-mlp');
      await el.whenReady();
      return { code, backend: el.backend };
    });
    expect(result.code).toBe('MODEL_FETCH_FAILED');
    expect(result.backend).toBe('wasm');
    const seen = await events();
    expect(seen.find((e) => e.type === 'error')).toMatchObject({ code: 'MODEL_FETCH_FAILED' });
    expect(seen.at(-1)).toMatchObject({ type: 'ready', id: 'tiny-mlp' });
    await reset();
    // The 404 of does-not-exist.onnx is the only console error this file expects.
    expect(session.errors.filter((e) => !/404/.test(e))).toEqual([]);
  });
});
