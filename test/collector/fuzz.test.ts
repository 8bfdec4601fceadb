import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorEvent, feedbackEvent, inferenceEvent, modelLoadEvent, sessionEvent } from './makeEvents';
import { getJson, startCollector, type StartedCollector } from './startCollector';

interface Payload {
  name: string;
  body: Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
  query?: string;
}

/** mulberry32: a seeded PRNG so a failing payload is reproducible. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = new TextEncoder();
const JSON_HEADERS = { 'content-type': 'application/json' };
const goodEvents = () => [
  sessionEvent(),
  modelLoadEvent(),
  inferenceEvent({ predictionId: 'p-1' }),
  errorEvent(),
  feedbackEvent({ predictionId: 'p-1' }),
];
const json = (name: string, value: unknown, headers: Record<string, string> = JSON_HEADERS): Payload => ({
  name,
  body: enc.encode(JSON.stringify(value)),
  headers,
});
const text = (name: string, body: string, headers: Record<string, string> = JSON_HEADERS): Payload => ({
  name,
  body: enc.encode(body),
  headers,
});

/** Every leaf and object path of an event, e.g. ['device', 'browser', 'brand']. */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const out: string[][] = prefix.length ? [prefix] : [];
  for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function setPath(target: any, path: string[], value: unknown, remove = false) {
  const parent = path.slice(0, -1).reduce((o, k) => o[k], target);
  if (remove) delete parent[path[path.length - 1]];
  else parent[path[path.length - 1]] = value;
}

const WRONG_VALUES: unknown[] = [
  null,
  true,
  false,
  [],
  {},
  '',
  'x'.repeat(5000),
  -1,
  1.5,
  2 ** 53 + 2,
  'str',
  [1, 2],
  { nested: { deeper: 1 } },
  '\ud800',
  'a\u0000b',
];

