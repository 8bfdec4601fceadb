import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReleaseServer, type StartedReleaseServer } from './startReleaseServer';
import { runOndevice } from '../helpers/runOndevice';

const ondevice = (args: string[], env: Record<string, string> = {}) => runOndevice(args, { env });

describe('ondevice release (the CLI is a thin client of the HTTP API)', () => {
  let srv: StartedReleaseServer;
  const dir = mkdtempSync(join(tmpdir(), 'ondevice-release-cli-'));
  beforeAll(async () => {
    srv = await startReleaseServer();
  }, 60_000);
  afterAll(async () => {
    await srv?.stop();
    srv?.cleanup();
  });

  it('publishes, rolls out, rolls back and shows the status table; refusals print the server code and exit 1', async () => {
    writeFileSync(join(dir, 'metrics.json'), '{"accuracy": 0.93}');
    const published = await ondevice(
      [
        'release',
        'publish',
        'models/generated/tiny-mlp.onnx',
        '--model',
        'tiny-mlp',
        '--version',
        '2',
        '--notes',
        'retrained',
        '--metrics',
        join(dir, 'metrics.json'),
      ],
      { ONDEVICE_SERVER: srv.url },
    );
    expect(published).toMatchObject({ code: 0 });
    expect(published.stdout).toMatch(/tiny-mlp 2: candidate at 0%/);

    const corrupt = join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, 'not a model');
    const refused = await ondevice(['release', 'publish', corrupt, '--model', 'tiny-mlp', '--version', '3', '--server', srv.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/MODEL_LOAD_FAILED: corrupt.onnx is not a well-formed ONNX model/);

    const incompatible = await ondevice([
      'release',
      'publish',
      'models/generated/counter.onnx',
      '--model',
      'tiny-mlp',
      '--version',
      '3',
      '--server',
      srv.url,
    ]);
    expect(incompatible.code).toBe(1);
    expect(incompatible.stderr).toMatch(/INCOMPATIBLE_SIGNATURE: .*--breaking/);

    expect((await ondevice(['release', 'rollout', 'tiny-mlp', '2', '--percent', '25', '--server', srv.url])).stdout).toMatch(
      /candidate at 25%/,
    );
    const status = await ondevice(['release', 'status', 'tiny-mlp', '--server', srv.url]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/version\s+state\s+percent\s+installs\s+inferences\s+accuracy/);
    expect(status.stdout).toMatch(/^2\s+candidate\s+25%.*operator rollout: rollout set to 25 %/m);
    expect(status.stdout).toMatch(/^1\s+stable\s+100%/m);

    expect((await ondevice(['release', 'rollback', 'tiny-mlp', '2', '--reason', 'bad feedback', '--server', srv.url])).stdout).toMatch(
      /rolled back at 0%/,
    );
    const again = await ondevice(['release', 'promote', 'tiny-mlp', '2', '--server', srv.url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/NOT_A_CANDIDATE/);

    const usage = await ondevice(['release', 'rollout', 'tiny-mlp', '2', '--percent', 'lots', '--server', srv.url]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/INVALID_INPUT: --percent must be an integer/);
  }, 120_000);
});
