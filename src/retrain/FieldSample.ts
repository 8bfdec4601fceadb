import * as v from 'valibot';

const TensorJson = v.object({
  type: v.literal('float32'),
  dims: v.array(v.pipe(v.number(), v.integer(), v.minValue(0))),
  data: v.array(v.number()),
});

/** One line of the dataset export (`GET /v1/datasets/{model}`, docs/telemetry-and-collector.md): a labelled field sample. */
export const FieldSampleSchema = v.object({
  id: v.string(),
  receivedMs: v.number(),
  installId: v.string(),
  modelId: v.string(),
  modelVersion: v.string(),
  predictionId: v.string(),
  label: v.union([v.number(), v.string()]),
  predicted: v.optional(v.union([v.number(), v.string()])),
  inputs: v.record(v.string(), TensorJson),
});
export type FieldSample = v.InferOutput<typeof FieldSampleSchema>;

/** A labelled example an evaluator scores: the inputs a model is fed and the expected class. */
export interface LabelledExample {
  inputs: FieldSample['inputs'];
  label: number | string;
}

/**
 * Parse dataset-export JSONL. A line that is not a sample is an error naming the line (the export is
 * ours; a broken line means a broken export, not data to skip silently).
 */
export function parseFieldSamples(text: string, source = 'dataset'): FieldSample[] {
  const out: FieldSample[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      throw new Error(`${source} line ${i + 1} is not JSON: ${(e as Error).message}`);
    }
    const result = v.safeParse(FieldSampleSchema, json);
    if (!result.success) throw new Error(`${source} line ${i + 1} is not a field sample: ${result.issues[0].message}`);
    out.push(result.output);
  }
  return out;
}
