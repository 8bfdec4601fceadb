// The ONNX external-data reader (src/core/onnx): where a model's tensors keep their bytes, which files it names,
// and the rules a location and a byte range must follow — checked on models written by the repository's encoder
// and on hand-built protobuf where the encoder has no words (sparse initializers, functions).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OnDeviceError } from '../../src/core/OnDeviceError';
import { dataFileUrl, normalizeLocation, problemWithLocation } from '../../src/core/onnx/dataLocation';
import { assertTensorsFitFiles, externalDataFiles } from '../../src/core/onnx/externalDataFiles';
import { readModelTensors, type ExternalDataReference } from '../../src/core/onnx/readExternalData';
import { encodeModel, type ExternalDataSpec, type ModelSpec } from '../../src/node/onnx/encodeModel';
import { ProtobufWriter } from '../../src/node/onnx/ProtobufWriter';
import { writeTransformerModel } from '../../scripts/onnx/transformer/writeTransformerModel';
import { externalizeWeights, SELF_LOCATION } from '../../src/core/onnx/externalizeWeights';
import { writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const temp = mkdtempSync(join(tmpdir(), 'ondevice-external-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const ext = (location: string, offset: number, length: number): ExternalDataSpec => ({ location, offset, length });

function modelWith(spec: Partial<ModelSpec['graph']>): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsets: [{ domain: '', version: 17 }],
    producerName: 'test',
    producerVersion: '1',
    graph: {
      name: 'g',
      nodes: [],
      inputs: [{ name: 'x', type: 'float32', shape: [4] }],
      outputs: [{ name: 'y', type: 'float32', shape: [4] }],
      ...spec,
    },
  });
}

function thrown(fn: () => unknown): OnDeviceError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OnDeviceError);
    return error as OnDeviceError;
  }
  throw new Error('expected a throw');
}

describe('problemWithLocation', () => {
  it.each([['model.onnx_data'], ['onnx::MatMul_12'], ['weights/a b#1.bin'], ['./w.bin'], ['données.bin'], ['a'.repeat(255)]])(
    'accepts %s',
    (location) => expect(problemWithLocation(location)).toBeUndefined(),
  );

  it.each([
    ['', 'is empty'],
    ['/etc/passwd', 'absolute'],
    ['../up.bin', '".."'],
    ['a/../../b', '".."'],
    ['a\\b.bin', '"\\"'],
    ['a\0b', 'NUL'],
    ['é'.repeat(128), '255 bytes'],
  ])('refuses %j (%s)', (location, reason) => expect(problemWithLocation(location)).toContain(reason));

  it('percent-encodes each segment relative to the model URL, so names with ":" stay relative', () => {
    expect(dataFileUrl('onnx::MatMul_12', 'https://cdn.example/m/model.onnx')).toBe('https://cdn.example/m/onnx%3A%3AMatMul_12');
    expect(dataFileUrl('./w/a b#1.bin', 'https://cdn.example/m/model.onnx?v=2')).toBe('https://cdn.example/m/w/a%20b%231.bin');
    expect(normalizeLocation('./w.bin')).toBe('w.bin');
  });
});

