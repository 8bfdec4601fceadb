// Types-only: the read side of consented training samples (`sample` events). The EventWriter stores
// them (the event row and its inputs in one transaction, deduped on the event id); a SampleStore reads
// them back as the dataset export, `GET /v1/datasets/{model}` (serveDataset.ts).

/** Which samples `GET /v1/datasets/{model}` returns. */
export interface DatasetQuery {
  modelId: string;
  /** Only samples received at or after this time (collector clock, ms since epoch). */
  sinceMs: number;
  /** Only this model version; all versions when absent. */
  modelVersion?: string;
}

/** Where a page of the dataset ended: the next page starts after it (oldest received first). */
export interface DatasetCursor {
  receivedMs: number;
  seq: number;
}

export interface DatasetPage {
  /**
   * One JSON object per sample, in the export's line format: `{ id, receivedMs, installId, modelId,
   * modelVersion, predictionId, label, predicted?, inputs }`.
   */
  lines: string[];
  /** Null when this was the last page. */
  next: DatasetCursor | null;
}

export interface SampleStore {
  /** At most `pageSize` samples after `after` (from the start when null), oldest received first. */
  readDatasetPage(query: DatasetQuery, after: DatasetCursor | null, pageSize: number): Promise<DatasetPage>;
  /** Samples stored for a model (one version, or all), received at or after `sinceMs` (default: all). */
  countSamples(modelId: string, modelVersion?: string, sinceMs?: number): Promise<number>;
}
