import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { describeModel } from '../../scripts/onnx/describeModel';
import { sha256File } from '../../scripts/onnx/sha256File';
import { sourcePath } from '../../scripts/onnx/sourcePath';
import { onnxruntimeVersion, writeOptimizedModel } from '../../src/node/optimizeModel';
import type { AssetEntry } from '../../src/registry/ModelEntry';
import { makeInputs } from '../helpers/inputs';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';
import { parseRegistry } from '../../src/registry/parseRegistry';
import { loadModel } from '../../src/node';
import { writeTransformerModel } from '../../scripts/onnx/transformer/writeTransformerModel';

const registryText = readFileSync('models/registry.json', 'utf8');
const registry = parseRegistry(registryText);
const files = registry.flatMap((entry) => [
  { label: `${entry.id}@${entry.version}`, item: entry },
  ...(entry.optimized ? [{ label: `${entry.id}@${entry.version} optimized`, item: entry.optimized }] : []),
  ...(entry.assets ?? []).map((asset) => ({ label: `${entry.id}@${entry.version} ${asset.name}`, item: asset })),
]);
const temp = mkdtempSync(join(tmpdir(), 'ondevice-registry-'));
afterAll(async () => {
  await closeReferenceSessions();
  rmSync(temp, { recursive: true, force: true });
});

const run = promisify(execFile);
async function script(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', `scripts/${name}`, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('models/registry.json', () => {
  it('holds the expected models, with model and package licences', () => {
    expect(registry.map((e) => e.id)).toEqual([
      'counter',
      'digits',
      'dtypes',
      'ppocr-v2-cls',
      'ppocr-v4-det',
      'ppocr-v4-rec',
      'silero-vad-v5',
      'tiny-mlp',
    ]);
    const licences = Object.fromEntries(registry.map((e) => [e.id, [e.license, 'package' in e.source ? e.source.license : null]]));
    expect(licences['ppocr-v4-det']).toEqual(['Apache-2.0', 'MIT']);
    expect(licences['silero-vad-v5']).toEqual(['MIT', 'ISC']);
    expect(registry.find((e) => e.id === 'ppocr-v4-rec')?.assets?.map((a) => a.file)).toEqual(['ppocr_keys_v1.txt']);
  });

  it.each(files.filter((f) => 'source' in f.item).map((f) => [f.label, f.item as AssetEntry] as const))(
    '%s: sha256 and size match the source file',
    async (_label, item) => {
      expect(await sha256File(sourcePath(item))).toEqual({ sha256: item.sha256, bytes: item.bytes });
    },
  );

  const withCopies = registry.filter((e) => e.optimized);
  it('pre-optimised copies exist for the models whose session creation they cut', () => {
    expect(withCopies.map((e) => e.id)).toEqual(['digits', 'ppocr-v2-cls', 'ppocr-v4-det', 'ppocr-v4-rec', 'silero-vad-v5']);
  });

  it.each(withCopies.map((e) => [e.id, e] as const))(
    '%s: the pre-optimised copy models:sync writes matches its sha256, describes the same IO and computes the same outputs',
    async (_id, entry) => {
      const copy = join(temp, `copy-${entry.id}.onnx`);
      await writeOptimizedModel(sourcePath(entry), copy, entry.optimized!.level);
      expect(await sha256File(copy)).toEqual({ sha256: entry.optimized!.sha256, bytes: entry.optimized!.bytes });
      expect(entry.optimized!.onnxruntime).toBe(await onnxruntimeVersion());
      expect(await describeModel(copy)).toEqual(await describeModel(sourcePath(entry)));
      // The copy is not the original file: the optimisations are in it (fewer or fused nodes).
      expect(entry.optimized!.sha256).not.toBe(entry.sha256);
      const feeds = makeInputs(entry as never, { seed: 11 });
      const expected = await runReference(sourcePath(entry), feeds);
      expect(compareOutputs(await runReference(copy, feeds), expected, { atol: 1e-5, rtol: 1e-4 })).toEqual([]);
    },
  );

  it.each(registry.map((e) => [e.id, e] as const))('%s: inputs and outputs describe what onnxruntime-node reads', async (_id, entry) => {
    const actual = await describeModel(sourcePath(entry));
    for (const side of ['inputs', 'outputs'] as const) {
      expect(entry[side].map((s) => s.name)).toEqual(actual[side].map((s) => s.name));
      entry[side].forEach((spec, i) => {
        const real = actual[side][i];
        expect(spec.type, spec.name).toBe(real.type);
        // Symbolic dims may be renamed for readability, but must stay symbolic; fixed dims must agree.
        expect(
          spec.shape.map((d) => typeof d),
          spec.name,
        ).toEqual(real.shape.map((d) => typeof d));
        expect(
          spec.shape.filter((d) => typeof d === 'number'),
          spec.name,
        ).toEqual(real.shape.filter((d) => typeof d === 'number'));
      });
    }
  });
});

