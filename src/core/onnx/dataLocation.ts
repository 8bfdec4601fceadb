/** The longest external-data location accepted, in UTF-8 bytes (a file name on most file systems). */
export const MAX_LOCATION_BYTES = 255;

/**
 * Why `location` (an external-data file name as an ONNX model writes it in `TensorProto.external_data`) is
 * not acceptable, or undefined when it is. Real exports use names like `model.onnx_data` or
 * `onnx::MatMul_12`, so any character is allowed except NUL and `\`; the name must stay inside the model's
 * folder: no leading `/`, no `..` segment, at most 255 bytes.
 *
 * @example
 * problemWithLocation('../secrets') // 'contains a ".." segment'
 */
export function problemWithLocation(location: unknown): string | undefined {
  if (typeof location !== 'string' || location.length === 0) return 'is empty';
  if (location.includes('\0')) return 'contains a NUL character';
  if (location.includes('\\')) return 'contains "\\"';
  if (location.startsWith('/')) return 'is absolute (starts with "/")';
  if (location.split('/').includes('..')) return 'contains a ".." segment';
  if (new TextEncoder().encode(location).byteLength > MAX_LOCATION_BYTES) return `is longer than ${MAX_LOCATION_BYTES} bytes`;
  return undefined;
}

/**
 * The location onnxruntime looks a mounted file up by: it drops one leading `./` (so `./w.bin` and `w.bin`
 * name the same file).
 */
export function normalizeLocation(location: string): string {
  return location.startsWith('./') ? location.slice(2) : location;
}

/**
 * The URL of a data file beside the model: the location percent-encoded per path segment, so `onnx::MatMul_12`
 * stays a relative path (not a URL scheme) and `a b/c#1.bin` keeps its space and `#`.
 *
 * @example
 * dataFileUrl('onnx::MatMul_12', 'https://cdn.example/m/model.onnx') // 'https://cdn.example/m/onnx%3A%3AMatMul_12'
 */
export function dataFileUrl(location: string, modelUrl: string): string {
  const path = normalizeLocation(location).split('/').map(encodeURIComponent).join('/');
  return new URL(path, modelUrl).href;
}
