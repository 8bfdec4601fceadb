import { describe, expect, it } from 'vitest';
import { OnDeviceError } from '../../src/core/OnDeviceError';
import { findModel } from '../../src/registry/findModel';
import { parseRegistry } from '../../src/registry/parseRegistry';
import { toModelSource } from '../../src/registry/toModelSource';

function entry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'demo',
    version: '1',
    file: 'demo.onnx',
    sha256: 'a'.repeat(64),
    bytes: 10,
    license: 'MIT',
    source: { generator: 'scripts/onnx/models/demo.ts' },
    task: 'test',
    description: 'demo',
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', 4] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['batch', 4] }],
    ...overrides,
  };
}

function problemsOf(json: unknown): string[] {
  try {
    parseRegistry(json);
  } catch (error) {
    expect(error).toBeInstanceOf(OnDeviceError);
    expect((error as OnDeviceError).code).toBe('INVALID_INPUT');
    return (error as OnDeviceError).details.problems as string[];
  }
  throw new Error('expected parseRegistry to throw');
}

describe('parseRegistry', () => {
  it('accepts a valid registry, as JSON text or value', () => {
    const registry = [
      entry(),
      entry({
        id: 'ocr',
        file: 'ocr.onnx',
        source: { package: '@scope/pkg', path: 'assets/ocr.onnx', license: 'MIT' },
        inputs: [{ name: 'x', type: 'float32', shape: ['batch', 3, 48, 'width'] }],
        sample: { dims: { x: [1, 3, 48, 320] }, fill: {}, range: { x: [-1, 1] } },
        assets: [
          {
            name: 'keys',
            file: 'keys.txt',
            sha256: 'b'.repeat(64),
            bytes: 3,
            license: 'Apache-2.0',
            source: { repoPath: 'models/local/keys.txt' },
            description: '',
          },
        ],
      }),
    ];
    expect(parseRegistry(registry)).toHaveLength(2);
    expect(parseRegistry(JSON.stringify(registry))[1].assets?.[0].name).toBe('keys');
  });

  it('rejects text that is not JSON and JSON that is not an array', () => {
    expect(() => parseRegistry('{nope')).toThrow(/not JSON/);
    expect(problemsOf({ models: [] })).toEqual(['model registry: expected an array of model entries']);
  });

  it('names the entry and field of every problem', () => {
    const problems = problemsOf([entry({ id: 'Bad Id', sha256: 'xyz', bytes: -1, file: '../evil.onnx' })]);
    expect(problems).toEqual([
      expect.stringMatching(/^registry\[0\] \(Bad Id\)\.id: expected a lower-case id/),
      expect.stringMatching(/\.file: expected a relative file path .*, got "\.\.\/evil\.onnx"/),
      expect.stringMatching(/\.sha256: expected 64 lower-case hex digits, got "xyz"/),
      expect.stringMatching(/\.bytes: expected a positive integer, got -1/),
    ]);
  });

  it('lists the element types when a type is unknown', () => {
    const [problem] = problemsOf([entry({ inputs: [{ name: 'x', type: 'float', shape: [1] }] })]);
    expect(problem).toMatch(/inputs\[0\]\.type: "float" is not an onnxruntime element type \(float32, float16,/);
  });

  it('rejects malformed shapes, duplicate tensor names and unknown fields', () => {
    const problems = problemsOf([
      entry({
        inputs: [
          { name: 'x', type: 'float32', shape: [1.5] },
          { name: 'x', type: 'int64', shape: [] },
        ],
        samples: {},
      }),
    ]);
    // Field by field in schema order, then checks across fields, then unknown fields.
    expect(problems).toEqual([
      expect.stringMatching(/inputs\[0\]\.shape: expected an array of fixed dims/),
      expect.stringMatching(/inputs: duplicate name "x"/),
      expect.stringMatching(/^registry\[0\] \(demo\): unknown field "samples" \(allowed: id, version, /),
    ]);
  });

  it('rejects bad sources', () => {
    for (const source of [{ generator: 'elsewhere/x.ts' }, { package: 'p', path: 'x.onnx' }, { repoPath: '../x.onnx' }, 'x.onnx']) {
      expect(problemsOf([entry({ source })])[0]).toMatch(/\.source: expected \{package, path, license\}/);
    }
  });

  it('checks sample hints against the inputs', () => {
    const problems = problemsOf([entry({ sample: { dims: { x: [1, 5], nope: [1] }, fill: { x: Number.NaN }, range: { x: [1, 0] } } })]);
    expect(problems).toEqual([
      'registry[0] (demo).sample.fill.x: expected a finite number',
      'registry[0] (demo).sample.range.x: expected [min, max] with min < max',
      'registry[0] (demo).sample.dims.x: [1,5] does not fit shape ["batch",4]',
      'registry[0] (demo).sample.dims.nope: no input is named "nope"',
    ]);
  });

  it('wants plain file names in the repository registry, allows folders in a served one', () => {
    const nested = [entry({ file: 'v2/demo.onnx' })];
    expect(problemsOf(nested)).toEqual([
      'registry[0] (demo).file: expected a plain file name (models:sync puts files side by side), got "v2/demo.onnx"',
    ]);
    expect(parseRegistry(nested, { plainFileNames: false })[0].file).toBe('v2/demo.onnx');
    for (const file of ['../demo.onnx', 'v2/../demo.onnx', '/demo.onnx', 'v2//demo.onnx', 'https://x/demo.onnx', 'demo.onnx?v=2']) {
      expect(problemsOf([entry({ file })]), file).toEqual([expect.stringMatching(/\.file: expected a relative file path/)]);
    }
  });

  it('rejects duplicate id@version and one file name for different bytes', () => {
    expect(problemsOf([entry(), entry()])).toEqual(['registry: duplicate id@version demo@1']);
    expect(problemsOf([entry(), entry({ id: 'other', sha256: 'c'.repeat(64) })])).toEqual([
      'registry: file "demo.onnx" is listed twice with different sha256',
    ]);
    expect(parseRegistry([entry(), entry({ version: '2' })])).toHaveLength(2);
  });

  it('checks a pre-optimised copy: its own file and sha256, a level that is not machine-specific, the onnxruntime version', () => {
    const optimized = { file: 'demo.extended.onnx', sha256: 'b'.repeat(64), bytes: 9, level: 'extended', onnxruntime: '1.30.0' };
    expect(parseRegistry([entry({ optimized })])[0].optimized).toEqual(optimized);
    expect(problemsOf([entry({ optimized: { ...optimized, level: 'all', onnxruntime: 'latest' } })])).toEqual([
      'registry[0] (demo).optimized.level: expected "basic" or "extended", got "all"',
      'registry[0] (demo).optimized.onnxruntime: expected an onnxruntime version like "1.30.0"',
    ]);
    expect(problemsOf([entry({ optimized: { ...optimized, file: 'demo.onnx' } })])).toEqual([
      'registry: file "demo.onnx" is listed twice with different sha256',
    ]);
    expect(problemsOf([entry({ optimized: { ...optimized, file: 'v2/demo.extended.onnx' } })])).toEqual([
      'registry[0] (demo).optimized.file: expected a plain file name (models:sync puts files side by side), got "v2/demo.extended.onnx"',
    ]);
    expect(problemsOf([entry({ optimized: { file: 'demo.extended.onnx' } })])[0]).toMatch(
      /^registry\[0\] \(demo\)\.optimized\.sha256: is required/,
    );
  });

  it('lists external data files: locations as the model names them, plain files, and a totalBytes that adds up', () => {
    const externalData = [
      { location: 'onnx::MatMul_12', file: 'demo-matmul-12.bin', sha256: 'c'.repeat(64), bytes: 100 },
      { location: 'weights/b.bin', file: 'demo-b.bin', sha256: 'd'.repeat(64), bytes: 50 },
    ];
    expect(parseRegistry([entry({ externalData, totalBytes: 160 })])[0].externalData).toHaveLength(2);
    expect(problemsOf([entry({ externalData })])).toEqual([
      'registry[0] (demo).totalBytes: is required with externalData (160: the ONNX file and its data files)',
    ]);
    expect(problemsOf([entry({ externalData, totalBytes: 150 })])).toEqual([
      'registry[0] (demo).totalBytes: is 150, but the ONNX file and its data files add up to 160',
    ]);
    expect(problemsOf([entry({ totalBytes: 11 })])).toEqual([
      'registry[0] (demo).totalBytes: is 11, but the ONNX file and its data files add up to 10',
    ]);
    const problems = problemsOf([
      entry({
        externalData: [
          { location: '../up.bin', file: 'a.bin', sha256: 'c'.repeat(64), bytes: 1 },
          { location: '/abs.bin', file: 'b.bin', sha256: 'c'.repeat(64), bytes: 1 },
          { location: 'a\\b.bin', file: 'c.bin', sha256: 'c'.repeat(64), bytes: 1 },
          { location: 'w.bin', file: 'd/e.bin', sha256: 'c'.repeat(64), bytes: 1 },
          { location: './w.bin', file: 'f.bin', sha256: 'c'.repeat(64), bytes: 1 },
          { location: 'x.bin', file: 'f.bin', sha256: 'c'.repeat(64), bytes: 1 },
        ],
        totalBytes: 16,
      }),
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/^registry\[0\] \(demo\)\.externalData\[0\]\.location: .*contains a "\.\." segment/),
      expect.stringMatching(/externalData\[1\]\.location: .*is absolute/),
      expect.stringMatching(/externalData\[2\]\.location: .*contains "\\"/),
      'registry[0] (demo).externalData: location "w.bin" is listed twice',
      'registry[0] (demo).externalData: file "f.bin" is listed twice',
    ]);
    // Served registries may keep files in folders; the repository's puts them side by side.
    expect(
      problemsOf([entry({ externalData: [{ location: 'w.bin', file: 'd/e.bin', sha256: 'c'.repeat(64), bytes: 1 }], totalBytes: 11 })]),
    ).toEqual(['registry[0] (demo).externalData[0].file: expected a plain file name (models:sync puts files side by side), got "d/e.bin"']);
  });

  it('a data file name shared by two models must be the same bytes', () => {
    const data = (sha: string) => ({
      externalData: [{ location: 'w.bin', file: 'shared.bin', sha256: sha.repeat(64), bytes: 5 }],
      totalBytes: 15,
    });
    expect(parseRegistry([entry(data('c')), entry({ version: '2', ...data('c') })])).toHaveLength(2);
    expect(problemsOf([entry(data('c')), entry({ version: '2', ...data('d') })])).toEqual([
      'registry: file "shared.bin" is listed twice with different sha256',
    ]);
  });

  it('keeps the message short when there are many problems', () => {
    expect(() => parseRegistry([{}, {}])).toThrow(/^invalid model registry: registry\[0\]\.id: .*; and \d+ more$/);
  });
});

describe('findModel', () => {
  const registry = parseRegistry([
    entry({ version: '2', file: 'demo-2.onnx' }),
    entry({ version: '10', file: 'demo-10.onnx' }),
    entry({ version: '9', file: 'demo-9.onnx' }),
    entry({ id: 'other', file: 'other.onnx' }),
  ]);

  it('finds the newest version by id, numerically', () => {
    expect(findModel(registry, 'demo')?.version).toBe('10');
  });

  it('finds an exact version with id@version', () => {
    expect(findModel(registry, 'demo@9')?.file).toBe('demo-9.onnx');
    expect(findModel(registry, 'demo@3')).toBeUndefined();
  });

  it('finds by URL or file name', () => {
    expect(findModel(registry, 'https://cdn.example/models/demo-2.onnx?v=1#x')?.version).toBe('2');
    expect(findModel(registry, '/models/%6Fther.onnx')?.id).toBe('other');
    expect(findModel(registry, 'demo-9.onnx')?.version).toBe('9');
    expect(findModel(registry, 'https://user@cdn.example/models/demo-10.onnx')?.version).toBe('10');
  });

  it('returns undefined when nothing matches', () => {
    expect(findModel(registry, 'missing')).toBeUndefined();
    expect(findModel(registry, '/models/missing.onnx')).toBeUndefined();
  });
});

describe('toModelSource', () => {
  it('carries every external data file with its URL beside the model, and the total', () => {
    const externalData = [{ location: 'onnx::MatMul_12', file: 'demo-matmul.bin', sha256: 'c'.repeat(64), bytes: 100 }];
    const [model] = parseRegistry([entry({ externalData, totalBytes: 110 })]);
    const source = toModelSource(model, 'https://app.example/models/registry.json');
    expect(source.externalData).toEqual([
      { location: 'onnx::MatMul_12', url: 'https://app.example/models/demo-matmul.bin', sha256: 'c'.repeat(64), bytes: 100 },
    ]);
    expect(source.totalBytes).toBe(110);
  });

  it('resolves the file against the models folder and carries integrity and sample data', () => {
    const [model] = parseRegistry([entry({ sample: { dims: { x: [2, 4] }, range: { x: [0, 1] } } })]);
    expect(toModelSource(model, 'https://app.example/models/')).toEqual({
      url: 'https://app.example/models/demo.onnx',
      id: 'demo',
      version: '1',
      sha256: 'a'.repeat(64),
      bytes: 10,
      inputs: model.inputs,
      outputs: model.outputs,
      sample: { dims: { x: [2, 4] }, fill: undefined },
    });
  });

  it('carries the pre-optimised copy, resolved against the same folder', () => {
    const optimized = { file: 'demo.extended.onnx', sha256: 'b'.repeat(64), bytes: 9, level: 'extended' as const, onnxruntime: '1.30.0' };
    const [model] = parseRegistry([entry({ optimized })]);
    expect(toModelSource(model, 'https://app.example/models/').optimized).toEqual({
      url: 'https://app.example/models/demo.extended.onnx',
      sha256: 'b'.repeat(64),
      bytes: 9,
      onnxruntime: '1.30.0',
    });
  });
});
