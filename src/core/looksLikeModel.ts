/**
 * Cheap content check before bytes are trusted or stored: an ONNX file is a protobuf ModelProto whose
 * first field is almost always `ir_version` (tag 0x08). Single-page-app hosts answer unknown paths with
 * their index.html and a 200, which would otherwise poison a cache.
 */
export function looksLikeModel(head: Uint8Array, contentType: string | null): { ok: true } | { ok: false; reason: string } {
  if (contentType && /text\/html|application\/xhtml/i.test(contentType)) {
    return { ok: false, reason: `the server answered with ${contentType}, not a model (an HTML fallback page?)` };
  }
  if (head.length === 0) return { ok: false, reason: 'the response was empty' };
  let i = 0;
  while (i < head.length && i < 64 && /\s/.test(String.fromCharCode(head[i]))) i++;
  const first = head[i];
  if (first === 0x3c /* < */ || first === 0x7b /* { */) {
    return { ok: false, reason: 'the response is text (HTML/JSON), not a model' };
  }
  // ONNX ModelProto fields are numbered 1..20; a valid first tag is a small field number with wire type 0 or 2.
  const field = head[0] >> 3;
  const wire = head[0] & 7;
  if (field < 1 || field > 20 || (wire !== 0 && wire !== 2)) {
    return { ok: false, reason: `the bytes do not start like an ONNX model (first byte 0x${head[0].toString(16)})` };
  }
  return { ok: true };
}
