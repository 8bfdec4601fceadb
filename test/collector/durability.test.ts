import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../src/core/eventSchema';
import { inferenceEvent } from './makeEvents';
import { postEvents, startCollector, type StartedCollector } from './startCollector';
import { waitFor } from '../helpers/waitFor';

describe('collector durability', () => {
  let c: StartedCollector | undefined;
  afterAll(async () => {
    await c?.stop();
    c?.cleanup();
  });

  it('keeps every acknowledged event after kill -9 in the middle of a stream', async () => {
    c = await startCollector();
    const first = c;
    const acknowledged: TelemetryEvent[][] = [];
    const failures: string[] = [];
    let stop = false;
    const STREAMS = 4;
    const MAX_BATCHES_PER_STREAM = 400; // bounds the loop even if the kill never lands

    const streams = Array.from({ length: STREAMS }, async (_, s) => {
      for (let i = 0; i < MAX_BATCHES_PER_STREAM && !stop; i++) {
        const events = Array.from({ length: 50 }, () => inferenceEvent({ modelId: `durable-${s}` }));
        try {
          const r = await postEvents(first.url, { siteKey: 'demo', events });
          if (r.status === 200) acknowledged.push(events);
          else failures.push(`HTTP ${r.status}`);
        } catch (e) {
          failures.push((e as Error).message); // in flight when the process died: not acknowledged
          return;
        }
      }
    });

    // Let traffic flow, then kill without warning while requests are in flight.
    await waitFor('40 acknowledged requests', () => acknowledged.length >= 40, { timeoutMs: 10_000, intervalMs: 20 });
    await first.kill();
    stop = true;
    await Promise.all(streams);
    expect(first.server.process.signalCode).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(40);
    // The kill landed mid-stream: at least one request did not get its acknowledgement.
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((f) => !f.startsWith('HTTP'))).toBe(true);

    // Restart on the same database (recovers the WAL) and check every acknowledged id.
    c = await startCollector({ dir: first.dir });
    const ids = acknowledged.flat().map((e) => e.id);
    const db = new Database(c.dbPath, { readonly: true });
    try {
      const has = db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM events WHERE id = ?');
      const missing = ids.filter((id) => has.get(id)?.n !== 1);
      expect(missing).toEqual([]);
    } finally {
      db.close();
    }
    // And through the API: replaying an acknowledged batch is all duplicates.
    for (const events of acknowledged.slice(-5)) {
      const r = await postEvents(c.url, { siteKey: 'demo', events });
      expect(r.body).toEqual({ accepted: 50, stored: 0, duplicates: 50, rejected: [], deferred: [] });
    }
  });
});
