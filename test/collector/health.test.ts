import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCollector } from '../../src/collector/createCollector';
import { openSqliteStorage } from '../../src/collector/openSqliteStorage';
import { spawnServer } from '../helpers/spawnServer';
import { getJson, startCollector } from './startCollector';

/**
 * Make `file` unwritable for the collector. Root ignores permission bits, so as root the file is marked
 * immutable (chattr +i); the returned function undoes it.
 */
function makeReadOnly(file: string): () => void {
  if (process.getuid?.() === 0) {
    execFileSync('chattr', ['+i', file]);
    return () => execFileSync('chattr', ['-i', file]);
  }
  chmodSync(file, 0o444);
  return () => chmodSync(file, 0o644);
}

describe('collector storage health', () => {
  it('refuses to start on a read-only database, naming the file, instead of listening and failing every ingest', async () => {
    const c = await startCollector();
    await c.stop(); // a complete database, closed cleanly
    const undo = makeReadOnly(c.dbPath);
    try {
      const started = spawnServer(process.execPath, ['--import', 'tsx', 'src/collector/main.ts'], {
        env: { COLLECTOR_DB_PATH: c.dbPath },
        timeoutMs: 20_000,
      });
      await expect(started).rejects.toThrow(`collector: cannot write database ${c.dbPath}: attempt to write a readonly database`);
    } finally {
      undo();
      c.cleanup();
    }
  });

  it('names the path when the database cannot be opened at all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ondevice-collector-'));
    try {
      // A folder where the file should be: SQLite cannot open it.
      const dbPath = dir;
      const started = spawnServer(process.execPath, ['--import', 'tsx', 'src/collector/main.ts'], {
        env: { COLLECTOR_DB_PATH: dbPath },
        timeoutMs: 20_000,
      });
      await expect(started).rejects.toThrow(`collector: cannot open database ${dbPath}: `);
      await expect(started).rejects.not.toThrow('collector: collector:');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers /v1/health 200 while the database is writable and 503 once it is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ondevice-collector-'));
    const storage = openSqliteStorage(join(dir, 'collector.sqlite'));
    const collector = await createCollector({
      storage,
      alertConfig: { evaluationIntervalMs: 60_000, rules: [] },
      log: () => {},
    });
    const server: Server = createServer((req, res) => void collector.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/health`;
    try {
      expect(await getJson(url)).toEqual({ status: 200, body: { ok: true, storage: 'writable' } });
      storage.db.close(); // the connection is gone: nothing can be stored any more
      const down = await getJson(url);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ ok: false, code: 'STORAGE_UNAVAILABLE' });
    } finally {
      await new Promise((r) => server.close(r));
      await collector.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
