import { describe, expect, it } from 'vitest';
import type { FieldSample } from '../../src/retrain/FieldSample';
import { decideGate } from '../../src/retrain/gate';
import { prepareDataset } from '../../src/retrain/prepareDataset';
import { parseRetrainConfig } from '../../src/retrain/retrainConfig';
import { nextVersion } from '../../src/retrain/runRetrainJob';

const acc = (correct: number, count: number) => ({ accuracy: correct / count, correct, count });

describe('the validation gate', () => {
  const gate = (base: [number, number], field: [number, number], fieldCount = 200) =>
    decideGate({
      base: { current: acc(base[0], 1000), candidate: acc(base[1], 1000) },
      field: { current: acc(field[0], fieldCount), candidate: acc(field[1], fieldCount) },
      minFieldSamples: 100,
      maxBaseDropPoints: 0.5,
      minFieldGainPoints: 2,
    });

  it('passes at exactly -0.5 points on the base set and +2 points on the field', () => {
    expect(gate([980, 975], [100, 104])).toMatchObject({ passed: true, baseDeltaPoints: -0.5, fieldDeltaPoints: 2 });
  });
  it('refuses 0.6 points worse on the base set, whatever the field gain', () => {
    const d = gate([980, 974], [100, 190]);
    expect(d.passed).toBe(false);
    expect(d.reason).toMatch(
      /^worse on the base evaluation set: field \+45\.00 points on 200 held-back samples \(need ≥ \+2\), base -0\.60 points on 1000/,
    );
  });
  it('refuses a field gain under 2 points', () => {
    expect(gate([980, 990], [100, 103]).reason).toMatch(/^not enough better on the field/);
  });
  it('refuses with "not enough field data" under 100 held-back samples', () => {
    expect(gate([980, 990], [50, 90], 99).reason).toMatch(/^not enough field data \(99 < 100 held back\)/);
  });
});

function sample(i: number, label: number, receivedMs = i, pixel = i): FieldSample {
  return {
    id: `s${i}`,
    receivedMs,
    installId: 'i',
    modelId: 'm',
    modelVersion: '1',
    predictionId: `p${i}`,
    label,
    inputs: { image: { type: 'float32', dims: [1, 2], data: [pixel, 0] } },
  };
}

describe('prepareDataset', () => {
  it('dedupes, holds back the most recent slice and caps each class at the median class count', () => {
    const samples = [
      ...Array.from({ length: 6 }, (_, i) => sample(i, 0)), // class 0: 6
      ...Array.from({ length: 3 }, (_, i) => sample(10 + i, 1)), // class 1: 3
      ...Array.from({ length: 2 }, (_, i) => sample(20 + i, 2)), // class 2: 2
      sample(5, 0), // the same id again
      { ...sample(99, 2), inputs: sample(21, 2).inputs }, // the same input and label as s21
      ...Array.from({ length: 4 }, (_, i) => sample(100 + i, 3, 1000 + i)), // the most recent: held back
    ];
    const d = prepareDataset(samples, { heldBackFraction: 0.25, maxHeldBack: 100 });
    expect(d.summary).toMatchObject({ read: 17, duplicates: 2, heldBack: 4, trainable: 11 });
    expect(d.heldBack.map((s) => s.id)).toEqual(['s100', 's101', 's102', 's103']);
    // Median class count 3: class 0 keeps its 3 most recent.
    expect(d.summary.trainPerClass).toEqual({ 0: 3, 1: 3, 2: 2 });
    expect(d.train.filter((s) => s.label === 0).map((s) => s.id)).toEqual(['s3', 's4', 's5']);
    expect(d.train.some((s) => d.heldBack.includes(s))).toBe(false);
  });

  it('keeps the order samples come in among those received at the same millisecond, whatever their ids', () => {
    // One ingest request: the page sent z, m, a in that order; the stores return them so.
    const samples = ['z', 'm', 'a', 'q'].map((id, i) => ({ ...sample(i, i % 2, 1000), id }));
    const d = prepareDataset(samples, { heldBackFraction: 0.5, maxHeldBack: 100 });
    expect(d.heldBack.map((s) => s.id)).toEqual(['a', 'q']);
    expect(d.train.map((s) => s.id)).toEqual(['z', 'm']);
    // Received later wins over stored later.
    const later = prepareDataset([{ ...sample(9, 0, 2000), id: 'early-in-list' }, ...samples], { heldBackFraction: 0.2, maxHeldBack: 100 });
    expect(later.heldBack.map((s) => s.id)).toEqual(['early-in-list']);
  });
});

describe('config/retrain.json', () => {
  it('names the first problem with its path', () => {
    expect(parseRetrainConfig({ models: { digits: { trainer: ['x'], evaluator: 'digits', gate: { minFieldGainPoints: 200 } } } })).toEqual({
      ok: false,
      error: 'models.digits.gate.minFieldGainPoints must be ≤ 100',
    });
    expect(parseRetrainConfig({ models: { digits: { trainer: [], evaluator: 'digits' } } })).toMatchObject({
      ok: false,
      error: 'models.digits.trainer needs a command',
    });
  });
  it('fills the documented defaults: 100 field samples, 0.5 and 2 points', () => {
    const c = parseRetrainConfig({ models: { digits: { trainer: ['x'], evaluator: 'digits' } } });
    expect(c.ok && c.config.models.digits).toMatchObject({ minFieldSamples: 100, gate: { maxBaseDropPoints: 0.5, minFieldGainPoints: 2 } });
  });
  it('the shipped config is valid', async () => {
    const { loadRetrainConfig } = await import('../../src/retrain/retrainConfig');
    expect(Object.keys((await loadRetrainConfig('config/retrain.json')).models)).toEqual(['digits']);
  });
});

describe('nextVersion', () => {
  it('counts up integer versions, else suffixes the job id', () => {
    expect(nextVersion(['1', '2', '5'], '2', 'abc')).toBe('6');
    expect(nextVersion(['2024-01'], '2024-01', 'abcdef123456')).toBe('2024-01-rabcdef12');
  });
});
