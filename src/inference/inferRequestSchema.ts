import * as v from 'valibot';

const Parameters = v.optional(v.record(v.string(), v.unknown()));
const Dim = v.pipe(v.number(), v.integer(), v.minValue(0));

/** `$request_input`: `data` is checked against `datatype` and `shape` later, with messages naming the input. */
export const RequestInput = v.object({
  name: v.pipe(v.string(), v.minLength(1)),
  shape: v.array(Dim),
  datatype: v.string(),
  parameters: Parameters,
  data: v.optional(v.unknown()),
});

export const RequestOutput = v.object({ name: v.pipe(v.string(), v.minLength(1)), parameters: Parameters });

/** The Open Inference Protocol `$inference_request` (KServe v2 REST). */
export const InferRequest = v.object({
  id: v.optional(v.string()),
  parameters: Parameters,
  inputs: v.pipe(v.array(RequestInput), v.minLength(1)),
  outputs: v.optional(v.array(RequestOutput)),
});

export type InferRequest = v.InferOutput<typeof InferRequest>;
export type RequestInput = v.InferOutput<typeof RequestInput>;
