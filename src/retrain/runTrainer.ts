import { spawn } from 'node:child_process';

export interface TrainerResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/**
 * Run the trainer command as a child process (`<argv…> --dataset <dir> --out <dir>`), its stdout and
 * stderr going line by line to `log`; killed (SIGKILL, with its process group) after `timeoutMs` or
 * when `signal` aborts. It runs in its own process group so that whatever it starts dies with it.
 */
export function runTrainer(
  argv: readonly string[],
  args: { dataset: string; out: string },
  options: {
    timeoutMs: number;
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    log: (line: string) => void;
    signal?: AbortSignal;
    /** The trainer started as `pid`, leader of its own process group. */
    onSpawn?: (pid: number) => void;
  },
): Promise<TrainerResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], [...argv.slice(1), '--dataset', args.dataset, '--out', args.out], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      options.log(`trainer: killed after ${options.timeoutMs} ms`);
      killGroup(child.pid);
    }, options.timeoutMs);
    const abort = () => {
      options.log('trainer: killed (the job was stopped)');
      killGroup(child.pid);
    };
    options.signal?.addEventListener('abort', abort, { once: true });
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) options.log(`trainer: ${line}`);
      });
      stream.on('end', () => {
        if (rest) options.log(`trainer: ${rest}`);
      });
    }
    child.on('error', (e) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      options.log(`trainer: cannot start ${argv[0]}: ${e.message}`);
      resolve({ exitCode: null, signal: null, timedOut });
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      resolve({ exitCode, signal, timedOut });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