describe('readModelTensors', () => {
  it('finds every external tensor of a generated sharded model, with offsets that tile each file', () => {
    const set = writeTransformerModel({ dir: join(temp, 'tf'), bytes: 3e6, shards: 3, hidden: 64 });
    const { external, inlineBytesByType } = readModelTensors(readFileSync(set.model));
    const files = externalDataFiles(external);
    expect(files.map((f) => f.location)).toEqual(set.files.map((f) => f.location));
    expect(files.map((f) => f.extentBytes)).toEqual(set.files.map((f) => f.bytes));
    for (const ref of external) {
      expect(ref.dataType).toBe(1);
      expect(ref.length).toBe(ref.expectedBytes);
    }
    // LayerNormalization scales and biases stay inline.
    expect(inlineBytesByType.get(1)).toBeGreaterThan(0);
  });

  it('finds external tensors in Constant attributes and in subgraphs (If branches), named <node>/<attribute> when unnamed', () => {
    const constant = { name: '', type: 'float32' as const, dims: [4], external: ext('c.bin', 0, 16) };
    const branch = (location: string) => ({
      name: 'branch',
      nodes: [{ opType: 'Identity', inputs: ['w'], outputs: ['out'] }],
      inputs: [],
      outputs: [{ name: 'out', type: 'float32' as const, shape: [4] }],
      initializers: [{ name: 'w', type: 'float32' as const, dims: [4], external: ext(location, 0, 16) }],
    });
    const bytes = modelWith({
      nodes: [
        { opType: 'Constant', name: 'k', inputs: [], outputs: ['k_out'], attributes: { value: { tensor: constant } } },
        {
          opType: 'If',
          inputs: ['cond'],
          outputs: ['y'],
          attributes: { then_branch: { graph: branch('then.bin') }, else_branch: { graph: branch('else.bin') } },
        },
      ],
    });
    const { external } = readModelTensors(bytes);
    expect(external.map((r) => [r.tensor, r.location, r.offset, r.length])).toEqual([
      ['k/value', 'c.bin', 0, 16],
      ['w', 'then.bin', 0, 16],
      ['w', 'else.bin', 0, 16],
    ]);
  });

  it('finds external tensors of sparse initializers and of functions', () => {
    const tensor = (name: string, location: string) =>
      new ProtobufWriter()
        .packedVarints(1, [2])
        .varint(2, 1)
        .string(8, name)
        .message(13, (e) => e.string(1, 'location').string(2, location))
        .message(13, (e) => e.string(1, 'length').string(2, '8'))
        .varint(14, 1);
    const graph = new ProtobufWriter().message(15, (sparse) => {
      sparse.bytes(1, tensor('sparse_values', 'sparse.bin').finish());
    });
    const node = new ProtobufWriter().string(3, 'fn_node').message(5, (a) => a.string(1, 'value').bytes(5, tensor('', 'fn.bin').finish()));
    const model = new ProtobufWriter()
      .varint(1, 8)
      .bytes(7, graph.finish())
      .message(25, (fn) => fn.bytes(7, node.finish()))
      .finish();
    expect(readModelTensors(model).external.map((r) => [r.tensor, r.location])).toEqual([
      ['sparse_values', 'sparse.bin'],
      ['fn_node/value', 'fn.bin'],
    ]);
  });

  it('bytes that are not ONNX, or an offset that is not a byte count, fail with MODEL_LOAD_FAILED naming the file', () => {
    expect(thrown(() => readModelTensors(new Uint8Array([0x08, 0x08, 0x3a, 0x7f]), 'm.onnx'))).toMatchObject({
      code: 'MODEL_LOAD_FAILED',
      message: expect.stringContaining('m.onnx is not a well-formed ONNX model'),
    });
    const bad = new ProtobufWriter()
      .varint(1, 8)
      .message(7, (g) =>
        g.message(5, (t) =>
          t
            .varint(2, 1)
            .string(8, 'w')
            .message(13, (e) => e.string(1, 'location').string(2, 'w.bin'))
            .message(13, (e) => e.string(1, 'offset').string(2, '-4'))
            .varint(14, 1),
        ),
      )
      .finish();
    expect(thrown(() => readModelTensors(bad)).message).toContain('offset "-4" is not a byte count');
  });
});

