// `ondevice <command>`: serve (the Open Inference Protocol server) and batch (JSONL in, JSONL out).
import { OnDeviceError } from '../core/OnDeviceError';
import { runBatch } from './runBatch';
import { RELEASE_USAGE, runRelease } from './runRelease';
import { RETRAIN_USAGE, runRetrain } from './runRetrain';
import { runServe } from './runServe';

const USAGE = `usage:
  ondevice serve [--port 8080] [--host 127.0.0.1] [--workers N] [--models-dir DIR] [--collector URL] [--site-key KEY]
  ondevice batch --model <id|file.onnx|url> --input in.jsonl|- --output out.jsonl|- [--concurrency N] [--models-dir DIR]
${RELEASE_USAGE}
${RETRAIN_USAGE}`;

const [command, ...args] = process.argv.slice(2);
try {
  if (command === 'serve') await runServe(args);
  else if (command === 'batch') process.exitCode = await runBatch(args);
  else if (command === 'release') process.exitCode = await runRelease(args);
  else if (command === 'retrain') process.exitCode = await runRetrain(args);
  else {
    console.error(USAGE);
    process.exitCode = command === undefined || command === '--help' ? 0 : 2;
  }
} catch (error) {
  const code = error instanceof OnDeviceError ? error.code : 'ERROR';
  console.error(`ondevice ${command}: ${code}: ${(error as Error).message}`);
  if (code === 'INVALID_INPUT') console.error(USAGE);
  process.exitCode = 2;
}