function generatePayloads(): Payload[] {
  const random = prng(20250105);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const payloads: Payload[] = [];

  // 1. One mutated field in an otherwise valid batch (so a partial store would show up).
  const templates = goodEvents();
  let attempts = 0;
  while (payloads.length < 150 && attempts++ < 5000) {
    const events: any[] = JSON.parse(JSON.stringify(goodEvents()));
    const index = Math.floor(random() * events.length);
    const candidates = paths(templates[index]);
    const path = pick(candidates);
    const mode = random();
    let name: string;
    if (mode < 0.2) {
      // Removing an optional field leaves a valid event: skip those.
      if (
        ['fallbackReason', 'predicted', 'topClass', 'score', 'predictionId', 'modelVersion'].includes(path[path.length - 1]) &&
        path.length <= 2 &&
        events[index].type !== 'feedback'
      )
        continue;
      if (path[0] === 'output' || (path[0] === 'inputDims' && path.length > 1)) continue;
      if (path[0] === 'modelVersion' && events[index].type === 'session') continue;
      setPath(events[index], path, undefined, true);
      name = `delete ${events[index].type}.${path.join('.')}`;
    } else if (mode < 0.3) {
      // Extra properties on an array vanish in JSON; those would be valid.
      if (Array.isArray(path.slice(0, -1).reduce((o: any, k) => o[k], events[index]))) continue;
      setPath(events[index], [...path.slice(0, -1), `unknown_${Math.floor(random() * 1000)}`], 1);
      name = `unknown key beside ${events[index].type}.${path.join('.')}`;
    } else {
      const original = path.reduce((o: any, k) => o?.[k], events[index]);
      const value = pick(
        WRONG_VALUES.filter(
          (v) => (JSON.stringify(v) !== JSON.stringify(original) && typeof v !== typeof original) || typeof v === 'string',
        ),
      );
      /* eslint-disable no-control-regex -- NUL and lone surrogates are the hostile inputs under test */
      // Some replacements are legitimately valid (any string is a valid label or message): skip them.
      if (typeof value === 'string' && typeof original === 'string' && !/\u0000|\ud800|^$|x{5000}/.test(value)) continue;
      if (path[0] === 'inputDims' && path.length === 2 && Array.isArray(value) && value.every((n) => Number.isInteger(n) && n >= 0))
        continue;
      if (
        ['label', 'predicted', 'topClass'].includes(path[path.length - 1]) &&
        (typeof value === 'string' ? value.length > 0 && value.length <= 256 && !/\u0000|\ud800/.test(value) : Number.isSafeInteger(value))
      )
        continue;
      /* eslint-enable no-control-regex */
      if (path[path.length - 1] === 'deviceMemory' && value === null) continue;
      if (path[path.length - 1] === 'webgpu' && value === null) continue;
      if (path[path.length - 1] === 'score' && typeof value === 'number') continue;
      if (typeof original === 'boolean' && typeof value === 'boolean') continue;
      if (typeof value === 'string' && value.length <= 32 && typeof original === 'string' && path.join('.').startsWith('device')) continue;
      setPath(events[index], path, value);
      name = `${events[index].type}.${path.join('.')} = ${JSON.stringify(value)?.slice(0, 30)}`;
    }
    payloads.push(json(name, { siteKey: 'demo', events }));
  }

  // 2. Prototype-pollution keys at every level.
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    const ev = JSON.stringify(inferenceEvent());
    payloads.push(text(`${key} in batch`, `{"siteKey":"demo","${key}":{"polluted":1},"events":[${ev}]}`));
    payloads.push(text(`${key} in event`, `{"siteKey":"demo","events":[${ev.replace('{', `{"${key}":{"polluted":1},`)}]}`));
    payloads.push(
      text(`${key} in output`, `{"siteKey":"demo","events":[${ev.replace('"output":{', `"output":{"${key}":{"polluted":1},`)}]}`),
    );
    payloads.push(
      text(`${key} as input name`, `{"siteKey":"demo","events":[${ev.replace('"inputDims":{', `"inputDims":{"${key}":[1],`)}]}`),
    );
    const session = JSON.stringify(sessionEvent());
    payloads.push(
      text(`${key} in device`, `{"siteKey":"demo","events":[${session.replace('"device":{', `"device":{"${key}":{"polluted":1},`)}]}`),
    );
  }

  // 3. Deep nesting.
  const deepArray = '['.repeat(20000) + ']'.repeat(20000);
  const deepObject = '{"a":'.repeat(20000) + '1' + '}'.repeat(20000);
  payloads.push(text('deep array as event', `{"siteKey":"demo","events":[${deepArray}]}`));
  payloads.push(
    text(
      'deep object as output',
      `{"siteKey":"demo","events":[${JSON.stringify(inferenceEvent()).replace(/"output":\{[^}]*\}/, `"output":${deepObject}`)}]}`,
    ),
  );
  payloads.push(text('deep array as body', deepArray));
  payloads.push(text('deep object as body', deepObject));

  // 4. Huge and odd numbers, written as JSON text.
  const ev = JSON.stringify(inferenceEvent());
  for (const n of ['1e400', '-1e400', '1e309', '123456789012345678901234567890', '1e-400', '-0.0e999999']) {
    payloads.push(
      text(
        `ms = ${n}`,
        `{"siteKey":"demo","events":[${ev.replace('"ms":12', `"ms":${n}`).replace('"ms":12', `"ms":${n}`)}]}`.replace(
          /"ms":(1e-400|-0\.0e999999)/,
          (_m, v) => `"ms":${v},"extra":1`,
        ),
      ),
    );
    payloads.push(text(`ts = ${n}`, `{"siteKey":"demo","events":[${ev.replace(/"ts":\d+/, `"ts":${n}`)}]}`));
  }
  for (const n of ['NaN', 'Infinity', '-Infinity', '0x10', '1_000', '.5', '+1', '01']) {
    payloads.push(text(`ms = ${n} (not JSON)`, `{"siteKey":"demo","events":[${ev.replace('"ms":12', `"ms":${n}`)}]}`));
  }

  // 5. Invalid UTF-8 inside an otherwise valid batch.
  const message = JSON.stringify({ siteKey: 'demo', events: [errorEvent({ message: 'MARK' })] });
  const [before, after] = message.split('MARK').map((s) => enc.encode(s));
  for (const [name, bytes] of [
    ['lone 0xff', [0xff]],
    ['bad continuation', [0xc3, 0x28]],
    ['overlong slash', [0xc0, 0xaf]],
    ['UTF-16 surrogate as UTF-8', [0xed, 0xa0, 0x80]],
    ['truncated 3-byte sequence', [0xe2, 0x82]],
    ['code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['latin-1 é', [0xe9]],
  ] as const) {
    payloads.push({ name: `invalid UTF-8: ${name}`, body: new Uint8Array([...before, ...bytes, ...after]), headers: JSON_HEADERS });
  }
  payloads.push(text('lone surrogate escape', message.replace('MARK', '\\ud800')));

  // 6. Not JSON, or not a batch.
  for (const body of [
    '',
    ' ',
    'null',
    'true',
    '[]',
    '"events"',
    '42',
    '{',
    '{"events":[}',
    '{"events":[]}',
    "{'events':[]}",
    '{"events":[] // c\n}',
    `${message}garbage`,
    `${message},${message}`,
    '{"siteKey":"demo","events":{}}',
    '{"siteKey":"demo","events":null}',
    '{"siteKey":123,"events":[]}',
  ]) {
    payloads.push(text(`body ${JSON.stringify(body.slice(0, 24))}`, body));
  }

  // 7. Batch limits.
  payloads.push(json('501 events', { siteKey: 'demo', events: Array.from({ length: 501 }, () => inferenceEvent()) }));
  payloads.push(json('over 256 KiB', { siteKey: 'demo', events: goodEvents(), pad: 'x'.repeat(270 * 1024) }));
  payloads.push(
    text('over 256 KiB of whitespace', `${' '.repeat(257 * 1024)}${JSON.stringify({ siteKey: 'demo', events: goodEvents() })}`),
  );

  // 8. Media types and encodings.
  const good = JSON.stringify({ siteKey: 'demo', events: goodEvents() });
  for (const contentType of [
    'application/xml',
    'multipart/form-data; boundary=x',
    'text/html',
    'application/x-www-form-urlencoded',
    'text/plain; charset=utf-16',
    'application/json; charset=iso-8859-1',
  ]) {
    payloads.push(text(`content-type ${contentType}`, good, { 'content-type': contentType }));
  }
  payloads.push({ name: 'no content-type', body: enc.encode(good), headers: {} });
  payloads.push(text('gzip encoding', good, { 'content-type': 'application/json', 'content-encoding': 'gzip' }));

  // 9. Site keys.
  payloads.push(text('unknown site key', good.replace('"siteKey":"demo"', '"siteKey":"unknown"')));
  payloads.push({ ...text('unknown key in URL', good.replace('"siteKey":"demo",', '')), query: '?key=unknown' });
  payloads.push({ ...text('URL and body keys differ', good), query: '?key=other' });
  payloads.push(text('no site key', good.replace('"siteKey":"demo",', '')));
  payloads.push(text('site key with spaces', good.replace('"siteKey":"demo"', '"siteKey":"de mo"')));
  return payloads;
}

describe('collector fuzz: malformed payloads', () => {
  let c: StartedCollector;
  const payloads = generatePayloads();

  beforeAll(async () => {
    c = await startCollector({ env: { COLLECTOR_SITE_KEYS: 'demo,other' } });
  });
  afterAll(async () => {
    await c?.stop();
    c?.cleanup();
  });

  it(`rejects ${payloads.length} malformed payloads with 4xx, stays up and stores nothing`, async () => {
    expect(payloads.length).toBeGreaterThanOrEqual(200);
    const results: Array<{ name: string; status: number; body: string }> = [];
    const queue = [...payloads];
    // A few connections at once, like a real client population; bounded by the payload list.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          const res = await fetch(`${c.url}/v1/events${p.query ?? ''}`, {
            method: 'POST',
            headers: p.headers,
            body: p.body,
            signal: AbortSignal.timeout(15_000),
          }).catch((e: Error) => e);
          if (res instanceof Error) results.push({ name: p.name, status: -1, body: res.message });
          else results.push({ name: p.name, status: res.status, body: await res.text() });
        }
      }),
    );
    const unexpected = results.filter((r) => r.status < 400 || r.status >= 500);
    expect(unexpected).toEqual([]);
    for (const r of results) {
      const body = JSON.parse(r.body);
      expect(typeof body.error, r.name).toBe('string');
      expect(typeof body.path, r.name).toBe('string');
    }
    expect([...new Set(results.map((r) => r.status))].sort()).toEqual([400, 403, 413, 415]);

    expect((await getJson(`${c.url}/v1/health`)).status).toBe(200);
    const summary = await getJson(`${c.url}/v1/summary?windowMs=7776000000`);
    expect(summary.body.events).toEqual({});
    const metrics = (await getJson(`${c.url}/metrics`)).body as string;
    expect(metrics).not.toMatch(/^ondevice_events_total\{/m);

    const db = new Database(c.dbPath, { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
    // The server still ingests normally afterwards.
    const ok = await fetch(`${c.url}/v1/events`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ siteKey: 'demo', events: goodEvents() }),
    });
    expect(ok.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
