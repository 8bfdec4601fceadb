import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/**
 * The resident set size of process `pid` in bytes, read from outside it (its own thread may be stuck in a
 * native call): `/proc/<pid>/status` on Linux, `ps` elsewhere. Undefined when the process is gone.
 */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  if (process.platform === 'linux') {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
    const kib = status && /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kib ? Number(kib) * 1024 : undefined;
  }
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'rss=', '-p', String(pid)], { timeout: 2000 }, (error, stdout) => {
      const kib = Number(stdout.trim());
      resolve(error || !Number.isFinite(kib) || stdout.trim() === '' ? undefined : kib * 1024);
    });
  });
}
