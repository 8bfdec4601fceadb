// config/retrain.json's `mode` and `federated` block, validated like the rest of the file.
import { describe, expect, it } from 'vitest';
import { parseRetrainConfig } from '../../src/retrain/retrainConfig';

const digits = (model: Record<string, unknown>) => parseRetrainConfig({ models: { digits: { evaluator: 'digits', ...model } } });

describe('retrain config: mode and federated', () => {
  it('defaults: mode samples; a federated block with every default filled in', () => {
    const samples = digits({ trainer: ['x'] });
    expect(samples.ok && samples.config.models.digits.mode).toBe('samples');
    const federated = digits({ mode: 'federated' });
    expect(federated.ok && federated.config.models.digits).toMatchObject({
      mode: 'federated',
      federated: {
        rounds: 10,
        targetClients: 20,
        minClients: 10,
        minLocalExamples: 10,
        maxExamplesPerClient: 100,
        clipNorm: 3,
        trimFraction: 0.2,
        epochs: 5,
        learningRate: 0.01,
        batchSize: 10,
        heldBackFraction: 0.2,
        delta: 1e-5,
      },
    });
  });

  it('a trainer is required only in mode samples', () => {
    expect(digits({})).toEqual({ ok: false, error: 'models.digits needs a trainer (mode "samples")' });
    expect(digits({ mode: 'federated' }).ok).toBe(true);
  });

  it('says what is wrong, with the path', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ mode: 'both' }, 'models.digits.mode must be "samples" or "federated"'],
      [{ mode: 'federated', federated: { minLocalExamples: 5 } }, 'models.digits.federated.minLocalExamples must be within [10, 1000000]'],
      [{ mode: 'federated', federated: { trimFraction: 0.5 } }, 'models.digits.federated.trimFraction must be ≤ 0.45'],
      [{ mode: 'federated', federated: { clipNorm: 0 } }, 'models.digits.federated.clipNorm must be > 0'],
      [{ mode: 'federated', federated: { learningRate: -1 } }, 'models.digits.federated.learningRate must be > 0'],
      [
        { mode: 'federated', federated: { minClients: 30, targetClients: 20 } },
        'models.digits.federated minClients must be ≤ targetClients',
      ],
      [{ mode: 'federated', federated: { delta: 0.5 } }, 'models.digits.federated.delta must be < 0.01'],
      [{ mode: 'federated', federated: { rounds: 3, extra: 1 } }, 'models.digits.federated.extra'],
      [{ mode: 'federated', federated: { baseTraining: { set: 'digits' } } }, 'models.digits.federated.baseTraining.examplesPerRound'],
      [
        { mode: 'federated', triggers: { newLabelledSamples: 100 } },
        'models.digits triggers.newLabelledSamples counts uploaded samples, and mode "federated" uploads none: use accuracyAlert or intervalMs',
      ],
    ];
    for (const [model, error] of cases) {
      const result = digits(model);
      expect(result.ok, JSON.stringify(model)).toBe(false);
      if (!result.ok) expect(result.error).toContain(error);
    }
  });
});
