import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { writeInSlices } from '../../src/collector/writeInSlices';

describe('writeInSlices', () => {
  it('lets the event loop turn between slices while it writes a large body (a /metrics scrape)', async () => {
    const parts = Array.from({ length: 4000 }, (_, i) => `series_${i} ${'x'.repeat(1500)}\n`); // ~6 MB
    let turns = 0;
    let writing = false;
    const countTurns = () => {
      if (!writing) return;
      turns++;
      setImmediate(countTurns);
    };
    const server = createServer((_req, res) => {
      res.writeHead(200);
      writing = true;
      setImmediate(countTurns);
      void writeInSlices(res, parts).finally(() => (writing = false));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { timeout: 15_000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks).toString()));
        });
        req.on('timeout', () => req.destroy(new Error('body not received within 15 s')));
        req.on('error', reject);
      });
      expect(body).toBe(parts.join(''));
      // ~90 slices of 64 KiB: the loop turned between (nearly) all of them. Writing again straight from a
      // 'drain' emitted on process.nextTick never let it turn at all.
      expect(turns).toBeGreaterThan(40);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
