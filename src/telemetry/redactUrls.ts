/**
 * Strip query strings and fragments from every URL in `text`: error messages name model and registry
 * URLs, and a signed URL's query (`?X-Amz-Signature=…`) must never leave the device.
 *
 * @example
 * redactUrls('HTTP 403 for https://cdn.example/m.onnx?sig=abc#x') // 'HTTP 403 for https://cdn.example/m.onnx'
 */
export function redactUrls(text: string): string {
  return text.replace(/\b((?:https?|wss?|blob|file):\/\/?[^\s?#"'<>`]*)[?#][^\s"'<>`)]*/gi, '$1');
}
