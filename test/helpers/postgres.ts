// A throwaway PostgreSQL cluster for tests and benchmarks: Debian's server binaries (`pg_config --bindir`),
// initdb into a temp dir (as the `postgres` user when we are root: initdb and postgres refuse root), one
// free port on 127.0.0.1, the unix socket inside the temp dir, fsync off. `stop()` shuts it down and
// removes the dir; a process exit does the same for a cluster a failed test never stopped.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { waitFor } from './waitFor';

export interface StartedPostgres {
  /** e.g. postgres://postgres@127.0.0.1:41234/postgres (trust auth: no password). */
  url: string;
  /** The temp dir holding the data dir and the unix socket; removed by `stop()`. */
  dir: string;
  /** Fast shutdown (SIGINT, SIGKILL after 10 s), then the temp dir is removed. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Server settings passed as `-c name=value` (e.g. `{ shared_buffers: '256MB' }` for a bench). */
  settings?: Record<string, string>;
  timeoutMs?: number;
}

function serverBinDir(): string {
  try {
    const bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (existsSync(path.join(bindir.trim(), 'initdb'))) return bindir.trim();
  } catch {
    // pg_config ships with libpq-dev; fall back to where Debian installs the server.
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error('PostgreSQL server not found (no initdb): run `node scripts/ensure-postgres.mjs`');
  }
  return path.join(root, versions[0], 'bin');
}

/** uid/gid to run the server as: the `postgres` user when we are root, else ourselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('no `postgres` user to run initdb as');
  return { uid, gid };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const live = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) {
      c.child.kill('SIGKILL');
      rmSync(c.dir, { recursive: true, force: true });
    }
  });
}

async function waitReady(url: string, child: ChildProcess, output: () => string, timeoutMs: number) {
  let lastError = '';
  await waitFor(
    () => `postgres to accept connections (${lastError}):\n${output()}`,
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`postgres exited (${child.exitCode ?? child.signalCode}) before accepting connections:\n${output()}`);
      }
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch (e) {
        lastError = (e as Error).message;
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    { timeoutMs },
  );
}

/** initdb + postgres on a free port; resolves once it answers a query. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<StartedPostgres> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const bindir = serverBinDir();
  const user = serverUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ondevice-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const dataDir = path.join(dir, 'data');
  const ids = user ? { uid: user.uid, gid: user.gid } : {};
  try {
    execFileSync(path.join(bindir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
      ...ids,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${err.stderr?.toString() ?? err.message}`);
  }

  // A port found free can be taken before postgres binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: dir,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '200',
      ...options.settings,
    };
    const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const child = spawn(path.join(bindir, 'postgres'), args, {
      ...ids,
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const entry = { child, dir };
    live.add(entry);
    installExitHook();
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const stopChild = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT'); // fast shutdown: disconnect clients, no checkpoint wait for them
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    };
    try {
      await waitReady(url, child, () => out, timeoutMs);
    } catch (e) {
      await stopChild();
      live.delete(entry);
      if (attempt < 3 && /could not bind|Address already in use/.test(out)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    let stopped: Promise<void> | undefined;
    return {
      url,
      dir,
      stop: () =>
        (stopped ??= (async () => {
          await stopChild();
          live.delete(entry);
          rmSync(dir, { recursive: true, force: true });
        })()),
    };
  }
}

/** CREATE DATABASE `name` on the server at `url`; resolves to the URL of the new database. */
export async function createDatabase(url: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name must be a plain identifier: ${name}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