describe('externalDataFiles and assertTensorsFitFiles', () => {
  const ref = (tensor: string, location: string, offset: number, length: number): ExternalDataReference => ({
    tensor,
    location,
    offset,
    length,
    dataType: 1,
    expectedBytes: length,
  });

  it('groups by location (./a and a are one file) with the furthest extent', () => {
    expect(externalDataFiles([ref('a', 'w.bin', 0, 16), ref('b', './w.bin', 16, 32), ref('c', 'v.bin', 8, 8)])).toEqual([
      { location: 'w.bin', extentBytes: 48, tensors: 2 },
      { location: 'v.bin', extentBytes: 16, tensors: 1 },
    ]);
  });

  it.each([
    ['/abs.bin', 'absolute'],
    ['../up.bin', '".."'],
    ['a\\b.bin', '"\\"'],
  ])('a location like %s is INVALID_INPUT naming the tensor and file', (location, reason) => {
    const error = thrown(() => externalDataFiles([ref('w', location, 0, 4)], 'm.onnx'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain(`tensor "w" names external data file "${location}"`);
    expect(error.message).toContain(reason);
  });

  it('two tensors whose ranges overlap in one file are INVALID_INPUT naming both', () => {
    const error = thrown(() => externalDataFiles([ref('a', 'w.bin', 0, 16), ref('b', 'w.bin', 8, 16)], 'm.onnx'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('tensors "a" and "b" overlap in external data file "w.bin"');
    // Adjacent ranges are fine.
    expect(() => externalDataFiles([ref('a', 'w.bin', 0, 16), ref('b', 'w.bin', 16, 16)])).not.toThrow();
  });

  it('a range past the end of its file, or a length the dims do not need, is MODEL_LOAD_FAILED naming the file', () => {
    const sizes = new Map([['w.bin', 40]]);
    expect(() => assertTensorsFitFiles([ref('a', 'w.bin', 0, 16), ref('b', 'w.bin', 16, 24)], sizes)).not.toThrow();
    const past = thrown(() => assertTensorsFitFiles([ref('b', 'w.bin', 32, 16)], sizes, 'm.onnx'));
    expect(past.code).toBe('MODEL_LOAD_FAILED');
    expect(past.message).toContain('tensor "b" reaches byte 48 of external data file "w.bin", which holds 40 bytes');
    const wrongLength = thrown(() => assertTensorsFitFiles([{ ...ref('c', 'w.bin', 0, 12), expectedBytes: 16 }], sizes));
    expect(wrongLength.message).toContain('says length 12, its dims and type need 16 bytes');
  });
});

describe('externalizeWeights', () => {
  it("turns a single-file model's large initializers into references to its own bytes: same outputs, a graph of a few KB", async () => {
    const set = writeTransformerModel({ dir: join(temp, 'single'), bytes: 2e6, shards: 0, hidden: 64 });
    const original = readFileSync(set.model);
    const slim = externalizeWeights(original)!;
    expect(slim.byteLength).toBeLessThan(original.byteLength / 20);
    const { external, inlineBytesByType } = readModelTensors(slim);
    expect(new Set(external.map((r) => r.location))).toEqual(new Set([SELF_LOCATION]));
    // Every reference points at the tensor's bytes where they sit in the original.
    expect(external.reduce((sum, r) => sum + r.length!, 0) + (inlineBytesByType.get(1) ?? 0)).toBeGreaterThan(original.byteLength * 0.99);
    // onnxruntime-node reads the data file beside the model: the original bytes, under SELF_LOCATION.
    writeFileSync(join(temp, 'single', 'slim.onnx'), slim);
    writeFileSync(join(temp, 'single', SELF_LOCATION), original);
    const input = {
      input: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i)),
        [1, 4, 64],
      ),
    };
    const [a, b] = await Promise.all([
      ort.InferenceSession.create(set.model),
      ort.InferenceSession.create(join(temp, 'single', 'slim.onnx')),
    ]);
    expect(Array.from((await b.run(input)).logits.data as Float32Array)).toEqual(
      Array.from((await a.run(input)).logits.data as Float32Array),
    );
    await Promise.all([a.release(), b.release()]);
  });

  it('leaves a model with no large inline weight alone', () => {
    const set = writeTransformerModel({ dir: join(temp, 'sharded'), bytes: 1e6, shards: 2, hidden: 64 });
    expect(externalizeWeights(readFileSync(set.model))).toBeUndefined();
  });
});
