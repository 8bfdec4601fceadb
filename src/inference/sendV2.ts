import type { ServerResponse } from 'node:http';
import type { V2Error } from './V2Error';

const COMMON = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Inference-Header-Content-Length, Retry-After',
};

/** Write a response body with the headers every /v2 answer carries. */
export function sendV2(res: ServerResponse, status: number, body: Uint8Array | string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON, 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

export function sendV2Json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  sendV2(res, status, JSON.stringify(value), { 'content-type': 'application/json; charset=utf-8', ...headers });
}

/** `{ error, code, details? }`: the protocol's error body plus a stable code. */
export function sendV2Error(res: ServerResponse, error: V2Error): void {
  sendV2Json(
    res,
    error.status,
    { error: error.message, code: error.code, ...(error.details ? { details: error.details } : {}) },
    error.headers,
  );
}
