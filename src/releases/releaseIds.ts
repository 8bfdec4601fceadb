/** Model ids as in the registry (lower-case); they become URL path segments and SQL values, never file paths. */
export const MODEL_ID = /^[a-z0-9][a-z0-9._-]{0,127}$/;
/** Versions: strings ordered by publish time, not parsed; path-safe by construction. */
export const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Install ids as the telemetry schema allows them. */
export const INSTALL_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The URL a published version's bytes are served at. */
export function releaseBytesUrl(modelId: string, version: string): string {
  return `/v1/releases/${modelId}/${version}/model.onnx`;
}

/** The URL a published version's pre-optimised copy (`extended`, for the WASM backend) is served at. */
export function releaseOptimizedUrl(modelId: string, version: string): string {
  return `/v1/releases/${modelId}/${version}/model.extended.onnx`;
}

/** The URL a published version's features variant (federated fine-tuning) is served at. */
export function releaseFeaturesUrl(modelId: string, version: string): string {
  return `/v1/releases/${modelId}/${version}/model.features.onnx`;
}

/**
 * The URL a published version's external data file is served at: its location percent-encoded per path segment
 * (`onnx::MatMul_12` → `onnx%3A%3AMatMul_12`, `weights/a b.bin` → `weights/a%20b.bin`).
 */
export function releaseFileUrl(modelId: string, version: string, location: string): string {
  return `/v1/releases/${modelId}/${version}/files/${location.split('/').map(encodeURIComponent).join('/')}`;
}
