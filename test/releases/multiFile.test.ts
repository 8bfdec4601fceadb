// Publishing a model made of several files (the ONNX file and external data shards): the CLI finds the shards by
// the locations the model names, the server stores each content-addressed in chunks, checks the assembled set in a
// child process, lists every file in the manifest and serves each with Range and immutable caching.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/node/onnx/encodeModel';
import { transformerEntry, writeTransformerModel, type TransformerSet } from '../../scripts/onnx/transformer/writeTransformerModel';
import { call, startReleaseServer, type StartedReleaseServer } from './startReleaseServer';

const temp = mkdtempSync(join(tmpdir(), 'ondevice-multifile-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const JSON_TYPE = { 'content-type': 'application/json' };
const OCTETS = { 'content-type': 'application/octet-stream' };

function ondevice(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['bin/ondevice.mjs', ...args],
      { env: { ...process.env, ...env }, timeout: 90_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Three shards of about 5 MB each (several chunks each), at locations a URL must encode. */
function writeSet(name: string, seed = 1): TransformerSet {
  return writeTransformerModel({
    dir: join(temp, name),
    bytes: 16e6,
    shards: 3,
    seed,
    locations: ['weights/a b.bin', 'onnx::MatMul_12', 'c#1.bin'],
  });
}

const upload = (base: string, bytes: Uint8Array, sha256 = sha(bytes)) =>
  call(`${base}/v1/uploads/${sha256}`, { method: 'PUT', headers: OCTETS, body: bytes });
const publishFiles = (base: string, model: string, version: string, body: unknown) =>
  call(`${base}/v1/releases/${model}/${version}/files`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });
const listing = (set: TransformerSet) => ({
  model: { sha256: set.modelSha256, bytes: set.modelBytes },
  externalData: set.files.map((f) => ({ location: f.location, sha256: f.sha256, bytes: f.bytes })),
});

/** A model `y = x + w1 + w2` whose two weights live in external files where the caller says. */
function craftedModel(weights: Array<{ location: string; offset: number; length: number }>): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsets: [{ domain: '', version: 17 }],
    producerName: 'test',
    producerVersion: '1',
    graph: {
      name: 'g',
      nodes: [
        { opType: 'Add', inputs: ['x', 'w1'], outputs: ['h'] },
        { opType: 'Add', inputs: ['h', 'w2'], outputs: ['y'] },
      ],
      inputs: [{ name: 'x', type: 'float32', shape: [4] }],
      outputs: [{ name: 'y', type: 'float32', shape: [4] }],
      initializers: weights.map((external, i) => ({ name: `w${i + 1}`, type: 'float32' as const, dims: [4], external })),
    },
  });
}

