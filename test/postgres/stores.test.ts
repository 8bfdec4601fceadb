// One set of store-level behaviour tests, run against SQLite and a real PostgreSQL server (a throwaway
// cluster from test/helpers/postgres.ts): dedupe, queries, alerts, releases, retention.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { SampleEvent, TelemetryEvent } from '../../src/core/eventSchema';
import type { CollectorStorage } from '../../src/collector/CollectorStorage';
import { ModelKeyBudget } from '../../src/collector/ModelKeyBudget';
import { openSqliteDatabase } from '../../src/db/openSqliteDatabase';
import { openSqliteStorage } from '../../src/collector/openSqliteStorage';
import { openPostgresPool } from '../../src/db/openPostgresPool';
import { openPostgresStorage } from '../../src/collector/postgres/openPostgresStorage';
import { migratePostgres, POSTGRES_MIGRATIONS } from '../../src/db/postgresMigrations';
import type { PruneResult, RetentionPolicy } from '../../src/collector/Retention';
import type { TimeWindow } from '../../src/collector/storeRows';
import { PostgresReleaseStore } from '../../src/releases/PostgresReleaseStore';
import { writeObject } from '../../src/releases/writeObject';
import { PostgresVersionMetrics } from '../../src/releases/PostgresVersionMetrics';
import type { Decision, NewRelease, ReleaseStore } from '../../src/releases/ReleaseStore';
import { SqliteReleaseStore } from '../../src/releases/SqliteReleaseStore';
import { SqliteVersionMetrics, type VersionMetricsSource } from '../../src/releases/VersionMetrics';
import type { JobStore } from '../../src/retrain/JobStore';
import { PostgresJobStore } from '../../src/retrain/PostgresJobStore';
import { SqliteJobStore } from '../../src/retrain/SqliteJobStore';
import { createDatabase, startPostgres, type StartedPostgres } from '../helpers/postgres';
import { errorEvent, feedbackEvent, inferenceEvent, labelledPrediction, modelLoadEvent, sessionEvent } from '../collector/makeEvents';

const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60_000;
/** A fixed "today" (noon UTC) so that day boundaries are where the tests say. */
const NOON = Date.UTC(2026, 11, 1, 12, 0, 0);

type Storage = CollectorStorage & { prune(nowMs: number): Promise<PruneResult> };

interface Backend {
  name: 'sqlite' | 'postgres';
  openStorage(o?: { retention?: RetentionPolicy; now?: () => number; budget?: ModelKeyBudget }): Promise<Storage>;
  openReleases(): Promise<{ store: ReleaseStore; metrics: VersionMetricsSource; close(): Promise<void> }>;
  openJobs(): Promise<{ jobs: JobStore; close(): Promise<void> }>;
}

let pgServer: StartedPostgres | undefined;
let dbCounter = 0;
const tempDirs: string[] = [];

const sqlite: Backend = {
  name: 'sqlite',
  async openStorage(o = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'ondevice-stores-'));
    tempDirs.push(dir);
    return openSqliteStorage(join(dir, 'collector.sqlite'), { retention: o.retention, budget: o.budget });
  },
  async openReleases() {
    const dir = mkdtempSync(join(tmpdir(), 'ondevice-stores-'));
    tempDirs.push(dir);
    const db = openSqliteDatabase(join(dir, 'collector.sqlite'));
    return { store: new SqliteReleaseStore(db), metrics: new SqliteVersionMetrics(db), close: async () => void db.close() };
  },
  async openJobs() {
    const dir = mkdtempSync(join(tmpdir(), 'ondevice-stores-'));
    tempDirs.push(dir);
    const db = openSqliteDatabase(join(dir, 'collector.sqlite'));
    return { jobs: new SqliteJobStore(db), close: async () => void db.close() };
  },
};

async function freshPostgresUrl(): Promise<string> {
  pgServer ??= await startPostgres();
  return createDatabase(pgServer.url, `stores_${++dbCounter}`);
}

const postgres: Backend = {
  name: 'postgres',
  async openStorage(o = {}) {
    return openPostgresStorage(await freshPostgresUrl(), { retention: o.retention, now: o.now, budget: o.budget });
  },
  async openReleases() {
    const pool = openPostgresPool(await freshPostgresUrl());
    await migratePostgres(pool);
    return { store: new PostgresReleaseStore(pool), metrics: new PostgresVersionMetrics(pool), close: () => pool.end() };
  },
  async openJobs() {
    const pool = openPostgresPool(await freshPostgresUrl());
    await migratePostgres(pool);
    return { jobs: new PostgresJobStore(pool), close: () => pool.end() };
  },
};

