import { createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { OnDeviceError } from '../core/OnDeviceError';

/**
 * PUT a file's bytes to `url`, streamed from disk (never read whole), with Content-Length. Fails with TIMEOUT
 * when nothing moves for `stallTimeoutMs` in either direction, MODEL_FETCH_FAILED when the connection fails.
 * Resolves with the status and the parsed JSON answer. `onProgress` gets the bytes sent so far.
 */
export function uploadFile(
  url: string,
  file: { path: string; bytes: number },
  headers: Record<string, string>,
  options: { stallTimeoutMs: number; onProgress?: (sentBytes: number) => void },
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = (target.protocol === 'https:' ? https : http).request(target, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(file.bytes) },
    });
    const source = createReadStream(file.path, { highWaterMark: 1024 * 1024 });
    let sent = 0;
    const fail = (error: Error) => {
      source.destroy();
      request.destroy();
      reject(error);
    };
    request.setTimeout(options.stallTimeoutMs, () =>
      fail(new OnDeviceError('TIMEOUT', `PUT ${url}: nothing moved for ${options.stallTimeoutMs} ms`)),
    );
    request.once('error', (e) => fail(new OnDeviceError('MODEL_FETCH_FAILED', `PUT ${url}: ${e.message}`)));
    source.once('error', (e) => fail(new OnDeviceError('MODEL_FETCH_FAILED', `cannot read ${file.path}: ${e.message}`)));
    source.on('data', (piece) => {
      sent += piece.length;
      options.onProgress?.(sent);
    });
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.once('error', (e) => fail(new OnDeviceError('MODEL_FETCH_FAILED', `PUT ${url}: ${e.message}`)));
      response.once('end', () => {
        source.destroy();
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = { error: text.slice(0, 200) };
        }
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    source.pipe(request);
  });
}
