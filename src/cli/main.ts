// `ondevice <command>`: serve (the Open Inference Protocol server), batch (JSONL in, JSONL out), release
// (the release API's client) and retrain (one retraining job).
import { OnDeviceError } from '../core/OnDeviceError';
import { BATCH_USAGE, runBatch } from './runBatch';
import { releaseUsage, runRelease } from './runRelease';
import { RETRAIN_USAGE, runRetrain } from './runRetrain';
import { runServe, SERVE_USAGE } from './runServe';
import { UsageError } from './UsageError';
import { wantsHelp } from './parseArgs';

interface Command {
  /** The usage of the command, or of the subcommand `args` names. */
  usage(args: readonly string[]): string;
  /** Resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

const COMMANDS = new Map<string, Command>([
  [
    'serve',
    {
      usage: () => SERVE_USAGE,
      run: async (args) => {
        await runServe(args);
        return 0; // listening: the process stays up until a signal
      },
    },
  ],
  ['batch', { usage: () => BATCH_USAGE, run: runBatch }],
  ['release', { usage: ([sub]) => releaseUsage(sub), run: (args) => runRelease(args) }],
  ['retrain', { usage: () => RETRAIN_USAGE, run: (args) => runRetrain(args) }],
]);

const USAGE = `usage: ondevice <command> [options]   (ondevice <command> --help for one command)
${SERVE_USAGE}
${BATCH_USAGE}
${releaseUsage()}
${RETRAIN_USAGE}
exit codes: 0 done, 1 failed (or refused by the server), 2 a usage mistake, 3 retrain refused by the gate`;

const [name, ...args] = process.argv.slice(2);
const command = name === undefined ? undefined : COMMANDS.get(name);
if (name === '-h' || name === '--help' || name === 'help') {
  process.stdout.write(`${USAGE}\n`);
} else if (name === undefined || command === undefined) {
  if (name !== undefined) process.stderr.write(`ondevice: unknown command ${JSON.stringify(name)}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = 2;
} else if (wantsHelp(args)) {
  process.stdout.write(`${command.usage(args)}\n`);
} else {
  try {
    process.exitCode = await command.run(args);
  } catch (error) {
    const code = error instanceof OnDeviceError ? error.code : 'ERROR';
    process.stderr.write(`ondevice ${name}: ${code}: ${(error as Error).message}\n`);
    if (error instanceof UsageError) process.stderr.write(`${command.usage(args)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}