function sampleEvent(o: Partial<SampleEvent> = {}): SampleEvent {
  return {
    id: randomUUID(),
    ts: NOON,
    installId: 'install-1',
    sessionId: 'session-1',
    type: 'sample',
    modelId: 'digits',
    modelVersion: '1',
    predictionId: randomUUID(),
    label: 7,
    predicted: 1,
    inputs: { image: { type: 'float32', dims: [1, 1, 2, 2], data: [0, 0.5, 1, 0.25] } },
    ...o,
  } as SampleEvent;
}

afterAll(async () => {
  await pgServer?.stop();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

const meta = (receivedAtMs: number) => ({ siteKey: 'demo', receivedAtMs });

describe.each([sqlite, postgres])('stores on $name', (backend) => {
  let storage: Storage;
  beforeAll(async () => {
    storage = await backend.openStorage({ now: () => NOON });
  });
  afterAll(() => storage?.close());

  it('stores each event id once: repeats within a batch and retries are counted as duplicates', async () => {
    const a = inferenceEvent({ modelId: 'dedupe' });
    const b = errorEvent({ modelId: 'dedupe' });
    const first = await storage.writer.insertBatch([a, b, a], meta(NOON));
    expect(first.stored.map((e) => e.id)).toEqual([a.id, b.id]);
    expect(first.duplicates).toBe(1);
    const retry = await storage.writer.insertBatch([b, a], meta(NOON + 1000));
    expect(retry).toEqual({ stored: [], duplicates: 2, folded: 0 });
    const counts = await storage.queries.countInWindow({ sinceMs: NOON - DAY_MS, untilMs: NOON + DAY_MS });
    expect(Object.fromEntries(counts.map((c) => [c.type, c.count]))).toEqual({ inference: 1, error: 1 });
  });

  it('ignores a retry that lands on the next day (and the day after, in a partition made on demand)', async () => {
    const events = [inferenceEvent({ modelId: 'next-day' }), inferenceEvent({ modelId: 'next-day' })];
    expect((await storage.writer.insertBatch(events, meta(NOON + 11 * 60 * MINUTE_MS + 59 * MINUTE_MS))).stored).toHaveLength(2);
    const tomorrow = await storage.writer.insertBatch(events, meta(NOON + DAY_MS));
    expect(tomorrow).toEqual({ stored: [], duplicates: 2, folded: 0 });
    const later = inferenceEvent({ modelId: 'next-day' });
    const dayAfter = await storage.writer.insertBatch([events[0], later], meta(NOON + 2 * DAY_MS));
    expect(dayAfter.stored.map((e) => e.id)).toEqual([later.id]);
    expect(dayAfter.duplicates).toBe(1);
    const stats = await storage.queries.inferenceStats({ sinceMs: NOON - DAY_MS, untilMs: NOON + 3 * DAY_MS });
    expect(stats.find((s) => s.modelId === 'next-day')?.count).toBe(3);
  });

  it('keeps alerts: one firing per rule and series, resolved with a NaN value as null, monitor samples by window', async () => {
    const alert = {
      rule: 'latency',
      metric: 'p95_latency_ms',
      series: '{"modelId":"m"}',
      labels: { modelId: 'm' },
      op: '>' as const,
      threshold: 100,
      value: 250,
      samples: 40,
      firedAtMs: NOON,
    };
    const opened = await storage.alerts.openAlert(alert);
    expect(opened).toMatchObject({ ...alert, state: 'firing', resolvedAtMs: null, resolvedValue: null });
    expect(typeof opened.id).toBe('number');
    await expect(storage.alerts.openAlert({ ...alert, firedAtMs: NOON + 1 })).rejects.toThrow();
    const other = await storage.alerts.openAlert({ ...alert, series: '{"modelId":"n"}', labels: { modelId: 'n' }, firedAtMs: NOON + 5 });
    expect((await storage.alerts.firingAlerts()).map((a) => a.id)).toEqual([opened.id, other.id]);
    const resolved = await storage.alerts.resolveAlert(opened.id, NOON + 10, Number.NaN);
    expect(resolved).toMatchObject({ id: opened.id, state: 'resolved', resolvedAtMs: NOON + 10, resolvedValue: null });
    expect((await storage.alerts.listAlerts(10)).map((a) => [a.id, a.state])).toEqual([
      [other.id, 'firing'],
      [opened.id, 'resolved'],
    ]);

    await storage.alerts.insertMonitorSamples([
      { atMs: NOON, metric: 'accuracy', labels: { modelId: 'm' }, value: 0.9, samples: 10 },
      { atMs: NOON + 100, metric: 'accuracy', labels: { modelId: 'm' }, value: 0.8, samples: 12 },
      { atMs: NOON + 100, metric: 'psi', labels: { modelId: 'm' }, value: 0.1, samples: 12 },
    ]);
    expect(await storage.alerts.monitorSamples({ sinceMs: NOON, untilMs: NOON + 100 }, 'accuracy')).toEqual([
      { atMs: NOON, metric: 'accuracy', labels: { modelId: 'm' }, value: 0.9, samples: 10 },
    ]);
    await storage.alerts.pruneMonitorSamples(NOON + 1);
    expect(await storage.alerts.monitorSamples({ sinceMs: 0, untilMs: NOON + DAY_MS }, 'accuracy')).toHaveLength(1);
  });

  it('folds model ids past the budget into __other__', async () => {
    const s1 = await backend.openStorage({ budget: new ModelKeyBudget({ maxModelsPerSite: 1, known: [] }), now: () => NOON });
    try {
      await s1.writer.insertBatch([inferenceEvent({ modelId: 'first' })], meta(NOON));
      const folded = await s1.writer.insertBatch([inferenceEvent({ modelId: 'second' })], meta(NOON));
      expect(folded.folded).toBe(1);
      expect(folded.stored[0].modelId).toBe('__other__');
    } finally {
      await s1.close();
    }
  });

  it('publishes releases with their files, once per version, and records transitions and decisions', async () => {
    const { store, close } = await backend.openReleases();
    try {
      const bytes = new Uint8Array([8, 1, 18, 4, 116, 101, 115, 116, 0, 255]);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await writeObject(store.objects, [bytes], { maxBytes: 100, chunkBytes: 4 });
      const release = (version: string, state: NewRelease['state'], percent: number): NewRelease => ({
        modelId: 'digits',
        version,
        sha256,
        entry: { id: 'digits', version, url: `http://x/${version}`, sha256, bytes: bytes.length, inputs: [], outputs: [] },
        notes: version === '2' ? 'better' : null,
        metrics: version === '2' ? { accuracy: 0.99 } : undefined,
        publishedMs: NOON + Number(version),
        files: [{ role: 'model', location: '', sha256, bytes: bytes.length }],
        state,
        percent,
      });
      const decision = (version: string, action: Decision['action'], atMs: number, toPercent = 0): Decision => ({
        modelId: 'digits',
        version,
        atMs,
        action,
        fromPercent: 0,
        toPercent,
        actor: 'operator',
        reason: `${action} ${version}`,
        evidence: { n: 1 },
      });
      expect(await store.publish(release('1', 'stable', 100), decision('1', 'publish', NOON + 1, 100))).toBe('published');
      expect(await store.publish(release('2', 'candidate', 0), decision('2', 'publish', NOON + 2))).toBe('published');
      expect(await store.publish(release('2', 'candidate', 0), decision('2', 'publish', NOON + 3))).toBe('version-exists');
      // A second stable is never stored: the model's first release is decided in the store's transaction.
      expect(await store.publish(release('9', 'stable', 100), decision('9', 'publish', NOON + 3, 100))).toBe('stable-exists');
      expect(await store.get('digits', '9')).toBeUndefined();
      expect(Array.from((await store.readBlob(sha256)) ?? [])).toEqual(Array.from(bytes));
      expect(await store.readBlob('0'.repeat(64))).toBeUndefined();
      expect(await store.files('digits', '2')).toEqual([{ role: 'model', location: '', sha256, bytes: bytes.length }]);
      expect(await store.modelIds()).toEqual(['digits']);

      await store.transition(
        { modelId: 'digits', version: '2', state: 'candidate', percent: 10, atMs: NOON + 4 },
        decision('2', 'rollout', NOON + 4, 10),
      );
      await store.transition(
        { modelId: 'digits', version: '2', state: 'stable', percent: 100, atMs: NOON + 5 },
        decision('2', 'promote', NOON + 5, 100),
      );
      await store.record(decision('2', 'hold', NOON + 5, 100));
      const list = await store.list('digits');
      expect(list.map((r) => [r.version, r.seq, r.state, r.percent, r.rolloutStartedMs])).toEqual([
        ['1', 1, 'retired', 0, NOON + 1],
        ['2', 2, 'stable', 100, NOON + 4],
      ]);
      expect(await store.get('digits', '2')).toMatchObject({ notes: 'better', metrics: { accuracy: 0.99 }, bytes: bytes.length, sha256 });
      expect(await store.get('digits', '3')).toBeUndefined();
      const decisions = await store.decisions('digits', 3);
      expect(decisions.map((d) => [d.action, d.version])).toEqual([
        ['hold', '2'],
        ['promote', '2'],
        ['rollout', '2'],
      ]);
      expect(decisions[0].evidence).toEqual({ n: 1 });
    } finally {
      await close();
    }
  });

  it('stores files content-addressed in chunks: a write becomes an object only when finished, a version names objects that exist, unused ones are collected', async () => {
    const { store, close } = await backend.openReleases();
    try {
      const objects = store.objects;
      const bytes = new Uint8Array(23).map((_, i) => i * 7);
      const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
      // 23 bytes in chunks of 5: no stored value is larger than a chunk, and they read back in order.
      const written = await writeObject(objects, [bytes.subarray(0, 9), bytes.subarray(9)], {
        maxBytes: 100,
        chunkBytes: 5,
        now: () => NOON,
      });
      expect(written).toEqual({ sha256: sha(bytes), bytes: 23, existed: false });
      const object = (await objects.object(sha(bytes)))!;
      expect(object).toMatchObject({ sha256: sha(bytes), bytes: 23, chunkBytes: 5, chunks: 5 });
      const chunks = await Promise.all([0, 1, 2, 3, 4].map((i) => objects.readChunk(object, i)));
      expect(chunks.map((c) => c.byteLength)).toEqual([5, 5, 5, 5, 3]);
      expect(Buffer.concat(chunks).equals(Buffer.from(bytes))).toBe(true);
      // The same bytes again: the first object stays, the second write's chunks are dropped.
      expect(await writeObject(objects, [bytes], { maxBytes: 100, chunkBytes: 5, now: () => NOON })).toMatchObject({ existed: true });
      expect((await objects.object(sha(bytes)))!.key).toBe(object.key);

      // Bytes that do not hash to what the upload named, or are too many, leave nothing.
      const other = new Uint8Array([1, 2, 3]);
      await expect(writeObject(objects, [other], { maxBytes: 100, sha256: '0'.repeat(64) })).rejects.toMatchObject({
        code: 'INTEGRITY_MISMATCH',
      });
      await expect(writeObject(objects, [other], { maxBytes: 2 })).rejects.toMatchObject({ code: 'BODY_TOO_LARGE' });
      expect(await objects.object(sha(other))).toBeUndefined();

      // A write that stopped half-way (a killed upload) is no object; the collection removes its chunks.
      await objects.beginWrite('killed', NOON - 10);
      await objects.writeChunk('killed', 0, other);
      expect((await objects.storedObjects()).size).toBe(1);

      // A version can only name stored objects, and nothing of it is kept when one is missing.
      const release = (version: string, files: NewRelease['files']): NewRelease => ({
        modelId: 'm',
        version,
        sha256: sha(bytes),
        entry: { id: 'm', version, url: '/x', sha256: sha(bytes), bytes: 23, inputs: [], outputs: [] },
        notes: null,
        metrics: null,
        publishedMs: NOON,
        files,
        state: 'stable',
        percent: 100,
      });
      const decision: Decision = {
        modelId: 'm',
        version: '1',
        atMs: NOON,
        action: 'publish',
        fromPercent: 0,
        toPercent: 100,
        actor: 'operator',
        reason: 'publish',
        evidence: null,
      };
      const missing = 'f'.repeat(64);
      await expect(
        store.publish(
          release('1', [
            { role: 'model', location: '', sha256: sha(bytes), bytes: 23 },
            { role: 'data', location: 'w.bin', sha256: missing, bytes: 4 },
          ]),
          decision,
        ),
      ).rejects.toMatchObject({ sha256s: [missing] });
      expect(await store.get('m', '1')).toBeUndefined();
      expect(await store.files('m', '1')).toEqual([]);

      // An object no version names is collected once its grace period is over; one a version names never is.
      const orphan = await writeObject(objects, [other], { maxBytes: 100, now: () => NOON - 5 });
      expect(await store.publish(release('1', [{ role: 'model', location: '', sha256: sha(bytes), bytes: 23 }]), decision)).toBe(
        'published',
      );
      expect(await objects.collectGarbage({ writesStartedBeforeMs: NOON - 20, objectsTouchedBeforeMs: NOON })).toEqual({
        writes: 0,
        objects: 1,
      });
      expect(await objects.object(orphan.sha256)).toBeUndefined();
      expect(await objects.collectGarbage({ writesStartedBeforeMs: NOON, objectsTouchedBeforeMs: NOON + 1 })).toEqual({
        writes: 1,
        objects: 0,
      });
      expect([...(await objects.storedObjects())]).toEqual([sha(bytes)]);
      expect(Array.from((await store.readBlob(sha(bytes)))!)).toEqual(Array.from(bytes));
    } finally {
      await close();
    }
  });

  it("keeps the decision loop's latest evaluation per model and its last pass, for every instance to read", async () => {
    const { store, close } = await backend.openReleases();
    try {
      expect(await store.lastEvaluation('digits')).toBeUndefined();
      expect(await store.lastPassAtMs()).toBeNull();
      await store.saveEvaluation({ modelId: 'digits', atMs: NOON, version: '2', action: 'hold', reason: 'waiting for feedback' });
      await store.saveEvaluation({ modelId: 'digits', atMs: NOON + 5, version: '2', action: 'advance', reason: 'better' });
      await store.saveEvaluation({ modelId: 'vad', atMs: NOON + 6, version: '3', action: 'hold', reason: 'few installs' });
      await store.savePass(NOON + 7);
      await store.savePass(NOON + 9);
      expect(await store.lastEvaluation('digits')).toEqual({
        modelId: 'digits',
        atMs: NOON + 5,
        version: '2',
        action: 'advance',
        reason: 'better',
      });
      expect(await store.lastEvaluation('vad')).toMatchObject({ version: '3', action: 'hold' });
      expect(await store.lastEvaluation('')).toBeUndefined();
      expect(await store.lastPassAtMs()).toBe(NOON + 9);
    } finally {
      await close();
    }
  });

  it('counts per-version field metrics for the rollout policy', async () => {
    // The release plane reads the collector's events: write through a storage on the same kind of database.
    const s = await backend.openStorage({ now: () => NOON });
    try {
      const pairs = [
        ...labelledPrediction({ modelId: 'vm', predicted: 3, correct: true }),
        ...labelledPrediction({ modelId: 'vm', predicted: 4, correct: false }),
      ];
      await s.writer.insertBatch([...pairs, errorEvent({ modelId: 'vm' })], meta(NOON));
      const m =
        backend.name === 'sqlite'
          ? new SqliteVersionMetrics((s as unknown as { db: ConstructorParameters<typeof SqliteVersionMetrics>[0] }).db)
          : new PostgresVersionMetrics((s as unknown as { pool: ConstructorParameters<typeof PostgresVersionMetrics>[0] }).pool);
      const c = await m.counts('vm', '1', NOON - 1, 20);
      expect({ ...c, latenciesMs: Array.from(c.latenciesMs) }).toEqual({
        inferences: 2,
        errors: 1,
        installs: 3,
        feedback: 2,
        correct: 1,
        latenciesMs: [12, 12],
      });
    } finally {
      await s.close();
    }
  });

  it('stores consented samples once and exports them page by page, oldest received first', async () => {
    const s = await backend.openStorage({ now: () => NOON });
    try {
      const a = sampleEvent({ label: 3, predicted: undefined });
      const b = sampleEvent({ label: 'seven', modelVersion: '2' });
      const c = sampleEvent();
      expect((await s.writer.insertBatch([a, b, a], meta(NOON))).duplicates).toBe(1);
      expect((await s.writer.insertBatch([c, b], meta(NOON + 5))).duplicates).toBe(1);
      const samples = s.samples!;
      expect(await samples.countSamples('digits')).toBe(3);
      expect(await samples.countSamples('digits', '2')).toBe(1);
      // Received at or after: the new-samples trigger counts what arrived since a model's last job.
      expect(await samples.countSamples('digits', undefined, NOON + 1)).toBe(1);
      expect(await samples.countSamples('digits', '2', NOON + 1)).toBe(0);
      expect(await samples.countSamples('digits', undefined, NOON + 5)).toBe(1);
      expect(await samples.countSamples('digits', undefined, NOON + 6)).toBe(0);
      const first = await samples.readDatasetPage({ modelId: 'digits', sinceMs: 0 }, null, 2);
      expect(first.lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([a.id, b.id]);
      expect(JSON.parse(first.lines[0])).toEqual({
        id: a.id,
        receivedMs: NOON,
        installId: 'install-1',
        modelId: 'digits',
        modelVersion: '1',
        predictionId: a.predictionId,
        label: 3,
        inputs: a.inputs,
      });
      const second = await samples.readDatasetPage({ modelId: 'digits', sinceMs: 0 }, first.next, 2);
      expect(second.lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([c.id]);
      expect(second.next).toBeNull();
      const v2 = await samples.readDatasetPage({ modelId: 'digits', sinceMs: 0, modelVersion: '2' }, null, 10);
      expect(v2.lines.map((l) => JSON.parse(l) as { label: unknown })).toMatchObject([{ label: 'seven', predicted: 1 }]);
      const since = await samples.readDatasetPage({ modelId: 'digits', sinceMs: NOON + 1 }, null, 10);
      expect(since.lines).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('keeps retraining jobs and a lock that one holder at a time gets', async () => {
    const { jobs, close } = await backend.openJobs();
    try {
      const created = await jobs.create({ id: 'job-1', modelId: 'digits', trigger: 'manual', createdMs: NOON });
      expect(created).toMatchObject({ id: 'job-1', state: 'queued', startedMs: null, metrics: null, logTail: '' });
      await jobs.create({ id: 'job-2', modelId: 'other', trigger: 'schedule', createdMs: NOON });
      const updated = await jobs.update('job-1', {
        state: 'succeeded',
        startedMs: NOON + 1,
        metrics: { accuracy: 0.9 },
        logTail: 'ok',
        reason: null,
      });
      expect(updated).toMatchObject({ state: 'succeeded', startedMs: NOON + 1, metrics: { accuracy: 0.9 }, logTail: 'ok', reason: null });
      // Where the trainer runs, for the server after a crash (src/retrain/trainerProcess.ts).
      expect(created.trainer).toBeNull();
      const trainer = { pgid: 4242, host: 'host-1', bootId: 'boot-1', startTicks: 123 };
      expect((await jobs.update('job-1', { trainer })).trainer).toEqual(trainer);
      expect(await jobs.get('job-3')).toBeUndefined();
      await expect(jobs.update('job-3', { state: 'failed' })).rejects.toThrow('no job job-3');
      expect((await jobs.list({ limit: 10 })).map((j) => j.id)).toEqual(['job-2', 'job-1']);
      expect((await jobs.list({ modelId: 'digits', limit: 10 })).map((j) => j.id)).toEqual(['job-1']);

      expect(await jobs.acquireLock('a', NOON, 1000)).toBe(true);
      expect(await jobs.acquireLock('b', NOON + 500, 1000)).toBe(false);
      expect(await jobs.renewLock('a', NOON + 900)).toBe(true);
      expect(await jobs.acquireLock('b', NOON + 1500, 1000)).toBe(false);
      expect(await jobs.acquireLock('b', NOON + 2000, 1000)).toBe(true); // a's lease ran out
      expect(await jobs.renewLock('a', NOON + 2001)).toBe(false);
      await jobs.releaseLock('b');
      expect(await jobs.acquireLock('a', NOON + 2002, 1000)).toBe(true);
    } finally {
      await close();
    }
  });

  it('prunes training samples on their own retention, and keeps them when only events expire', async () => {
    const s = await backend.openStorage({ retention: { eventDays: 1, sampleDays: 3 }, now: () => NOON - 5 * DAY_MS });
    try {
      const old = sampleEvent();
      const kept = sampleEvent();
      await s.writer.insertBatch([old], meta(NOON - 4 * DAY_MS));
      await s.writer.insertBatch([kept], meta(NOON - 2 * DAY_MS));
      await s.prune(NOON);
      const page = await s.samples!.readDatasetPage({ modelId: 'digits', sinceMs: 0 }, null, 10);
      expect(page.lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([kept.id]);
    } finally {
      await s.close();
    }
  });

  it('prunes events (and rollups) received before the retention cutoff, whole days at a time', async () => {
    const s = await backend.openStorage({ retention: { eventDays: 1 }, now: () => NOON - 3 * DAY_MS });
    try {
      const old = [inferenceEvent({ modelId: 'old' }), errorEvent({ modelId: 'old' })];
      const yesterday = [inferenceEvent({ modelId: 'kept' })];
      const today = [inferenceEvent({ modelId: 'kept' }), modelLoadEvent({ modelId: 'kept' })];
      await s.writer.insertBatch(old, meta(NOON - 3 * DAY_MS));
      await s.writer.insertBatch([inferenceEvent({ modelId: 'old' })], meta(NOON - 2 * DAY_MS));
      await s.writer.insertBatch(yesterday, meta(NOON - DAY_MS - 11 * 60 * MINUTE_MS)); // 01:00 yesterday
      await s.writer.insertBatch(today, meta(NOON));
      const r = await s.prune(NOON);
      expect(r.eventCutoffMs).toBe(NOON - 12 * 60 * MINUTE_MS - DAY_MS); // yesterday 00:00 UTC
      if (backend.name === 'postgres') expect(r.droppedPartitions).toEqual(['events_20261128', 'events_20261129']);
      else expect(r.events).toBe(3);
      const all = Object.fromEntries((await s.queries.countByType()).map((c) => [c.type, c.count]));
      expect(all).toEqual({ inference: 2, model_load: 1 });
      const w = { sinceMs: 0, untilMs: NOON + DAY_MS };
      expect((await s.queries.inferenceStats(w)).map((x) => [x.modelId, x.count])).toEqual([['kept', 2]]);
      expect(await s.queries.errorCounts(w)).toEqual([]);
      expect((await s.queries.deviceMix(w)).map((x) => [x.modelId, x.sessions])).toEqual([['kept', 1]]);
      // A second prune removes nothing more; the retained days still dedupe.
      expect((await s.prune(NOON)).droppedPartitions).toEqual([]);
      expect((await s.writer.insertBatch(yesterday, meta(NOON))).duplicates).toBe(1);
    } finally {
      await s.close();
    }
  });
});

/** Events spread over several minutes (and minute edges), several models, versions and backends. */
function mixedTraffic(): Array<{ atMs: number; events: TelemetryEvent[] }> {
  const batches: Array<{ atMs: number; events: TelemetryEvent[] }> = [];
  let n = 0;
  for (let minute = -10; minute <= 2; minute++) {
    for (const offsetMs of [0, 1, 17_000, 59_999]) {
      const atMs = NOON + minute * MINUTE_MS + offsetMs;
      const events: TelemetryEvent[] = [];
      for (const modelId of ['a', 'b']) {
        const modelVersion = n % 3 === 0 ? '2' : '1';
        const sessionId = `s-${n % 5}`;
        n++;
        events.push(
          inferenceEvent({ modelId, modelVersion, sessionId, ms: (n * 7.3) % 900, topClass: n % 4, backend: n % 2 ? 'wasm' : 'webgpu' }),
          inferenceEvent({ modelId, modelVersion, sessionId, ms: 3000 + n, topClass: 'cat' }),
          modelLoadEvent({ modelId, modelVersion, sessionId, ms: 100 + n, fromCache: n % 2 === 0 }),
          ...labelledPrediction({ modelId, modelVersion, predicted: n % 3, correct: n % 4 !== 0, installId: `i-${n % 3}` }),
          feedbackEvent({ modelId, modelVersion, predictionId: `missing-${n}`, predicted: 1, label: 1 }),
        );
        if (n % 2 === 0) events.push(errorEvent({ modelId, modelVersion, code: n % 4 ? 'INFERENCE_FAILED' : 'MODEL_LOAD_FAILED' }));
        if (minute === -10) events.push(sessionEvent({ sessionId, vendor: n % 2 ? 'nvidia' : null, brand: 'Firefox' }));
      }
      batches.push({ atMs, events });
    }
  }
  return batches;
}

/** Rows in a canonical order with floats rounded, so two databases' answers compare as values. */
function canonical(rows: unknown): unknown {
  const round = (v: unknown): unknown =>
    typeof v === 'number' && !Number.isInteger(v)
      ? Number(v.toPrecision(10))
      : v instanceof Float64Array
        ? Array.from(v)
        : Array.isArray(v)
          ? v.map(round)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x)]))
            : v;
  const r = round(rows);
  return Array.isArray(r) ? [...r].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)) : r;
}

describe('SQLite and PostgreSQL answer every query alike on the same events', () => {
  let a: Storage;
  let b: Storage;
  beforeAll(async () => {
    [a, b] = await Promise.all([sqlite.openStorage({ now: () => NOON }), postgres.openStorage({ now: () => NOON })]);
    for (const batch of mixedTraffic()) {
      await a.writer.insertBatch(batch.events, meta(batch.atMs));
      await b.writer.insertBatch(batch.events, meta(batch.atMs));
    }
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const windows: Array<[string, TimeWindow]> = [
    ['whole minutes', { sinceMs: NOON - 5 * MINUTE_MS, untilMs: NOON + MINUTE_MS }],
    ['ragged edges', { sinceMs: NOON - 7 * MINUTE_MS + 1, untilMs: NOON + 17_001 }],
    ['inside one minute', { sinceMs: NOON - 2 * MINUTE_MS + 1, untilMs: NOON - 2 * MINUTE_MS + 17_001 }],
    ['everything', { sinceMs: 0, untilMs: NOON + DAY_MS }],
    ['empty', { sinceMs: NOON + DAY_MS, untilMs: NOON + 2 * DAY_MS }],
  ];

  it('has data to compare', async () => {
    const counts = await b.queries.countByType();
    expect(counts.reduce((s, c) => s + c.count, 0)).toBeGreaterThan(500);
  });

  it.each(windows)('window: %s', async (_, w) => {
    const ask = (s: Storage) =>
      Promise.all([
        s.queries.inferenceStats(w),
        s.queries.latencySamples(w, 100_000),
        s.queries.latencyPercentiles(w, 100_000, [0, 0.5, 0.95, 0.99, 1]),
        s.queries.loadStats(w),
        s.queries.errorCounts(w),
        s.queries.deviceMix(w),
        s.queries.accuracy(w),
        s.queries.accuracy(w, 2),
        s.queries.predictionCounts(w),
        s.queries.eventsOverTime(w, MINUTE_MS),
        s.queries.eventsOverTime(w, 5 * MINUTE_MS),
        s.queries.eventsOverTime(w, 7_000),
        s.queries.countInWindow(w),
        s.queries.latencyHistogram(w),
      ]).then((results) => results.map((r) => ('groups' in r ? { truncated: r.truncated, groups: canonical(r.groups) } : canonical(r))));
    const [fromSqlite, fromPostgres] = await Promise.all([ask(a), ask(b)]);
    expect(fromPostgres).toEqual(fromSqlite);
  });

  it('latency percentiles keep the newest rows past the cap, and say so', async () => {
    const w = windows[3][1];
    for (const s of [a, b]) {
      const capped = await s.queries.latencyPercentiles(w, 7, [0.5]);
      expect(capped.truncated).toBe(true);
      expect(capped.groups.reduce((n, g) => n + g.count, 0)).toBe(7);
      const all = await s.queries.latencyPercentiles(w, 100_000, [0.5]);
      expect(all.truncated).toBe(false);
      expect(all.groups.reduce((n, g) => n + g.count, 0)).toBe((await s.queries.inferenceStats(w)).reduce((n, r) => n + r.count, 0));
    }
  });

  it('migration 3 backfills the device-mix tables from the events already stored', async () => {
    const pool = (b as Storage & { pool: pg.Pool }).pool;
    // Back to version 2 (the later migrations add empty tables and columns, or add them if missing), then forward again.
    await pool.query(
      'DROP TABLE rollup_session_minutes, session_devices, release_evaluations, federated_rounds, federated_updates, release_files, release_objects, release_object_chunks, release_object_writes',
    );
    await pool.query('DELETE FROM schema_migrations WHERE version >= 3');
    expect(await migratePostgres(pool)).toEqual({ from: 2, to: POSTGRES_MIGRATIONS.at(-1)!.version });
    for (const [, w] of windows) expect(canonical(await b.queries.deviceMix(w))).toEqual(canonical(await a.queries.deviceMix(w)));
    expect((await b.queries.deviceMix(windows[3][1])).length).toBeGreaterThan(2);
  });

  it('all-time counters (the /metrics seed) match', async () => {
    const ask = (s: Storage) =>
      Promise.all([s.queries.countByType(), s.queries.countErrorsByCode(), s.queries.latencyHistogram()]).then((r) => r.map(canonical));
    expect(await ask(b)).toEqual(await ask(a));
  });
});
