import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { call, publish, startReleaseServer, type StartedReleaseServer } from './startReleaseServer';

const TINY_MLP = new Uint8Array(readFileSync('models/generated/tiny-mlp.onnx'));

describe('who may write, and what a crash leaves', () => {
  let srv: StartedReleaseServer | undefined;
  afterEach(async () => {
    await srv?.stop();
    srv?.cleanup();
    srv = undefined;
  });

  it('needs the admin token when one is set, and refuses browsers even with it', async () => {
    srv = await startReleaseServer({ env: { ONDEVICE_ADMIN_TOKEN: 'admin-secret' } });
    const url = `${srv.url}/v1/releases/tiny-mlp/2`;
    const octet = { 'content-type': 'application/octet-stream' };
    const none = await call(url, { method: 'POST', headers: octet, body: TINY_MLP });
    expect([none.status, none.body.code]).toEqual([401, 'UNAUTHORIZED']);
    const wrong = await call(url, { method: 'POST', headers: { ...octet, authorization: 'Bearer nope' }, body: TINY_MLP });
    expect([wrong.status, wrong.body.code]).toEqual([401, 'UNAUTHORIZED']);
    const browser = await call(url, {
      method: 'POST',
      headers: { ...octet, authorization: 'Bearer admin-secret', origin: 'http://127.0.0.1' },
      body: TINY_MLP,
    });
    expect([browser.status, browser.body.code]).toEqual([403, 'BROWSER_REQUEST_REFUSED']);
    const ok = await call(url, { method: 'POST', headers: { ...octet, authorization: 'Bearer admin-secret' }, body: TINY_MLP });
    expect(ok.status).toBe(201);
    // the public side stays public
    expect((await call(`${srv.url}/v1/manifest?install=x`)).status).toBe(200);
    expect((await call(`${srv.url}/v1/releases/tiny-mlp/2/model.onnx`)).status).toBe(200);
  }, 60_000);

  it('refuses writes off loopback without an admin token; the read side needs the read token there', async () => {
    srv = await startReleaseServer({ env: { HOST: '0.0.0.0', COLLECTOR_READ_TOKEN: 'read-secret' } });
    const res = await publish(srv.url, 'tiny-mlp', '2', TINY_MLP);
    expect([res.status, res.body.code]).toEqual([403, 'ADMIN_TOKEN_REQUIRED']);
    expect((await call(`${srv.url}/v1/releases/tiny-mlp`)).status).toBe(401);
    expect((await call(`${srv.url}/v1/releases/tiny-mlp`, { headers: { authorization: 'Bearer read-secret' } })).status).toBe(200);
    expect((await call(`${srv.url}/v1/manifest?install=x`)).status).toBe(200);
  }, 60_000);

  it('keeps nothing of an upload cut by SIGKILL, and the version can be published after the restart', async () => {
    srv = await startReleaseServer();
    const dir = srv.dir;
    // Headers and half the body, then the server dies mid-upload.
    const port = srv.server.port;
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/releases/tiny-mlp/2',
      headers: { 'content-type': 'application/octet-stream', 'content-length': TINY_MLP.byteLength },
    });
    req.on('error', () => {}); // the connection dies with the server
    await new Promise<void>((resolve) => req.write(Buffer.from(TINY_MLP.subarray(0, TINY_MLP.byteLength >> 1)), () => resolve()));
    await srv.kill();
    srv = await startReleaseServer({ dir });
    const status = (await call(`${srv.url}/v1/releases/tiny-mlp`)).body;
    expect(status.versions.map((v: any) => v.version)).toEqual(['1']);
    expect((await call(`${srv.url}/v1/releases/tiny-mlp/2/model.onnx`)).status).toBe(404);
    expect((await publish(srv.url, 'tiny-mlp', '2', TINY_MLP)).status).toBe(201);
  }, 60_000);

  it('after a SIGKILL at any point of a publish, a version is either whole (bytes served, listed) or absent', async () => {
    srv = await startReleaseServer();
    const dir = srv.dir;
    for (let attempt = 0; attempt < 3; attempt++) {
      const version = `k${attempt}`;
      const sent = fetch(`${srv.url}/v1/releases/tiny-mlp/${version}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array(TINY_MLP),
        signal: AbortSignal.timeout(10_000),
      }).catch(() => undefined);
      // Kill while the server is somewhere in receive → onnxruntime → transaction (the delay varies).
      await new Promise((r) => setTimeout(r, attempt * 15));
      await srv.kill();
      await sent;
      srv = await startReleaseServer({ dir });
      const listed = (await call(`${srv.url}/v1/releases/tiny-mlp`)).body.versions.some((v: any) => v.version === version);
      const bytes = await call(`${srv.url}/v1/releases/tiny-mlp/${version}/model.onnx`);
      expect({ version, listed, served: bytes.status === 200 }).toEqual({ version, listed, served: listed });
    }
  }, 120_000);
});
