// One retraining job end to end in process: a real SQLite file, the real release control plane, the trainer
// as a real child process (test/retrain/prototypeTrainer.ts, the second trainer that proves the contract),
// onnxruntime-node evaluations and the gate.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/db/openSqliteDatabase';
import { openReleaseControl } from '../../src/releases/openReleaseControl';
import type { ReleaseControl } from '../../src/releases/createReleaseControl';
import type { FieldSample } from '../../src/retrain/FieldSample';
import { inProcessPorts } from '../../src/retrain/inProcessPorts';
import type { Job } from '../../src/retrain/JobStore';
import { RetrainJobs } from '../../src/retrain/RetrainJobs';
import { parseRetrainConfig, type RetrainConfig } from '../../src/retrain/retrainConfig';
import { SqliteJobStore } from '../../src/retrain/SqliteJobStore';
import { DEFAULT_SANDBOX_SETTINGS, type SandboxSettings } from '../../src/sandbox';
import { toySamples } from './toyDigits';

const TRAINER = [process.execPath, '--import', 'tsx', 'test/retrain/prototypeTrainer.ts'];

/** v1 of the toy model: the prototype trainer on no field data (MNIST class means only). */
function trainV1(dir: string): Uint8Array {
  const dataset = path.join(dir, 'v1-dataset');
  mkdirSync(dataset, { recursive: true });
  writeFileSync(path.join(dataset, 'manifest.json'), JSON.stringify({ model: 'toy', fieldTrainCount: 0 }));
  writeFileSync(path.join(dataset, 'field-train.jsonl'), '');
  execFileSync(TRAINER[0], [...TRAINER.slice(1), '--dataset', dataset, '--out', path.join(dir, 'v1')]);
  return new Uint8Array(readFileSync(path.join(dir, 'v1', 'model.onnx')));
}

function configWith(dir: string, trainerFlags: string[], trainer = TRAINER): RetrainConfig {
  const checked = parseRetrainConfig({
    models: {
      toy: {
        trainer: [...trainer, ...trainerFlags],
        evaluator: { file: path.join(dir, 'base.jsonl') },
        minFieldSamples: 100,
        heldBackFraction: 0.25,
        cooldownMs: 0,
      },
    },
  });
  if (!checked.ok) throw new Error(checked.error);
  return checked.config;
}

