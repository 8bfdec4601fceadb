import { spawn, type ChildProcess } from 'node:child_process';

export interface SpawnedServer {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  process: ChildProcess;
  /** Everything the process printed so far (stdout + stderr). */
  output: () => string;
  /** SIGTERM and wait for exit (SIGKILL after 5 s). */
  stop: () => Promise<void>;
  /** SIGKILL and wait for exit. */
  kill: () => Promise<void>;
}

/**
 * Start a real server process and wait until it prints `listening on http://127.0.0.1:PORT`.
 * Servers are started with `PORT=0` unless the env says otherwise, so tests never collide.
 */
export async function spawnServer(
  command: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {},
): Promise<SpawnedServer> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${options.timeoutMs ?? 30000} ms:\n${out}`));
    }, options.timeoutMs ?? 30000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  return {
    url,
    port: Number(new URL(url).port),
    process: child,
    output: () => out,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
  };
}
