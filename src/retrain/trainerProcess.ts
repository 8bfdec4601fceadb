import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Where a job's trainer runs, recorded on the job when it starts, so that a server started after a crash
 * (kill -9) can end a trainer the crashed one left behind: its process group (the trainer and whatever it
 * started), the machine (host name and, on Linux, boot id) and the trainer's start time (Linux: clock
 * ticks since boot) to tell it from an unrelated process that got the same id later.
 */
export interface TrainerProcess {
  pgid: number;
  host: string;
  bootId: string | null;
  startTicks: number | null;
}

/** What `killTrainerGroup` found: killed the group; nothing of it was left; or it is not ours to kill. */
export type TrainerKill = 'killed' | 'gone' | 'elsewhere' | 'reused';

/** The trainer started as process `pid`, leader of its own group (spawned with `detached: true`). */
export function describeTrainer(pid: number): TrainerProcess {
  return { pgid: pid, host: hostname(), bootId: bootId(), startTicks: startTicksOf(pid) };
}

/**
 * SIGKILL the recorded trainer's process group if it is still alive on this machine. Linux never gives a
 * new process an id that is still some group's id, so while any member of the group lives the id is ours;
 * a live process with that id and another start time means the group ended and the id was reused: left alone.
 */
export function killTrainerGroup(trainer: TrainerProcess): TrainerKill {
  if (trainer.host !== hostname() || (trainer.bootId !== null && trainer.bootId !== bootId())) return 'elsewhere';
  const leaderStart = startTicksOf(trainer.pgid);
  if (leaderStart !== null && trainer.startTicks !== null && leaderStart !== trainer.startTicks) return 'reused';
  try {
    process.kill(-trainer.pgid, 'SIGKILL');
    return 'killed';
  } catch {
    return 'gone'; // ESRCH: no process is left in the group
  }
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null; // not Linux
  }
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command, which may hold spaces); null when there is none. */
function startTicksOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}
