import { writeFileSync } from 'node:fs';

/**
 * Write a rollout config (ONDEVICE_ROLLOUT_CONFIG) with stages 50 → 100 that asks for more evidence than a test
 * sends: a new candidate stays at its first stage (half the installs) until the test promotes it.
 */
export function writeHoldingRollout(file: string): void {
  writeFileSync(
    file,
    JSON.stringify({
      evaluationIntervalMs: 1000,
      default: {
        stages: [50, 100],
        minFeedback: 100_000,
        minInferences: 100_000,
        confidence: 0.95,
        accuracyMargin: 0.02,
        errorRateMargin: 0.01,
        latencyP95Tolerance: 0.2,
        rollbackMinFeedback: 100_000,
        rollbackMinInferences: 100_000,
        maxFeedbackPerInstall: 20,
      },
      models: {},
    }),
  );
}
