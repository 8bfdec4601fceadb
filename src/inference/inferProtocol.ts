// Types-only protocol between SessionPool (the server) and inferTasks (its sandbox children): one `infer` call
// per run. The child loads the model (kept warm for the next call), runs it, cuts a merged run back into each
// request's rows and encodes each request's answer, so the server only forwards bytes.
import type { Feeds } from '../core/protocol';
import type { ModelEntry } from '../registry/ModelEntry';
import type { V2ErrorCode } from './v2Error';

/** One client request's share of a run: its rows of the merged feeds, its id and the outputs it asked for. */
export interface ResponsePart {
  id: string | undefined;
  outputs: { name: string; binary: boolean }[];
  /** Rows along the first axis; only needed when several requests share a run (dynamic batching). */
  rows?: number;
}

export interface InferArgs {
  entry: ModelEntry;
  modelsDir: string;
  /** onnxruntime intra-op threads of the child's sessions. */
  threads: number;
  feeds: Feeds;
  parts: ResponsePart[];
  /** A part's encoded body may not be larger (RESPONSE_TOO_LARGE). */
  maxResponseBytes: number;
}

/** A request's answer, encoded, or the error it gets (the others in the same run are unaffected). */
export type EncodedPart =
  | { ok: true; body: Uint8Array; headers: Record<string, string> }
  | { ok: false; status: number; code: V2ErrorCode; message: string; details?: Record<string, unknown> };

export interface InferResult {
  /** Milliseconds inside onnxruntime's run. */
  ms: number;
  parts: EncodedPart[];
}
