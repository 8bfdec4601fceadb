// What a test can see of a server's processes on Linux (/proc, pgrep): to check that sandbox children come and go
// and that the server's own memory stays put.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The resident set size of `pid`, in bytes. */
export function rssBytes(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** The child processes of `pid`, or those whose command line matches `pattern` (e.g. a sandbox's task module). */
export function childrenOf(pid: number, pattern?: string): number[] {
  try {
    const args = ['-P', String(pid), ...(pattern ? ['-f', pattern] : [])];
    return execFileSync('pgrep', args, { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

/** Whether `pid` still runs (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