describe('models:sync', () => {
  it('copies every model and asset, verifies them, and is idempotent', async () => {
    const out = join(temp, 'sync-ok');
    const first = await script('models-sync.ts', ['--out', out]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(new RegExp(`^models:sync: ${files.length} files in .* \\(${files.length} copied, 0 up to date\\)`));
    expect(readdirSync(out).sort()).toEqual([...files.map((f) => f.item.file), 'registry.json'].sort());
    for (const { item } of files) expect((await sha256File(join(out, item.file))).sha256).toBe(item.sha256);

    writeFileSync(join(out, 'dtypes.onnx'), 'stale');
    // A stale pre-optimised copy is written again from the original.
    writeFileSync(join(out, 'digits-1.extended.onnx'), 'stale');
    const second = await script('models-sync.ts', ['--out', out]);
    expect(second.stdout).toMatch(/\(2 copied, \d+ up to date\)/);
    const digits = registry.find((e) => e.id === 'digits')!;
    expect((await sha256File(join(out, 'digits-1.extended.onnx'))).sha256).toBe(digits.optimized!.sha256);
  });

  it('stops with one line when a pre-optimised copy does not come out as the registry says, or another onnxruntime wrote it', async () => {
    const entry = registry.find((e) => e.id === 'digits')!;
    const copy = entry.optimized!;
    const wrong = `${copy.sha256.slice(0, 63)}${copy.sha256.endsWith('0') ? '1' : '0'}`;
    const path = join(temp, 'tampered-copy.json');
    writeFileSync(path, registryText.replace(copy.sha256, wrong));
    const result = await script('models-sync.ts', ['--registry', path, '--out', join(temp, 'sync-bad-copy')]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `models:sync: digits@1 optimized: onnxruntime-node ${copy.onnxruntime} wrote sha256 ${copy.sha256} (${copy.bytes} bytes), the registry expects ${wrong} (${copy.bytes} bytes); run npm run models:optimize`,
    ]);
    const older = join(temp, 'older-copy.json');
    writeFileSync(older, registryText.replaceAll(`"onnxruntime": "${copy.onnxruntime}"`, '"onnxruntime": "1.29.0"'));
    const other = await script('models-sync.ts', ['--registry', older, '--out', join(temp, 'sync-older-copy')]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(
      /optimized: written by onnxruntime 1\.29\.0, but onnxruntime-node \d+\.\d+\.\d+ is installed; run npm run models:optimize/,
    );
  });

  it('stops with exit code 1 and one line naming the model, expected and actual hash', async () => {
    const entry = registry.find((e) => e.id === 'silero-vad-v5')!;
    const wrong = `${entry.sha256.slice(0, 63)}${entry.sha256.endsWith('0') ? '1' : '0'}`;
    const path = join(temp, 'tampered.json');
    writeFileSync(path, registryText.replace(entry.sha256, wrong));
    const result = await script('models-sync.ts', ['--registry', path, '--out', join(temp, 'sync-bad')]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('silero-vad-v5@1');
    expect(lines[0]).toContain(`expected sha256 ${wrong}`);
    expect(lines[0]).toContain(`actual ${entry.sha256}`);
  });

  it('rejects an invalid registry with its problems', async () => {
    const path = join(temp, 'invalid.json');
    writeFileSync(path, JSON.stringify([{ id: 'x' }]));
    const result = await script('models-sync.ts', ['--registry', path, '--out', join(temp, 'sync-invalid')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^models:sync: .*invalid\.json: invalid model registry: registry\[0\] \(x\)\.version/);
  });
});

describe('models:add', () => {
  it('registers a model with measured IO, refuses a duplicate and replaces it with --force', async () => {
    const path = join(temp, 'add-registry.json');
    writeFileSync(path, '[]\n');
    const added = await script('models-add.ts', [
      'models/generated/counter.onnx',
      '--id',
      'my-counter',
      '--license',
      'MIT',
      '--task',
      'test',
      '--registry',
      path,
    ]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const [entry] = parseRegistry(readFileSync(path, 'utf8'));
    const counter = registry.find((e) => e.id === 'counter')!;
    expect(entry).toEqual({
      id: 'my-counter',
      version: '1',
      file: 'counter.onnx',
      sha256: counter.sha256,
      bytes: counter.bytes,
      license: 'MIT',
      source: { repoPath: 'models/generated/counter.onnx' },
      task: 'test',
      description: '',
      inputs: counter.inputs,
      outputs: counter.outputs,
    });
    expect(JSON.parse(added.stdout)).toEqual(entry);

    const again = await script('models-add.ts', ['models/generated/counter.onnx', '--id', 'my-counter', '--registry', path]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/my-counter@1 is already registered; pass --force/);

    const forced = await script('models-add.ts', [
      'models/generated/counter.onnx',
      '--id',
      'my-counter',
      '--description',
      'again',
      '--force',
      '--registry',
      path,
    ]);
    expect(forced.code).toBe(0);
    expect(parseRegistry(readFileSync(path, 'utf8'))).toMatchObject([{ id: 'my-counter', description: 'again', license: 'MIT' }]);
  });

  it('records an npm package source with the package licence', async () => {
    const path = join(temp, 'add-package.json');
    writeFileSync(path, '[]\n');
    const result = await script('models-add.ts', [
      'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx',
      '--license',
      'MIT',
      '--registry',
      path,
    ]);
    expect(result.code).toBe(0);
    expect(parseRegistry(readFileSync(path, 'utf8'))[0]).toMatchObject({
      id: 'silero_vad_v5',
      source: { package: '@ricky0123/vad-web', path: 'dist/silero_vad_v5.onnx', license: 'ISC' },
    });
  });

  it('records a multi-file model: every data file its tensors name, plain file names, totalBytes; models:sync copies the set and ondevice/node loads it', async () => {
    // Inside the repository (a gitignored folder), so the source is a repoPath and nothing is copied to models/local/.
    const dir = join('test-results', `models-add-${process.pid}`);
    const set = writeTransformerModel({ dir, name: 'tf', bytes: 1e6, shards: 2, hidden: 64, locations: ['onnx::MatMul_3', 'w.bin'] });
    try {
      const path = join(temp, 'add-multi.json');
      writeFileSync(path, '[]\n');
      const added = await script('models-add.ts', [set.model, '--id', 'tf-add', '--license', 'MIT', '--registry', path]);
      expect(added.stderr).toBe('');
      const [entry] = parseRegistry(readFileSync(path, 'utf8'));
      expect(entry).toMatchObject({
        file: 'tf.onnx',
        bytes: set.modelBytes,
        totalBytes: set.totalBytes,
        source: { repoPath: `${dir}/tf.onnx` },
        externalData: [
          { location: 'onnx::MatMul_3', file: 'tf-add.onnx-MatMul_3', sha256: set.files[0].sha256, bytes: set.files[0].bytes },
          { location: 'w.bin', file: 'w.bin', sha256: set.files[1].sha256, bytes: set.files[1].bytes },
        ],
      });
      const out = join(temp, 'sync-multi');
      const synced = await script('models-sync.ts', ['--registry', path, '--out', out]);
      expect(synced.stdout).toMatch(/3 files in .* \(3 copied, 0 up to date\)/);
      const model = await loadModel('tf-add', { modelsDir: out, threads: 1 });
      expect(model.info.bytes).toBe(set.totalBytes);
      model.dispose();

      // A data file that is not beside the model stops models:add with its name.
      rmSync(set.files[1].path);
      const missing = await script('models-add.ts', [set.model, '--id', 'tf-missing', '--registry', path]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^models:add: tf\.onnx names external data file "w\.bin", which is not beside it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file that onnxruntime cannot load', async () => {
    const bogus = join(temp, 'bogus.onnx');
    cpSync('models/registry.json', bogus);
    const result = await script('models-add.ts', [bogus, '--registry', join(temp, 'unused.json')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^models:add: onnxruntime-node cannot load/);
  });
});
