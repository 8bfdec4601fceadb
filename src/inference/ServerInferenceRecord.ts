/**
 * One server-side inference, handed to `recordInference` (wired to the collector after the event schema
 * rewrite lands). Install and session ids are the caller's (`X-OnDevice-Install-Id`,
 * `X-OnDevice-Session-Id`) when it sends them, the server's own otherwise, so a dashboard can show device
 * and server side by side.
 */
export interface ServerInferenceRecord {
  type: 'inference';
  backend: 'server';
  timestamp: number;
  installId: string;
  sessionId: string;
  modelId: string;
  modelVersion: string;
  /** Milliseconds inside onnxruntime (queueing and HTTP excluded). */
  ms: number;
  inputDims: Record<string, number[]>;
  /** The request's `id`, when it had one. */
  requestId?: string;
}

export type RecordInference = (event: ServerInferenceRecord) => void;
