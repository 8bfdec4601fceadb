// The memory of the Chromium renderer processes this Node process started (the page and its dedicated workers live
// in a renderer): proportional set size from /proc/<pid>/smaps_rollup, summed, sampled while something runs.
import { readdirSync, readFileSync } from 'node:fs';

/** Renderer processes descended from this Node process (the browsers it launched). */
function rendererPids(): number[] {
  const parent = new Map<number, number>();
  const renderers: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) renderers.push(pid);
    } catch {
      // The process ended meanwhile.
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 20; p = parent.get(p) ?? 0, hops++) if (p === process.pid) return true;
    return false;
  };
  return renderers.filter(mine);
}

let known: { pids: number[]; at: number } | undefined;

/** Bytes: the sum of Pss over this process's renderers (the process list is rescanned at most every second). */
export function rendererBytes(): number {
  if (!known || performance.now() - known.at > 1000) known = { pids: rendererPids(), at: performance.now() };
  let total = 0;
  for (const pid of known.pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // Gone.
    }
  }
  return total;
}

/** Sample renderer memory every `everyMs` until stopped; returns the peak and the last sample. */
export function trackRendererMemory(everyMs = 100): { stop(): { peakBytes: number; lastBytes: number } } {
  let peakBytes = rendererBytes();
  let lastBytes = peakBytes;
  const timer = setInterval(() => {
    lastBytes = rendererBytes();
    peakBytes = Math.max(peakBytes, lastBytes);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      lastBytes = rendererBytes();
      return { peakBytes: Math.max(peakBytes, lastBytes), lastBytes };
    },
  };
}
