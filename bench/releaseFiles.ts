// Release files benchmark: publish and download MB/s of a real release server (src/releases/main.ts, SQLite or
// PostgreSQL) for a multi-file model, beside reading the same bytes from disk in the same run, and the main server
// process's resident memory (RSS) over the publish and the downloads, sampled from /proc every 25 ms — the bound is
// that it grows by at most 64 MB for a 2 GB publish, whatever the file sizes. The sandbox child that checks the set
// is a separate process; its peak RSS is reported apart.
//   npm run bench -- release-files            (BENCH_RELEASE_BYTES, default 2e9; BENCH_RELEASE_SHARDS, default 3;
//                                               BENCH_RELEASE_DB=postgres for PostgreSQL)
import { createReadStream, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLocalModelSet, type LocalModelSet } from '../src/cli/readLocalModelSet';
import { uploadFile } from '../src/cli/uploadFile';
import { writeTransformerModel } from '../scripts/onnx/transformer/writeTransformerModel';
import { createDatabase, startPostgres, type StartedPostgres } from '../test/helpers/postgres';
import { spawnServer } from '../test/helpers/spawnServer';
import { startReleaseServer } from '../test/releases/startReleaseServer';

export interface ReleaseFilesBenchResult {
  database: 'sqlite' | 'postgres';
  totalBytes: number;
  files: number;
  chunkBytes: number;
  disk: { readMBps: number; hashMBps: number };
  publish: {
    hashSeconds: number;
    uploadSeconds: number;
    uploadMBps: number;
    checkSeconds: number;
    totalSeconds: number;
    totalMBps: number;
  };
  download: { fromDiskCopy: { seconds: number; MBps: number }; fromDatabase: { seconds: number; MBps: number } };
  ratios: {
    uploadOverDiskRead: number;
    publishOverDiskRead: number;
    downloadFromDiskCopyOverDiskRead: number;
    downloadFromDatabaseOverDiskRead: number;
  };
  serverRss: {
    idleMB: number;
    peakDuringPublishMB: number;
    growthDuringPublishMB: number;
    growthAfterFirstPartMB: number;
    /** Over idle, while the files were uploaded. */
    growthDuringUploadsMB: number;
    /** Over the RSS after the uploads, while the set was checked and committed. */
    growthDuringCheckMB: number;
    beforeDownloadsMB: number;
    growthDuringDownloadsMB: number;
  };
  checkChildPeakRssMB: number;
  /** RSS growth of a bare node:http server that receives the same uploads and discards them: the runtime's floor. */
  bareServerUploadGrowthMB: number;
}

const MB = 1e6;

/** Resident memory of a process, in bytes (VmRSS of /proc/<pid>/status). */
function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The process ids whose parent is `pid` (the sandbox children of the server). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // the process is gone
    }
  }
  return out;
}

/** Sample the server's RSS (and its children's) every 25 ms until stopped; the peaks. */
function sampleRss(pid: number) {
  let peak = rssBytes(pid);
  let childPeak = 0;
  let children: number[] = [];
  let ticks = 0;
  // The children are looked up every 10th sample: scanning /proc costs CPU the measured server needs.
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
    if (ticks++ % 10 === 0) children = childrenOf(pid);
    for (const child of children) childPeak = Math.max(childPeak, rssBytes(child));
  }, 25);
  return {
    stop() {
      clearInterval(timer);
      return { peak, childPeak };
    },
  };
}

async function readAll(path: string): Promise<number> {
  let n = 0;
  for await (const piece of createReadStream(path, { highWaterMark: 1024 * 1024 })) n += (piece as Buffer).length;
  return n;
}

/** GET a URL and discard the body; the bytes received. */
function download(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.once('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}`))));
      res.once('error', reject);
    })
      .once('error', reject)
      .end();
  });
}

