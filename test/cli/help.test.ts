// The `ondevice` command as a user meets it: help for every command and subcommand on stdout with exit 0,
// exit 2 only for usage mistakes, and one clear line when the server is down or lacks the API.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type SpawnedServer } from '../helpers/spawnServer';
import { runOndevice } from '../helpers/runOndevice';

const ondevice = (args: string[], env: Record<string, string> = {}) => runOndevice(args, { env });

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('ondevice help', () => {
  const commands = [
    ['serve'],
    ['batch'],
    ['release'],
    ...['publish', 'rollout', 'promote', 'rollback', 'status'].map((sub) => ['release', sub]),
    ['retrain'],
  ];

  it.each(['-h', '--help'])('every command and subcommand takes %s: its usage on stdout, exit 0', async (flag) => {
    for (const command of commands) {
      const r = await ondevice([...command, flag]);
      expect({ command, code: r.code, stderr: r.stderr }).toEqual({ command, code: 0, stderr: '' });
      expect(r.stdout).toContain(`ondevice ${command.join(' ')}`);
    }
    // The subcommand's own line, not the whole list.
    const publish = await ondevice(['release', 'publish', flag]);
    expect(publish.stdout).not.toContain('release rollout');
    const all = await ondevice([flag]);
    expect(all.code).toBe(0);
    for (const [command] of commands) expect(all.stdout).toContain(`ondevice ${command}`);
  });

  it('no command, an unknown command or a wrong flag: the usage on stderr and exit 2', async () => {
    const none = await ondevice([]);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toContain('ondevice serve');
    const unknown = await ondevice(['deploy']);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/unknown command "deploy"/);
    const flag = await ondevice(['serve', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--bogus'[\s\S]*ondevice serve \[model\.onnx\] \[--port/);
    const missing = await ondevice(['release', 'status']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/release status takes <id>/);
  });

  it('a refused connection is not a usage mistake: exit 1, one line naming the server', async () => {
    const server = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [
      ['release', 'status', 'tiny-mlp', '--server', server],
      ['retrain', '--model', 'digits', '--on-server', '--server', server],
    ]) {
      const r = await ondevice(args);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(server);
      expect(r.stderr).toMatch(/ECONNREFUSED/);
    }
  });
});

describe('ondevice release and retrain against `ondevice serve` (no release or retraining routes)', () => {
  let serve: SpawnedServer;
  beforeAll(async () => {
    serve = await spawnServer(process.execPath, ['bin/ondevice.mjs', 'serve', '--workers', '1']);
  });
  afterAll(async () => {
    await serve?.stop();
  });

  it('say in one line that the server has no such API', async () => {
    for (const [args, what] of [
      [['release', 'status', 'tiny-mlp'], 'release API'],
      [['release', 'promote', 'tiny-mlp', '2'], 'release API'],
      [['retrain', '--model', 'digits', '--on-server'], 'retraining API'],
    ] as const) {
      const r = await ondevice([...args, '--server', serve.url]);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain(`${serve.url} has no ${what}`);
      expect(lines[0]).toContain('ondevice serve');
    }
  });
});
