// Sample rows as both sample stores read them (SqliteSampleStore, PostgresSampleStore): the columns
// aliased to these names; label, predicted and inputs as the JSON text they were stored as.

export interface SampleRow {
  seq: number;
  id: string;
  receivedMs: number;
  installId: string;
  modelId: string;
  modelVersion: string;
  predictionId: string;
  label: string;
  predicted: string | null;
  inputs: string;
}

/** The export's line for a row: the stored JSON of label, predicted and inputs goes in as it is. */
export function datasetLine(r: SampleRow): string {
  const head = JSON.stringify({
    id: r.id,
    receivedMs: r.receivedMs,
    installId: r.installId,
    modelId: r.modelId,
    modelVersion: r.modelVersion,
    predictionId: r.predictionId,
  });
  const predicted = r.predicted === null ? '' : `,"predicted":${r.predicted}`;
  return `${head.slice(0, -1)},"label":${r.label}${predicted},"inputs":${r.inputs}}`;
}
