// Consented samples on the collector: a real collector process, real SQLite; the `sample` event's
// schema, its own table, dedupe, per-install limit, and the NDJSON dataset export (token-gated).
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS, validateBatch, type SampleEvent } from '../../src/core/eventSchema';
import { feedbackEvent, inferenceEvent } from './makeEvents';
import { getJson, postEvents, startCollector, type StartedCollector } from './startCollector';

const TOKEN = 'samples-read-token-9d2e';

function digit(value: number): number[] {
  return Array.from({ length: 784 }, (_, i) => (i % 29 === 0 ? value : 0));
}

function sampleEvent(o: Partial<SampleEvent> = {}): SampleEvent {
  return {
    id: randomUUID(),
    ts: Date.now(),
    installId: 'install-1',
    sessionId: 'session-1',
    type: 'sample',
    modelId: 'digits',
    modelVersion: '1',
    predictionId: randomUUID(),
    label: 7,
    predicted: 1,
    inputs: { image: { type: 'float32', dims: [1, 1, 28, 28], data: digit(1) } },
    ...o,
  } as SampleEvent;
}

async function getDataset(
  url: string,
  query = '',
  token: string | null = TOKEN,
): Promise<{ status: number; type: string | null; lines: any[] }> {
  const res = await fetch(`${url}/v1/datasets/digits${query}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  const type = res.headers.get('content-type');
  if (res.status !== 200) return { status: res.status, type, lines: [JSON.parse(text)] };
  return {
    status: res.status,
    type,
    lines: text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  };
}

describe('sample event schema', () => {
  const check = (e: unknown) => validateBatch({ events: [e] }, { receivedAtMs: Date.now() });

  it('accepts a 28×28 float32 sample', () => {
    expect(check(sampleEvent())).toMatchObject({ ok: true });
  });

  it.each([
    ['data length differs from dims', { type: 'float32', dims: [1, 1, 28, 28], data: digit(1).slice(1) }, /need 784/],
    ['a non-finite number', { type: 'float32', dims: [2], data: [1, 'NaN'] }, /data\[1\]/],
    ['a value the type cannot hold', { type: 'uint8', dims: [2], data: [1, 256] }, /data\[1\]/],
    ['a fractional int', { type: 'int32', dims: [1], data: [1.5] }, /data\[0\]/],
    ['an unknown element type', { type: 'string', dims: [1], data: ['a'] }, /must be one of/],
    ['too high a rank', { type: 'float32', dims: [1, 1, 1, 1, 1, 1, 1, 1, 1], data: [1] }, /rank at most/],
    [
      'too many elements',
      { type: 'uint8', dims: [2, LIMITS.maxSampleElements / 2 + 1], data: new Array(LIMITS.maxSampleElements + 2).fill(0) },
      /at most 32768 elements/,
    ],
  ])('rejects %s', (_what, tensor, message) => {
    const result = check(sampleEvent({ inputs: { image: tensor as never } }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(message);
  });

  it('rejects a sample over LIMITS.maxSampleBytes as JSON, and unknown keys', () => {
    // 32 768 floats of ~18 digits each are ~600 KiB: within the element bound, over the byte bound.
    const big = {
      type: 'float64',
      dims: [LIMITS.maxSampleElements],
      data: Array.from({ length: LIMITS.maxSampleElements }, (_, i) => 1 / (i + 3)),
    };
    const result = check(sampleEvent({ inputs: { image: big as never } }));
    expect(!result.ok && result.error).toMatch(/at most 131072 bytes/);
    expect(check({ ...sampleEvent(), extra: 1 }).ok).toBe(false);
    expect(check(sampleEvent({ inputs: {} })).ok).toBe(false);
  });
});

describe('samples on a running collector', () => {
  let c: StartedCollector;

  beforeAll(async () => {
    // The read side requires the token even on loopback; the sample limit is low to test it.
    c = await startCollector({
      env: { COLLECTOR_READ_TOKEN: TOKEN, COLLECTOR_REQUIRE_TOKEN: '1', COLLECTOR_INSTALL_SAMPLES_PER_MINUTE: '5' },
    });
  });
  afterAll(async () => {
    await c?.stop();
    c?.cleanup();
  });

  it('stores samples in their own table, counts them in the ack, dedupes them, and exports them as NDJSON', async () => {
    const predictionId = randomUUID();
    const inference = inferenceEvent({ modelId: 'digits', predictionId, topClass: 1 });
    const feedback = feedbackEvent({ modelId: 'digits', predictionId, label: 7, predicted: 1 });
    const sample = sampleEvent({ predictionId, installId: 'install-a' });
    const first = await postEvents(c.url, { siteKey: 'demo', events: [inference, feedback, sample] });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ accepted: 3, stored: 3, duplicates: 0, rejected: [], deferred: [] });
    const again = await postEvents(c.url, { siteKey: 'demo', events: [sample] });
    expect(again.body).toEqual({ accepted: 1, stored: 0, duplicates: 1, rejected: [], deferred: [] });

    const db = new Database(c.dbPath, { readonly: true, fileMustExist: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM samples').get()).toEqual({ n: 1 });
      // The events row keeps the sample's label and shapes, not its data.
      const row = db.prepare(`SELECT label, payload FROM events WHERE type = 'sample'`).get() as { label: string; payload: string };
      expect(row.label).toBe('7');
      expect(JSON.parse(row.payload).inputs).toEqual({ image: { type: 'float32', dims: [1, 1, 28, 28] } });
    } finally {
      db.close();
    }

    const exported = await getDataset(c.url);
    expect(exported.status).toBe(200);
    expect(exported.type).toMatch(/^application\/x-ndjson/);
    expect(exported.lines).toHaveLength(1);
    const [line] = exported.lines;
    expect(Object.keys(line).sort()).toEqual(
      ['id', 'receivedMs', 'installId', 'modelId', 'modelVersion', 'predictionId', 'label', 'predicted', 'inputs'].sort(),
    );
    expect(line).toMatchObject({
      id: sample.id,
      installId: 'install-a',
      modelId: 'digits',
      modelVersion: '1',
      predictionId,
      label: 7,
      predicted: 1,
    });
    expect(line.inputs.image).toEqual({ type: 'float32', dims: [1, 1, 28, 28], data: digit(1) });
    expect(typeof line.receivedMs).toBe('number');

    // Samples do not move inference metrics: the summary counts one inference and one feedback.
    const summary = await getJson(`${c.url}/v1/summary`, { authorization: `Bearer ${TOKEN}` });
    expect(summary.body.events).toMatchObject({ inference: 1, feedback: 1, sample: 1 });
    const model = summary.body.models.find((m: any) => m.modelId === 'digits');
    expect(model).toMatchObject({ inferences: 1, feedback: 1, accuracy: 0 });
  });

  it('exports oldest first with since, limit and version; streams many pages', async () => {
    const base = await getDataset(c.url);
    const before = base.lines.length;
    // 18 installs, 4 samples each (under the per-install limit of 5 a minute), version 2 and 3: 72 samples,
    // more than one page of the export (64).
    for (let n = 0; n < 18; n++) {
      const install = `install-page-${n}`;
      const events = [0, 1, 2, 3].map((i) => sampleEvent({ installId: install, modelVersion: i % 2 ? '3' : '2', label: i }));
      const posted = await postEvents(c.url, { siteKey: 'demo', events });
      expect(posted.body.stored).toBe(4);
    }
    const all = await getDataset(c.url);
    expect(all.lines).toHaveLength(before + 72);
    expect(new Set(all.lines.map((l) => l.id)).size).toBe(before + 72);
    const received = all.lines.map((l) => l.receivedMs);
    expect(received).toEqual([...received].sort((a, b) => a - b));
    expect((await getDataset(c.url, '?limit=3')).lines.map((l) => l.id)).toEqual(all.lines.slice(0, 3).map((l) => l.id));
    const v3 = await getDataset(c.url, '?version=3');
    expect(v3.lines).toHaveLength(36);
    expect(v3.lines.every((l) => l.modelVersion === '3')).toBe(true);
    const last = all.lines[all.lines.length - 1].receivedMs;
    const since = await getDataset(c.url, `?since=${last}`);
    expect(since.lines.length).toBeGreaterThanOrEqual(1);
    expect(since.lines.every((l) => l.receivedMs >= last)).toBe(true);
    expect((await getDataset(c.url, `?since=${last + 1}`)).lines).toHaveLength(0);
  });

  it('defers the samples over the per-install limit, stores the rest of the batch, and takes them after retryAfterMs', async () => {
    const events = Array.from({ length: 5 }, () => sampleEvent({ installId: 'install-flood' }));
    expect((await postEvents(c.url, { siteKey: 'demo', events })).body.stored).toBe(5);
    // What one page sends: its inference and feedback events with the sample it shares, and another install's sample.
    const predictionId = randomUUID();
    const inference = inferenceEvent({ modelId: 'digits', predictionId, installId: 'install-flood' });
    const feedback = feedbackEvent({ modelId: 'digits', predictionId, label: 7, predicted: 1, installId: 'install-flood' });
    const extra = sampleEvent({ installId: 'install-flood', predictionId });
    const other = sampleEvent({ installId: 'install-calm' });
    const limited = await postEvents(c.url, { siteKey: 'demo', events: [inference, extra, feedback, other] });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', accepted: 3, stored: 3, duplicates: 0, rejected: [] });
    expect(limited.body.error).toMatch(/5 sample events per install per minute/);
    // 5 a minute: the next token comes within 12 s.
    expect(limited.body.deferred).toEqual([{ id: extra.id, code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) }]);
    const { retryAfterMs } = limited.body.deferred[0];
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(12_000);
    expect(Number(limited.headers.get('retry-after'))).toBe(Math.ceil(retryAfterMs / 1000));
    const stored = (await getDataset(c.url)).lines;
    expect(stored.filter((l) => l.installId === 'install-flood')).toHaveLength(5);
    expect(stored.some((l) => l.id === other.id)).toBe(true);
    const db = new Database(c.dbPath, { readonly: true, fileMustExist: true });
    try {
      expect(db.prepare('SELECT type FROM events WHERE prediction_id = ? ORDER BY type').all(predictionId)).toEqual([
        { type: 'feedback' },
        { type: 'inference' },
      ]);
    } finally {
      db.close();
    }
    // Sent again after retryAfterMs, the deferred sample is stored (an old client resends the whole batch:
    // the rest comes back as duplicates).
    await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    const again = await postEvents(c.url, { siteKey: 'demo', events: [inference, extra, feedback, other] });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ accepted: 4, stored: 1, duplicates: 3, rejected: [], deferred: [] });
    expect((await getDataset(c.url)).lines.filter((l) => l.installId === 'install-flood')).toHaveLength(6);
  });

  it('is token-gated and answers a bad query with 400 INVALID_QUERY', async () => {
    expect((await getDataset(c.url, '', null)).status).toBe(401);
    expect((await getDataset(c.url, '', 'wrong')).status).toBe(401);
    for (const query of ['?limit=0', '?limit=x', '?since=-1', '?version=a%20b']) {
      const res = await getDataset(c.url, query);
      expect(res.status, query).toBe(400);
      expect(res.lines[0].code).toBe('INVALID_QUERY');
    }
    const res = await fetch(`${c.url}/v1/datasets/bad%20model`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(400);
    const none = await fetch(`${c.url}/v1/datasets/no-such-model`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(none.status).toBe(200);
    expect(await none.text()).toBe('');
  });
});