describe('a retraining job (in process, real trainer child process, real release control plane)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ondevice-retrain-job-'));
  const dbPath = path.join(dir, 'collector.sqlite');
  let releases: ReleaseControl;
  let store: SqliteJobStore;
  let field: FieldSample[] = [];
  const failed: Job[] = [];

  function jobs(trainerFlags: string[] = [], options: { trainer?: string[]; sandbox?: SandboxSettings } = {}) {
    return new RetrainJobs({
      config: configWith(dir, trainerFlags, options.trainer),
      sandbox: options.sandbox,
      store,
      ports: inProcessPorts({ releases: releases.service, fieldSamples: async (_m, limit) => field.slice(-limit), modelsDir: dir }),
      cwd: process.cwd(),
      onFailed: (job) => failed.push(job),
      log: () => {},
    });
  }

  beforeAll(async () => {
    // The base evaluation set: undrifted MNIST digits the trainer never saw, in the dataset-export format.
    writeFileSync(
      path.join(dir, 'base.jsonl'),
      toySamples({ start: 500, perClass: 50, drifted: false })
        .map((s) => `${JSON.stringify(s)}\n`)
        .join(''),
    );
    releases = await openReleaseControl(dbPath, { registryPath: path.join(dir, 'none.json'), log: () => {} });
    await releases.service.publish({ modelId: 'toy', version: '1', bytes: trainV1(dir) });
    store = new SqliteJobStore(openSqliteDatabase(dbPath));
  }, 60_000);
  afterAll(async () => {
    await releases?.close();
  });

  it('refuses with "not enough field data" below the minimum held-back slice, without running the trainer', async () => {
    field = toySamples({ start: 300, perClass: 20, drifted: true }); // 200 samples: 50 held back
    const { finished } = await jobs(['--fail']).start('toy', 'manual');
    const job = await finished;
    expect(job).toMatchObject({ state: 'refused', baseVersion: '1', resultVersion: null });
    expect(job.reason).toMatch(/^not enough field data: 50 held-back samples, the gate needs 100/);
    expect(job.logTail).not.toMatch(/trainer:/);
    expect(job.dataSummary).toMatchObject({ read: 200, heldBack: 50, train: 150 });
  });

  it('a failing trainer is a failed job with its exit code and log tail; the failure is reported', async () => {
    field = toySamples({ start: 300, perClass: 60, drifted: true });
    const job = await (await jobs(['--fail']).start('toy', 'manual')).finished;
    expect(job).toMatchObject({ state: 'failed', reason: 'the trainer exited with code 3' });
    expect(job.logTail).toMatch(/trainer: prototype trainer: failing on purpose/);
    expect(failed.map((j) => j.id)).toContain(job.id);
    expect((await releases.service.store.list('toy')).map((r) => r.version)).toEqual(['1']);
  }, 60_000);

  it('a sabotaged trainer (shuffled labels) is refused by the gate and never published', async () => {
    field = toySamples({ start: 300, perClass: 60, drifted: true });
    const job = await (await jobs(['--shuffle-labels']).start('toy', 'manual')).finished;
    expect(job.state).toBe('refused');
    expect(job.reason).toMatch(/^not enough better on the field: field -?\d+\.\d\d points on 150 held-back samples/);
    expect((await releases.service.store.list('toy')).map((r) => r.version)).toEqual(['1']);
  }, 60_000);

  it('a candidate that learned the drifted field passes the gate, is published with its figures and starts the staged rollout', async () => {
    // Duplicates (same id; same input and label under another id) are dropped before anything else.
    field = toySamples({ start: 300, perClass: 60, drifted: true });
    field = [...field, field[3], { ...field[4], id: 'copy-of-4', receivedMs: field[4].receivedMs }];
    const job = await (await jobs().start('toy', 'new-samples')).finished;
    expect(job, job.logTail).toMatchObject({
      state: 'succeeded',
      trigger: 'new-samples',
      baseVersion: '1',
      resultVersion: '2',
      reason: null,
    });
    expect(job.dataSummary).toMatchObject({ read: 602, duplicates: 2, heldBack: 150, train: 450 });
    const m = job.metrics as {
      baseAccuracy: { current: number; candidate: number };
      fieldAccuracy: { current: number; candidate: number; count: number };
    };
    expect(m.fieldAccuracy.count).toBe(150);
    expect(m.fieldAccuracy.candidate - m.fieldAccuracy.current).toBeGreaterThanOrEqual(2);
    expect(m.baseAccuracy.current - m.baseAccuracy.candidate).toBeLessThanOrEqual(0.5);
    const v2 = await releases.service.store.get('toy', '2');
    expect(v2).toMatchObject({ state: 'candidate', percent: 1 });
    expect(v2!.metrics).toMatchObject({ jobId: job.id, gate: { passed: true }, data: { heldBack: 150, train: 450 } });
    expect(job.durationMs).toBeGreaterThan(0);
    expect(await store.get(job.id)).toEqual(job);
  }, 60_000);

  it('a candidate is evaluated only in a sandbox child: a memory bomb fails the job at the cap, this process never loads it', async () => {
    field = toySamples({ start: 300, perClass: 60, drifted: true });
    const before = process.memoryUsage.rss();
    const sandbox = { ...DEFAULT_SANDBOX_SETTINGS, memoryBaseBytes: 400 * 1024 ** 2, memoryPerModelByte: 0 };
    const job = await (
      await jobs([], { trainer: [process.execPath, '--import', 'tsx', 'test/retrain/bombTrainer.ts'], sandbox }).start('toy', 'manual')
    ).finished;
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(/^evaluation failed: evaluating the candidate: the sandbox process used \d+ MiB, over its 400 MiB limit/);
    expect(process.memoryUsage.rss() - before).toBeLessThan(256 * 1024 ** 2); // the bomb takes 2 GiB where it loads
    expect((await releases.service.store.list('toy')).map((r) => r.version)).not.toContain('3');
  }, 60_000);

  it('one job at a time, across two connections (two processes) on the same database', async () => {
    const other = new SqliteJobStore(openSqliteDatabase(dbPath));
    const t = Date.now();
    expect(await store.acquireLock('a', t, 60_000)).toBe(true);
    expect(await other.acquireLock('b', t + 1, 60_000)).toBe(false);
    await expect(jobs().start('toy', 'manual')).rejects.toMatchObject({ code: 'JOB_RUNNING' });
    // A lease not renewed in time lapses (its holder died): the other process takes over.
    expect(await other.acquireLock('b', t + 60_001, 60_000)).toBe(true);
    expect(await store.renewLock('a', t + 60_002)).toBe(false);
    await other.releaseLock('b');
    expect(await store.acquireLock('a', t + 60_003, 60_000)).toBe(true);
    await store.releaseLock('a');
  });
});
