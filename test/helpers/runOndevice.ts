// The `ondevice` command as a user runs it (bin/ondevice.mjs: the sources through tsx in a checkout).
import { execFile } from 'node:child_process';

export interface OndeviceRun {
  /** The exit status (1 when the process was killed, e.g. past `timeoutMs`). */
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `ondevice …args` to its end, with `env` added to ours; killed past `timeoutMs` (default 60 s). */
export function runOndevice(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<OndeviceRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/ondevice.mjs', ...args],
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
