/** Limits shared by client (batching) and collector (rejection). Units are in the names. */
export const LIMITS = {
  maxEventsPerBatch: 500,
  maxBodyBytes: 256 * 1024,
  /** fetch keepalive shares 64 KiB across all in-flight keepalive requests of a page (Fetch spec §4.5). */
  maxKeepaliveBytes: 64 * 1024,
  /** The schema is at most 5 levels deep (batch → events → event → device → webgpu); anything deeper is hostile. */
  maxDepth: 6,
  maxIdLength: 64,
  maxModelIdLength: 128,
  maxModelVersionLength: 64,
  maxSiteKeyLength: 64,
  maxMessageLength: 1024,
  maxDeviceStringLength: 256,
  maxBrowserBrandLength: 64,
  maxBrowserVersionLength: 32,
  maxFallbackReasonLength: 256,
  maxLabelLength: 256,
  maxInputNameLength: 64,
  maxInputs: 16,
  maxRank: 8,
  maxDim: 2 ** 31 - 1,
  maxDurationMs: 60 * 60 * 1000,
  maxModelBytes: 2 ** 40,
  maxAbsScore: 1e9,
  /** A `sample` event (a consented model input) as JSON, UTF-8: it must fit a batch body with room to spare. */
  maxSampleBytes: 128 * 1024,
  /** Elements of all tensors of one `sample` event together. */
  maxSampleElements: 32 * 1024,
  /** 2020-01-01 and 2100-01-01: the static sanity range of `ts` wherever a batch is checked. */
  minTsMs: Date.UTC(2020, 0, 1),
  maxTsMs: Date.UTC(2100, 0, 1),
  /** The collector accepts client time within [receive − maxEventAgeMs, receive + maxClockSkewMs]. */
  maxEventAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxClockSkewMs: 5 * 60 * 1000,
} as const;
