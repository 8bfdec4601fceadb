import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { builtRuntimeFiles } from '../core/builtRuntimeFiles';
import { OnDeviceError } from '../core/OnDeviceError';
import type { Backend } from '../core/protocol';
import { runtimeFilesFor } from '../core/RuntimeFiles';
import { ISOLATION_HEADERS } from '../sw/withCrossOriginIsolation';
import { serveRuntimeFiles } from './serveRuntimeFiles';

export interface OnDeviceViteOptions {
  /**
   * The backends the app uses; only their onnxruntime files are served and emitted, and the library is told
   * (`configure({ backends })`), so `backend: 'auto'` never fetches the others. Default both.
   */
  backends?: Backend[];
  /** Where the runtime files go, relative to Vite's `base`. Default `'ondevice/'`. */
  base?: string;
  /** Add COOP/COEP (cross-origin isolation → WASM threads) in `vite dev` and `vite preview`. Default true. */
  isolation?: boolean;
}

// `import … from 'ondevice'` in the app resolves to this module, which points the library at the
// runtime files before any app code runs, then re-exports the real entry.
const CONFIGURED_ID = '\0ondevice:configured';

/**
 * The Vite plugin: serves the runtime worker, its chunks and the onnxruntime files of `backends` in
 * `vite dev`, emits them under `base` in `vite build`, sets `configure({ baseUrl, backends })` for the app, and
 * sends COOP/COEP from `vite dev` and `vite preview` unless `isolation: false`.
 *
 * @example
 * // vite.config.ts
 * import { defineConfig } from 'vite';
 * import ondevice from 'ondevice/vite';
 * export default defineConfig({ plugins: [ondevice({ backends: ['wasm'] })] });
 */
export function ondevice(options: OnDeviceViteOptions = {}): Plugin {
  const dir = checkBase(options.base ?? 'ondevice/');
  const files = runtimeFilesFor(builtRuntimeFiles(), options.backends);
  // This file is lib/vite.mjs; the runtime files sit next to it.
  const libDir = path.dirname(fileURLToPath(import.meta.url));
  const isolation = options.isolation !== false;
  const pageHeaders = Object.fromEntries(ISOLATION_HEADERS.filter(([name]) => name !== 'Cross-Origin-Resource-Policy'));
  let publicBase = '/';

  return {
    name: 'ondevice',
    enforce: 'pre',
    config() {
      return {
        // The entry is one self-contained ES module; excluding it lets resolveId below see app imports.
        optimizeDeps: { exclude: ['ondevice'] },
        ...(isolation ? { server: { headers: pageHeaders }, preview: { headers: pageHeaders } } : {}),
      };
    },
    configResolved(config) {
      publicBase = config.base;
    },
    resolveId(source, importer) {
      if (source === 'ondevice' && importer !== CONFIGURED_ID) return CONFIGURED_ID;
      return null;
    },
    load(id) {
      if (id !== CONFIGURED_ID) return null;
      // A relative Vite base ('./') resolves against the page, so it suits pages at the app's root.
      const baseUrl = JSON.stringify(publicBase + dir);
      // The backends whose files are emitted: `backend: 'auto'` must not fetch the others.
      const backends = options.backends ? `, backends: ${JSON.stringify(options.backends)}` : '';
      return [
        `import { configure } from 'ondevice';`,
        `configure({ baseUrl: new URL(${baseUrl}, globalThis.document?.baseURI ?? globalThis.location.href).href${backends} });`,
        `export * from 'ondevice';`,
      ].join('\n');
    },
    configureServer(server) {
      const urlPrefix = (publicBase.startsWith('/') ? publicBase : '/') + dir;
      const headers = isolation ? Object.fromEntries(ISOLATION_HEADERS) : {};
      server.middlewares.use(serveRuntimeFiles({ libDir, urlPrefix, files, headers }));
    },
    generateBundle() {
      for (const file of files) {
        this.emitFile({ type: 'asset', fileName: dir + file.url, source: readFileSync(path.join(libDir, file.url)) });
      }
    },
  };
}

/** `base` as a relative folder path ending in `/` ('ondevice/', 'static/ort-runtime/'). */
function checkBase(base: string): string {
  const trimmed = base.replace(/^\.?\/+/, '').replace(/\/*$/, '/');
  if (trimmed === '/' || trimmed.split('/').some((part) => part === '..') || /[?#\\]/.test(trimmed)) {
    throw new OnDeviceError(
      'INVALID_INPUT',
      `ondevice/vite: base must be a folder inside the app, like 'ondevice/' (got ${JSON.stringify(base)})`,
      { base },
    );
  }
  return trimmed;
}