/** Upload every file of a set; the seconds it took. */
async function uploadAll(base: string, set: LocalModelSet, onProgress?: (sentTotal: number) => void): Promise<number> {
  const t = performance.now();
  let before = 0;
  for (const file of [set.model, ...set.externalData]) {
    const res = await uploadFile(
      `${base}/v1/uploads/${file.sha256}`,
      file,
      {},
      {
        stallTimeoutMs: 120_000,
        onProgress: (sent) => onProgress?.(before + sent),
      },
    );
    before += file.bytes;
    if (res.status !== 201 && res.status !== 200) throw new Error(`upload: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  }
  return (performance.now() - t) / 1000;
}

/** Publish version 1 of `model` from its uploaded files. */
async function commit(base: string, model: string, set: LocalModelSet): Promise<void> {
  const res = await fetch(`${base}/v1/releases/${model}/1/files`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: { sha256: set.model.sha256, bytes: set.model.bytes },
      externalData: set.externalData.map(({ location, sha256, bytes }) => ({ location, sha256, bytes })),
    }),
    signal: AbortSignal.timeout(30 * 60_000),
  });
  if (res.status !== 201) throw new Error(`publish: HTTP ${res.status} ${await res.text()}`);
}

export async function runReleaseFilesBench(
  options: { bytes?: number; shards?: number; database?: 'sqlite' | 'postgres' } = {},
): Promise<ReleaseFilesBenchResult> {
  const bytes = options.bytes ?? Number(process.env.BENCH_RELEASE_BYTES ?? 2e9);
  const shards = options.shards ?? Number(process.env.BENCH_RELEASE_SHARDS ?? 3);
  const database = options.database ?? (process.env.BENCH_RELEASE_DB === 'postgres' ? 'postgres' : 'sqlite');
  const dir = mkdtempSync(join(tmpdir(), 'ondevice-bench-release-'));
  let postgres: StartedPostgres | undefined;
  try {
    console.error(`release-files: writing a ${(bytes / MB).toFixed(0)} MB model in ${shards} shards`);
    const set = writeTransformerModel({ dir: join(dir, 'model'), bytes, shards });
    const paths = [set.model, ...set.files.map((f) => f.path)];

    // Baseline: the same bytes read from disk (the page cache, as the publish reads them), then hashed too.
    let t = performance.now();
    let total = 0;
    for (const p of paths) total += await readAll(p);
    const readSeconds = (performance.now() - t) / 1000;

    // Floor: a bare node:http server that receives the same uploads and throws them away.
    const bare = await spawnServer(process.execPath, ['--import', 'tsx', 'bench/discardServer.ts']);
    let bareGrowth = 0;
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const bareIdle = rssBytes(bare.process.pid!);
      const bareRss = sampleRss(bare.process.pid!);
      for (const p of paths) await uploadFile(`${bare.url}/discard`, { path: p, bytes: statSync(p).size }, {}, { stallTimeoutMs: 120_000 });
      bareGrowth = bareRss.stop().peak - bareIdle;
    } finally {
      await bare.stop();
    }

    const env: Record<string, string> = {};
    if (database === 'postgres') {
      postgres = await startPostgres({ settings: { shared_buffers: '256MB' } });
      env.COLLECTOR_DATABASE_URL = await createDatabase(postgres.url, 'release_files');
      env.ONDEVICE_RELEASE_FILES_DIR = join(dir, 'release-files');
    }
    const srv = await startReleaseServer({ env });
    try {
      const pid = srv.server.process.pid!;
      // Let start-up settle before the idle figure.
      await new Promise((r) => setTimeout(r, 2000));
      const idle = rssBytes(pid);

      // The publish, on a server that has not received a file yet: `growth` includes what the first transfer sets
      // up (code compiled on first use, buffers the runtime keeps); `growthAfterFirstPart` is the growth from the
      // moment the first 15 % were uploaded to the end — what scales with the file, if anything does.
      const publishRss = sampleRss(pid);
      let rssAtFirstPart = 0;
      const started = performance.now();
      const local = await readLocalModelSet(set.model);
      const hashSeconds = (performance.now() - started) / 1000;
      const uploadSeconds = await uploadAll(srv.url, local, (sentTotal) => {
        if (rssAtFirstPart === 0 && sentTotal > 0.15 * total) rssAtFirstPart = rssBytes(pid);
      });
      const rssAfterUpload = rssBytes(pid);
      const uploadPeak = publishRss.stop().peak;
      const commitRss = sampleRss(pid);
      t = performance.now();
      await commit(srv.url, 'bench', local);
      const checkSeconds = (performance.now() - t) / 1000;
      const totalSeconds = (performance.now() - started) / 1000;
      const commitPeaks = commitRss.stop();
      const publishPeaks = { peak: Math.max(uploadPeak, commitPeaks.peak), childPeak: commitPeaks.childPeak };

      // Downloads: from the server's disk copy, then from the database alone (the copy removed).
      const downloadAll = async () => {
        const rss = sampleRss(pid);
        const t0 = performance.now();
        let received = await download(`${srv.url}/v1/releases/bench/1/model.onnx`);
        for (const f of local.externalData)
          received += await download(`${srv.url}/v1/releases/bench/1/files/${f.location.split('/').map(encodeURIComponent).join('/')}`);
        if (received !== total) throw new Error(`downloaded ${received} bytes, expected ${total}`);
        return { seconds: (performance.now() - t0) / 1000, peak: rss.stop().peak };
      };
      const beforeDownloads = rssBytes(pid);
      const fromDisk = await downloadAll();
      const objects = join(database === 'postgres' ? join(dir, 'release-files') : join(srv.dir, 'release-files'), 'objects');
      for (const name of readdirSync(objects)) rmSync(join(objects, name));
      const fromDatabase = await downloadAll();

      const hashStart = performance.now();
      await readLocalModelSet(set.model);
      const hashAgainSeconds = (performance.now() - hashStart) / 1000;

      const readMBps = total / MB / readSeconds;
      return {
        database,
        totalBytes: total,
        files: paths.length,
        chunkBytes: 4 * 1024 * 1024,
        disk: { readMBps, hashMBps: total / MB / hashAgainSeconds },
        publish: {
          hashSeconds,
          uploadSeconds,
          uploadMBps: total / MB / uploadSeconds,
          checkSeconds,
          totalSeconds,
          totalMBps: total / MB / totalSeconds,
        },
        download: {
          fromDiskCopy: { seconds: fromDisk.seconds, MBps: total / MB / fromDisk.seconds },
          fromDatabase: { seconds: fromDatabase.seconds, MBps: total / MB / fromDatabase.seconds },
        },
        ratios: {
          uploadOverDiskRead: total / MB / uploadSeconds / readMBps,
          publishOverDiskRead: total / MB / totalSeconds / readMBps,
          downloadFromDiskCopyOverDiskRead: total / MB / fromDisk.seconds / readMBps,
          downloadFromDatabaseOverDiskRead: total / MB / fromDatabase.seconds / readMBps,
        },
        serverRss: {
          idleMB: idle / MB,
          peakDuringPublishMB: publishPeaks.peak / MB,
          growthDuringPublishMB: (publishPeaks.peak - idle) / MB,
          growthAfterFirstPartMB: (publishPeaks.peak - rssAtFirstPart) / MB,
          growthDuringUploadsMB: (uploadPeak - idle) / MB,
          growthDuringCheckMB: (commitPeaks.peak - rssAfterUpload) / MB,
          beforeDownloadsMB: beforeDownloads / MB,
          growthDuringDownloadsMB: (Math.max(fromDisk.peak, fromDatabase.peak) - beforeDownloads) / MB,
        },
        checkChildPeakRssMB: publishPeaks.childPeak / MB,
        bareServerUploadGrowthMB: bareGrowth / MB,
      };
    } finally {
      await srv.stop();
      srv.cleanup();
    }
  } finally {
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printReleaseFilesBench(r: ReleaseFilesBenchResult): void {
  const f = (n: number) => n.toFixed(1);
  const x = (n: number) => `${n.toFixed(2)}×`;
  console.log(`\nRelease files (${r.database}): ${f(r.totalBytes / MB)} MB in ${r.files} files`);
  console.log(`  disk read              ${f(r.disk.readMBps)} MB/s (baseline); read + sha256 ${f(r.disk.hashMBps)} MB/s`);
  console.log(
    `  publish                hash ${f(r.publish.hashSeconds)} s, upload ${f(r.publish.uploadSeconds)} s (${f(r.publish.uploadMBps)} MB/s, ${x(r.ratios.uploadOverDiskRead)} disk read), check ${f(r.publish.checkSeconds)} s; whole ${f(r.publish.totalSeconds)} s (${f(r.publish.totalMBps)} MB/s, ${x(r.ratios.publishOverDiskRead)})`,
  );
  console.log(
    `  download               disk copy ${f(r.download.fromDiskCopy.MBps)} MB/s (${x(r.ratios.downloadFromDiskCopyOverDiskRead)}), database ${f(r.download.fromDatabase.MBps)} MB/s (${x(r.ratios.downloadFromDatabaseOverDiskRead)})`,
  );
  console.log(
    `  server RSS             idle ${f(r.serverRss.idleMB)} MB; publish +${f(r.serverRss.growthDuringPublishMB)} MB (+${f(r.serverRss.growthAfterFirstPartMB)} MB after the first 15 %; target ≤ 64: uploads +${f(r.serverRss.growthDuringUploadsMB)}, check and commit +${f(r.serverRss.growthDuringCheckMB)} more); downloads +${f(r.serverRss.growthDuringDownloadsMB)} MB; check child peak ${f(r.checkChildPeakRssMB)} MB`,
  );
  console.log(
    `  floor                  a bare node:http server receiving the same uploads and discarding them: +${f(r.bareServerUploadGrowthMB)} MB`,
  );
}