describe('a multi-file model, published and served', () => {
  let srv: StartedReleaseServer;
  let set: TransformerSet;
  beforeAll(async () => {
    set = writeSet('v1');
    srv = await startReleaseServer({ env: { ONDEVICE_MAX_PUBLISH_BYTES: String(8e6), ONDEVICE_MAX_VERSION_BYTES: String(20e6) } });
  }, 60_000);
  afterAll(async () => {
    await srv?.stop();
    srv?.cleanup();
  });

  it('publishes the set found beside the model as one version; the manifest lists every file; each is served with Range and immutable caching', async () => {
    const published = await ondevice(['release', 'publish', set.model, '--model', 'shards', '--version', '1', '--server', srv.url]);
    expect(published.stderr).toMatch(/no pre-optimised copy: the model keeps its weights in 3 external data files/);
    expect(published).toMatchObject({ code: 0 });
    expect(published.stdout).toMatch(new RegExp(`shards 1: stable at 100% \\(sha256 \\w+…, 4 files, ${set.totalBytes} bytes\\)`));

    const manifest = (await call(`${srv.url}/v1/manifest?install=i-1`)).body.models.shards;
    expect(manifest).toMatchObject({
      id: 'shards',
      version: '1',
      url: '/v1/releases/shards/1/model.onnx',
      sha256: set.modelSha256,
      bytes: set.modelBytes,
      totalBytes: set.totalBytes,
      state: 'stable',
      externalData: [
        {
          location: 'weights/a b.bin',
          url: '/v1/releases/shards/1/files/weights/a%20b.bin',
          sha256: set.files[0].sha256,
          bytes: set.files[0].bytes,
        },
        {
          location: 'onnx::MatMul_12',
          url: '/v1/releases/shards/1/files/onnx%3A%3AMatMul_12',
          sha256: set.files[1].sha256,
          bytes: set.files[1].bytes,
        },
        { location: 'c#1.bin', url: '/v1/releases/shards/1/files/c%231.bin', sha256: set.files[2].sha256, bytes: set.files[2].bytes },
      ],
    });
    expect(manifest.optimized).toBeUndefined();

    for (const [i, file] of set.files.entries()) {
      const res = await fetch(new URL(manifest.externalData[i].url, srv.url));
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('etag')).toBe(`"${file.sha256}"`);
      expect(sha(new Uint8Array(await res.arrayBuffer()))).toBe(file.sha256);
    }
    const model = await fetch(`${srv.url}/v1/releases/shards/1/model.onnx`);
    expect(sha(new Uint8Array(await model.arrayBuffer()))).toBe(set.modelSha256);

    // A range across a chunk boundary (1 MiB chunks) of the first shard.
    const bytes = readFileSync(set.files[0].path);
    const start = 4 * 1024 * 1024 - 10;
    const ranged = await fetch(new URL(manifest.externalData[0].url, srv.url), { headers: { range: `bytes=${start}-${start + 99}` } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes ${start}-${start + 99}/${bytes.byteLength}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(start, start + 100))).toBe(true);
    // The same from the database, where the server keeps the files (its disk copy is only a copy).
    for (const name of readdirSync(join(srv.dir, 'release-files', 'objects'))) rmSync(join(srv.dir, 'release-files', 'objects', name));
    const fromDb = await fetch(new URL(manifest.externalData[0].url, srv.url), { headers: { range: `bytes=${start}-${start + 99}` } });
    expect(fromDb.status).toBe(206);
    expect(Buffer.from(await fromDb.arrayBuffer()).equals(bytes.subarray(start, start + 100))).toBe(true);
    const whole = await fetch(new URL(manifest.externalData[1].url, srv.url));
    expect(sha(new Uint8Array(await whole.arrayBuffer()))).toBe(set.files[1].sha256);
    const head = await fetch(new URL(manifest.externalData[2].url, srv.url), { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(set.files[2].bytes));
    const unknown = await call(`${srv.url}/v1/releases/shards/1/files/nope.bin`);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND']);
  }, 120_000);

  it('resumes a download cut mid-shard with Range: the bytes put together are the file', async () => {
    const file = set.files[1];
    const url = new URL(`/v1/releases/shards/1/files/${encodeURIComponent(file.location)}`, srv.url);
    // Read the first part of the shard, then drop the connection.
    const head = await new Promise<Buffer>((resolve, reject) => {
      const req = request(url, (res) => {
        const chunks: Buffer[] = [];
        let got = 0;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          got += c.length;
          if (got > 3_000_000) {
            req.destroy();
            resolve(Buffer.concat(chunks));
          }
        });
        res.once('end', () => reject(new Error('the whole file arrived before the cut')));
      });
      req.once('error', () => undefined);
      req.end();
    });
    expect(head.length).toBeLessThan(file.bytes);
    const rest = await fetch(url, { headers: { range: `bytes=${head.length}-`, 'if-range': `"${file.sha256}"` } });
    expect(rest.status).toBe(206);
    const whole = Buffer.concat([head, Buffer.from(await rest.arrayBuffer())]);
    expect(sha(whole)).toBe(file.sha256);
  }, 60_000);

  it('does not send again what the server has: a version sharing files with another needs only its new ones', async () => {
    const again = await publishFiles(srv.url, 'shards', '2', listing(set));
    expect(again.status).toBe(201);
    expect(again.body.release).toMatchObject({ version: '2', state: 'candidate', percent: 0 });

    const next = writeSet('v2', 2);
    const body = { ...listing(next), externalData: [...listing(next).externalData.slice(0, 2), listing(set).externalData[2]] };
    const missing = await publishFiles(srv.url, 'shards', '3', body);
    expect([missing.status, missing.body.code]).toEqual([409, 'FILES_MISSING']);
    // The ONNX file is the same (only the weights differ, and they are outside it): only two shards are new.
    expect(next.modelSha256).toBe(set.modelSha256);
    expect(missing.body.missing).toEqual([
      { location: 'weights/a b.bin', sha256: next.files[0].sha256, bytes: next.files[0].bytes },
      { location: 'onnx::MatMul_12', sha256: next.files[1].sha256, bytes: next.files[1].bytes },
    ]);
  });

  it('refuses bad input before storing anything: locations, duplicates, sizes, hashes, and sets that do not match their model', async () => {
    const base = listing(set);
    const bad = async (body: unknown, status: number, code: string, error: RegExp) => {
      const res = await publishFiles(srv.url, 'shards', 'bad', body);
      expect({ status: res.status, code: res.body.code, error: res.body.error }).toEqual({
        status,
        code,
        error: expect.stringMatching(error),
      });
    };
    const withLocation = (location: string) => ({ ...base, externalData: [{ ...base.externalData[0], location }] });
    await bad(withLocation('/etc/passwd'), 400, 'INVALID_INPUT', /absolute/);
    await bad(withLocation('../up.bin'), 400, 'INVALID_INPUT', /"\.\." segment/);
    await bad(withLocation('a\\b.bin'), 400, 'INVALID_INPUT', /contains "\\"/);
    await bad(withLocation('model.onnx'), 400, 'INVALID_INPUT', /may not be named model.onnx/);
    await bad(
      { ...base, externalData: [base.externalData[0], { ...base.externalData[1], location: './weights/a b.bin' }] },
      400,
      'INVALID_INPUT',
      /listed twice/,
    );
    await bad({ ...base, model: { sha256: 'x', bytes: 1 } }, 400, 'INVALID_INPUT', /model.sha256: expected 64 lower-case hex digits/);
    await bad({ ...base, externalData: [{ ...base.externalData[0], bytes: 9e6 }] }, 413, 'PUBLISH_TOO_LARGE', /limit per file/);
    const many = [0, 1, 2, 3].map((i) => ({ location: `w${i}.bin`, sha256: set.files[0].sha256, bytes: 6e6 }));
    await bad({ ...base, externalData: many }, 413, 'PUBLISH_TOO_LARGE', /limit per version/);
    await bad(
      { ...base, externalData: [{ ...base.externalData[0], bytes: 5 }, ...base.externalData.slice(1)] },
      400,
      'INVALID_INPUT',
      /listed as 5 bytes/,
    );

    // The model names a file the publish leaves out, or the publish lists one the model does not name.
    await bad(
      { ...base, externalData: base.externalData.slice(0, 2) },
      422,
      'INVALID_INPUT',
      /names external data file "c#1.bin", which the publish does not include/,
    );
    await bad(
      { ...base, externalData: [...base.externalData, { location: 'extra.bin', sha256: set.modelSha256, bytes: set.modelBytes }] },
      422,
      'INVALID_INPUT',
      /"extra.bin" is not an external data file of the model/,
    );

    // Uploads: a body that does not hash to its name, or is over the per-file limit, leaves nothing.
    const wrong = await upload(srv.url, new Uint8Array([1, 2, 3]), '0'.repeat(64));
    expect([wrong.status, wrong.body.code]).toEqual([422, 'INTEGRITY_MISMATCH']);
    const large = await upload(srv.url, new Uint8Array(8e6 + 1));
    expect([large.status, large.body.code]).toEqual([413, 'BODY_TOO_LARGE']);

    // Two tensors overlapping in one file, and a tensor past the end of its file, refused by the check.
    const overlapping = craftedModel([
      { location: 'w.bin', offset: 0, length: 16 },
      { location: 'w.bin', offset: 8, length: 16 },
    ]);
    const weights = new Uint8Array(24);
    for (const bytes of [overlapping, weights]) expect((await upload(srv.url, bytes)).status).toBe(201);
    const fileOf = (bytes: Uint8Array, location?: string) => ({
      ...(location ? { location } : {}),
      sha256: sha(bytes),
      bytes: bytes.byteLength,
    });
    await bad(
      { model: fileOf(overlapping), externalData: [fileOf(weights, 'w.bin')] },
      422,
      'INVALID_INPUT',
      /tensors "w1" and "w2" overlap in external data file "w.bin"/,
    );
    const pastEnd = craftedModel([
      { location: 'w.bin', offset: 0, length: 16 },
      { location: 'w.bin', offset: 16, length: 16 },
    ]);
    expect((await upload(srv.url, pastEnd)).status).toBe(201);
    await bad(
      { model: fileOf(pastEnd), externalData: [fileOf(weights, 'w.bin')] },
      422,
      'MODEL_LOAD_FAILED',
      /tensor "w2" reaches byte 32 of external data file "w.bin", which holds 24 bytes/,
    );
    const absolute = craftedModel([
      { location: '/etc/w.bin', offset: 0, length: 16 },
      { location: 'w.bin', offset: 0, length: 16 },
    ]);
    expect((await upload(srv.url, absolute)).status).toBe(201);
    await bad(
      { model: fileOf(absolute), externalData: [fileOf(weights, 'w.bin')] },
      422,
      'INVALID_INPUT',
      /names external data file "\/etc\/w.bin", which is absolute/,
    );

    const versions = (await call(`${srv.url}/v1/releases/shards`)).body.versions.map((v: { version: string }) => v.version);
    expect(versions).not.toContain('bad');
  }, 120_000);

  it('the CLI names a missing or short shard before uploading anything', async () => {
    const broken = writeSet('broken', 3);
    rmSync(broken.files[2].path);
    const missing = await ondevice(['release', 'publish', broken.model, '--model', 'shards', '--version', 'm', '--server', srv.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/MODEL_FETCH_FAILED: transformer.onnx names external data file "c#1.bin", which is not at .*c#1.bin/);
    writeFileSync(broken.files[2].path, '');
    truncateSync(broken.files[1].path, 100);
    const short = await ondevice(['release', 'publish', broken.model, '--model', 'shards', '--version', 'm', '--server', srv.url]);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(
      /MODEL_LOAD_FAILED: transformer.onnx: tensor ".*" reaches byte \d+ of external data file "onnx::MatMul_12", which holds 100 bytes/,
    );
    const bad = craftedModel([
      { location: '../w.bin', offset: 0, length: 16 },
      { location: 'w.bin', offset: 0, length: 16 },
    ]);
    writeFileSync(join(temp, 'bad.onnx'), bad);
    const outside = await ondevice([
      'release',
      'publish',
      join(temp, 'bad.onnx'),
      '--model',
      'shards',
      '--version',
      'm',
      '--server',
      srv.url,
    ]);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(
      /INVALID_INPUT: bad.onnx: tensor "w1" names external data file "..\/w.bin", which contains a ".." segment/,
    );
  }, 120_000);
});

