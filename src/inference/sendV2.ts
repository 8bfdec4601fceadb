import type { ServerResponse } from 'node:http';
import { sendJson } from '../http/sendJson';

/** Headers of every /v2 answer, errors included. */
export const V2_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Inference-Header-Content-Length, Retry-After',
};

/** Write a response body with the headers every /v2 answer carries. */
export function sendV2(res: ServerResponse, status: number, body: Uint8Array | string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...V2_HEADERS, 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

export function sendV2Json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  sendJson(res, status, value, { ...V2_HEADERS, ...headers });
}
