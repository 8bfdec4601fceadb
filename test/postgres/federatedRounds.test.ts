// The federated round store's contract on SQLite and a real PostgreSQL server (a throwaway cluster from
// test/helpers/postgres.ts): one update per install per round, none after a round closed, bodies gone once the
// round's figures are kept, open rounds by model and deadline, updates raced from two connections.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresPool } from '../../src/db/openPostgresPool';
import { migratePostgres } from '../../src/db/postgresMigrations';
import { openSqliteDatabase } from '../../src/db/openSqliteDatabase';
import { PostgresRoundStore } from '../../src/federated/PostgresRoundStore';
import type { RoundStore } from '../../src/federated/RoundStore';
import { SqliteRoundStore } from '../../src/federated/SqliteRoundStore';
import { createDatabase, startPostgres, type StartedPostgres } from '../helpers/postgres';

let pgServer: StartedPostgres | undefined;
let counter = 0;
const dirs: string[] = [];

interface Backend {
  name: string;
  /** Two stores on the same database (two connections, as two server instances would have). */
  open(): Promise<{ a: RoundStore; b: RoundStore; close(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'ondevice-rounds-'));
      dirs.push(dir);
      const [x, y] = [openSqliteDatabase(join(dir, 'collector.sqlite')), openSqliteDatabase(join(dir, 'collector.sqlite'))];
      return { a: new SqliteRoundStore(x), b: new SqliteRoundStore(y), close: async () => void (x.close(), y.close()) };
    },
  },
  {
    name: 'postgres',
    async open() {
      pgServer ??= await startPostgres();
      const url = await createDatabase(pgServer.url, `rounds_${++counter}`);
      const [x, y] = [openPostgresPool(url), openPostgresPool(url)];
      await migratePostgres(x);
      return {
        a: new PostgresRoundStore(x),
        b: new PostgresRoundStore(y),
        close: async () => void (await Promise.all([x.end(), y.end()])),
      };
    },
  },
];

afterAll(async () => {
  await pgServer?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const NOW = 1_800_000_000_000;
const round = (id: string, o: { modelId?: string; seq?: number; deadlineMs?: number } = {}) => ({
  id,
  jobId: 'job-1',
  modelId: o.modelId ?? 'digits',
  seq: o.seq ?? 1,
  kind: 'train' as const,
  offer: { head: { features: 2, classes: 2, W: [0, 0, 0, 0], b: [0, 0] } },
  openedMs: NOW,
  deadlineMs: o.deadlineMs ?? NOW + 60_000,
});

describe.each(backends)('federated round store on $name', (backend) => {
  it('takes one update per install per round, none after it closed, and keeps only the figures once finished', async () => {
    const { a, b, close } = await backend.open();
    try {
      await a.open(round('r1'));
      expect((await b.openRoundOf('digits', NOW))?.id).toBe('r1');
      expect(await b.openRoundOf('other', NOW)).toBeUndefined();
      expect(await b.openRoundOf('digits', NOW + 60_000)).toBeUndefined(); // past its deadline
      expect(await a.addUpdate('r1', 'i1', '{"n":1}', NOW + 1)).toBe('added');
      expect(await b.addUpdate('r1', 'i1', '{"n":2}', NOW + 2)).toBe('duplicate');
      expect(await b.addUpdate('r1', 'i2', '{"n":3}', NOW + 3)).toBe('added');
      expect(await a.addUpdate('nope', 'i1', '{}', NOW)).toBe('unknown');
      expect(await a.hasUpdate('r1', 'i2')).toBe(true);
      expect(await a.countUpdates('r1')).toBe(2);
      expect(await b.close('r1', NOW + 10)).toEqual([
        { installId: 'i1', body: '{"n":1}' },
        { installId: 'i2', body: '{"n":3}' },
      ]);
      expect(await a.addUpdate('r1', 'i3', '{}', NOW + 11)).toBe('closed');
      expect(await a.openRoundOf('digits', NOW)).toBeUndefined();
      await a.finish('r1', { clients: 2 });
      expect(await b.close('r1', NOW + 12)).toEqual([]); // the bodies are gone
      expect(await b.listRounds('job-1')).toEqual([
        expect.objectContaining({ id: 'r1', seq: 1, state: 'closed', closedMs: NOW + 10, summary: { clients: 2 } }),
      ]);
      expect(await a.get('r1')).toMatchObject({ offer: round('r1').offer, deadlineMs: NOW + 60_000 });
    } finally {
      await close();
    }
  });

  it('updates racing from two connections: each install is counted once, and closing stops them', async () => {
    const { a, b, close } = await backend.open();
    try {
      await a.open(round('r2', { seq: 2 }));
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).addUpdate('r2', `install-${i % 20}`, `{"i":${i}}`, NOW + i)),
      );
      expect(results.filter((r) => r === 'added')).toHaveLength(20);
      expect(results.filter((r) => r === 'duplicate')).toHaveLength(20);
      const [closed, late] = await Promise.all([a.close('r2', NOW + 100), b.addUpdate('r2', 'late', '{}', NOW + 101)]);
      // The late update either made it before the close (and is among the closed round's updates) or was refused.
      if (late === 'added') expect(closed.map((u) => u.installId)).toContain('late');
      else expect(late).toBe('closed');
      expect(await a.closeAll('digits', NOW + 200)).toBe(0);
      await a.open(round('r3', { seq: 3 }));
      expect(await b.closeAll(undefined, NOW + 300)).toBe(1);
    } finally {
      await close();
    }
  });
});
