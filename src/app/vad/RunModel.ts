import type { Feeds } from '../../index';

/**
 * Runs one inference of the model registered under `modelId`. The pipelines only describe tensors as
 * plain data, so the same code runs on our worker runtime in the app and on onnxruntime-node in tests.
 *
 * @example
 * const runModel: RunModel = (modelId, feeds) => models[modelId].run(feeds);
 */
export type RunModel = (modelId: string, feeds: Feeds) => Promise<Feeds>;