describe('a registry model with external data', () => {
  it('is seeded with its data files in the manifest, each at /models/<file>', async () => {
    const set = writeTransformerModel({ dir: join(temp, 'registry'), bytes: 2e6, shards: 2, hidden: 64 });
    const registry = join(temp, 'registry', 'registry.json');
    writeFileSync(registry, JSON.stringify([transformerEntry(set, { id: 'seeded-shards' })]));
    const srv = await startReleaseServer({ env: { COLLECTOR_REGISTRY: registry } });
    try {
      const entry = (await call(`${srv.url}/v1/manifest?install=i`)).body.models['seeded-shards'];
      expect(entry).toMatchObject({
        url: '/models/transformer.onnx',
        totalBytes: set.totalBytes,
        externalData: set.files.map((f) => ({ location: f.location, url: `/models/${f.location}`, sha256: f.sha256, bytes: f.bytes })),
      });
    } finally {
      await srv.stop();
      srv.cleanup();
    }
  }, 60_000);
});

describe('a publish killed mid-upload', () => {
  it('leaves no version and nothing stored once the server is back', async () => {
    const set = writeSet('killed');
    let srv = await startReleaseServer();
    const dir = srv.dir;
    const shard = readFileSync(set.files[0].path);
    const req = request({
      host: '127.0.0.1',
      port: srv.server.port,
      method: 'PUT',
      path: `/v1/uploads/${set.files[0].sha256}`,
      headers: { ...OCTETS, 'content-length': shard.byteLength },
    });
    req.on('error', () => {}); // the connection dies with the server
    req.write(shard.subarray(0, shard.byteLength - 1000));
    // Wait until the server has stored a chunk of it, then kill it.
    const db = new Database(join(dir, 'collector.sqlite'), { readonly: true });
    try {
      const chunks = () => (db.prepare('SELECT COUNT(*) AS n FROM release_object_chunks').get() as { n: number }).n;
      const deadline = Date.now() + 30_000;
      while (chunks() === 0) {
        if (Date.now() > deadline) throw new Error('no chunk was stored within 30 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      await srv.kill();
      // Back with a grace period shorter than the restart takes: what the killed upload stored is removed at start.
      srv = await startReleaseServer({ dir, env: { ONDEVICE_PUBLISH_BODY_TIMEOUT_MS: '50', ONDEVICE_UPLOAD_GRACE_MS: '50' } });
      const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
      expect({ chunks: count('release_object_chunks'), writes: count('release_object_writes'), objects: count('release_objects') }).toEqual(
        {
          chunks: 0,
          writes: 0,
          objects: 0,
        },
      );
    } finally {
      db.close();
    }
    expect((await call(`${srv.url}/v1/releases/killed`)).status).toBe(404);
    expect((await call(`${srv.url}/v1/manifest?install=i`)).body.models.killed).toBeUndefined();
    await srv.stop();
    srv = await startReleaseServer({ dir });
    const published = await ondevice(['release', 'publish', set.model, '--model', 'killed', '--version', '1', '--server', srv.url]);
    expect(published).toMatchObject({ code: 0 });
    await srv.stop();
    srv.cleanup();
  }, 120_000);
});
