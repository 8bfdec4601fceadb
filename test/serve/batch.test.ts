// `ondevice batch` as a real process: ordered JSONL out, failing rows reported and retried on rerun, stdin/stdout.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeReferenceSessions, runReference } from '../helpers/reference';

let dir: string;
beforeAll(async () => (dir = await mkdtemp(path.join(tmpdir(), 'ondevice-batch-'))));
afterAll(async () => {
  await closeReferenceSessions();
  await rm(dir, { recursive: true, force: true });
});

function runCli(args: string[], stdin?: string, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/ondevice.mjs', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ondevice ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

const row = (i: number) => Array.from({ length: 16 }, (_, k) => Math.sin(i * 16 + k));
const request = (i: number, id?: string) =>
  JSON.stringify({ ...(id ? { id } : {}), inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: row(i) }] });

async function expected(i: number): Promise<number[]> {
  const out = await runReference('public/models/tiny-mlp.onnx', { x: { type: 'float32', data: Float32Array.from(row(i)), dims: [1, 16] } });
  return [...(out.probs.data as Float32Array)];
}

describe('ondevice batch', () => {
  it('writes v2 responses in input order, reports failing rows, and a rerun retries only those', async () => {
    const lines = Array.from({ length: 30 }, (_, k) => request(k + 1, k + 1 === 5 ? 'custom-id' : undefined));
    lines[6] = '{"inputs": [ not json'; // line 7
    lines[8] = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 15], datatype: 'FP32', data: row(9).slice(1) }] }); // line 9
    const input = path.join(dir, 'in.jsonl');
    const output = path.join(dir, 'out.jsonl');
    await writeFile(input, lines.join('\n') + '\n');
    const args = ['batch', '--model', 'tiny-mlp', '--input', input, '--output', output, '--concurrency', '4'];

    const first = await runCli(args);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/^line 7: /m);
    expect(first.stderr).toMatch(/^line 9: .*dim 1 must be 16/m);
    let written = (await readFile(output, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const okLines = Array.from({ length: 30 }, (_, k) => k + 1).filter((n) => n !== 7 && n !== 9);
    expect(written.map((r) => r.id)).toEqual(okLines.map((n) => (n === 5 ? 'custom-id' : String(n))));
    for (const [k, n] of okLines.entries()) {
      expect(written[k]).toMatchObject({ model_name: 'tiny-mlp', model_version: '1' });
      expect(written[k].outputs[0].data).toEqual(await expected(n));
    }

    const again = await runCli(args);
    expect(again.code).toBe(1);
    expect(again.stderr.match(/^line \d+:/gm)).toEqual(['line 7:', 'line 9:']);
    expect((await readFile(output, 'utf8')).trim().split('\n')).toHaveLength(28);

    lines[6] = request(7);
    lines[8] = request(9);
    await writeFile(input, lines.join('\n') + '\n');
    const fixed = await runCli(args);
    expect(fixed.code, fixed.stderr).toBe(0);
    written = (await readFile(output, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(written.slice(28).map((r) => r.id)).toEqual(['7', '9']);
    expect(written.slice(28)[1].outputs[0].data).toEqual(await expected(9));
    expect(new Set(written.map((r) => r.id)).size).toBe(30);
  });

  it('reads stdin and writes stdout with "-", for a model given as a file path', async () => {
    const input = [1, 2, 3].map((i) => request(i)).join('\n') + '\n';
    const result = await runCli(['batch', '--model', 'public/models/tiny-mlp.onnx', '--input', '-', '--output', '-'], input);
    expect(result.code, result.stderr).toBe(0);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.id)).toEqual(['1', '2', '3']);
    expect(rows[2].outputs[0].data).toEqual(await expected(3));
  });

  it('a missing model is a clear error with a non-zero exit', async () => {
    const result = await runCli(['batch', '--model', 'no-such-model', '--input', '-', '--output', '-']);
    // Exit 2 is for usage mistakes only (a missing flag); a model that cannot be found fails the command: 1.
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('INVALID_INPUT');
  });
});
