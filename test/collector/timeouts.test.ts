import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type SpawnedServer } from '../helpers/spawnServer';

// Short deadlines so each case finishes in seconds; Node's defaults (and the old settings) kept such
// connections 5–87 s, far past the bound each wait below allows.
const TIMEOUTS = {
  HTTP_HEADERS_TIMEOUT_MS: '1000',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000',
  COLLECTOR_INGEST_BODY_TIMEOUT_MS: '1000',
};
const BOUND_MS = 4000;

/** Open a raw connection, write `text`, and collect what comes back until the server closes it (bounded). */
async function exchange(port: number, text: string): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const closed = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server kept the connection open for more than ${BOUND_MS} ms; received: ${JSON.stringify(received)}`));
    }, BOUND_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
  socket.write(text);
  return { socket, closed };
}

for (const [name, entry] of [
  ['npm start (src/start/main.ts)', 'src/start/main.ts'],
  ['standalone collector (src/collector/main.ts)', 'src/collector/main.ts'],
] as const) {
  describe(`server timeouts: ${name}`, () => {
    let server: SpawnedServer;
    let dir: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ondevice-timeouts-'));
      server = await spawnServer(process.execPath, ['--import', 'tsx', entry], {
        env: { ...TIMEOUTS, COLLECTOR_DB_PATH: join(dir, 'collector.sqlite'), COLLECTOR_RATE_LIMIT_PER_SECOND: '0' },
      });
    });
    afterAll(async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('closes a connection whose headers trickle in', async () => {
      const { closed } = await exchange(server.port, 'GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      expect(await closed).toMatch(/^HTTP\/1\.1 408 |^$/);
    });

    it('closes an idle keep-alive connection', async () => {
      const { closed } = await exchange(server.port, 'GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
      expect(await closed).toMatch(/^HTTP\/1\.1 200 /);
    });

    it('answers 408 BODY_TIMEOUT when an ingest body stalls past its route deadline', async () => {
      const head = 'POST /v1/events?key=demo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n';
      const { closed } = await exchange(server.port, `${head}{"events":[`);
      const response = await closed;
      expect(response).toMatch(/^HTTP\/1\.1 408 /);
      expect(response).toContain('"code":"BODY_TIMEOUT"');
    });
  });
}

describe('configuration errors of npm start', () => {
  it('says "collector:" once', async () => {
    const started = spawnServer(process.execPath, ['--import', 'tsx', 'src/start/main.ts'], {
      env: { HOST: '0.0.0.0', COLLECTOR_READ_TOKEN: '', COLLECTOR_DB_PATH: ':memory:' },
      timeoutMs: 20_000,
    });
    const error = await started.then(
      () => new Error('npm start listened on 0.0.0.0 without a read token'),
      (e: Error) => e,
    );
    expect(error.message).toContain('collector: a read token is required');
    expect(error.message).not.toContain('collector: collector:');
  });
});
