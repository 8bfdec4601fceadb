// One Vite library build, with the defaults every build of ours shares: no config file (vite.config.ts is
// the demo app's), no public/ copy (the demo's models and samples), quiet, never emptying the output folder
// (several builds fill one folder).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type InlineConfig, type Rolldown } from 'vite';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Resolve onnxruntime-web to its lean bundles, whose .wasm files are served next to them. */
export const ORT_EXTERN_WASM_CONDITIONS = ['onnxruntime-web-use-extern-wasm', 'import', 'module', 'browser', 'default'];

export interface EntryBuild {
  /** Source file(s) under the repository root: one, or several by output name. */
  entry: string | Record<string, string>;
  outDir: string;
  /** The output file's name, or by entry name. */
  fileName: string | ((name: string) => string);
  /** Default `es`. A classic script (`iife`) needs `name`, the global it assigns. */
  format?: 'es' | 'iife';
  name?: string;
  target?: string;
  sourcemap?: boolean;
  minify?: boolean;
  define?: Record<string, string>;
  conditions?: string[];
  chunkFileNames?: string;
  external?: (string | RegExp)[];
  emptyOutDir?: boolean;
}

/**
 * Build one library entry; returns the chunks written (buildPackage sorts the worker's by backend).
 *
 * @example
 * await buildEntry({ entry: 'src/index.ts', outDir: 'lib', fileName: 'ondevice.mjs', sourcemap: true });
 */
export async function buildEntry(b: EntryBuild): Promise<Rolldown.OutputChunk[]> {
  const entry = typeof b.entry === 'string' ? path.join(ROOT, b.entry) : mapValues(b.entry, (file) => path.join(ROOT, file));
  const config: InlineConfig = {
    configFile: false,
    logLevel: 'warn',
    root: ROOT,
    publicDir: false,
    ...(b.define ? { define: b.define } : {}),
    ...(b.conditions ? { resolve: { conditions: b.conditions } } : {}),
    build: {
      outDir: b.outDir,
      emptyOutDir: b.emptyOutDir ?? false,
      sourcemap: b.sourcemap ?? false,
      ...(b.minify !== undefined ? { minify: b.minify } : {}),
      ...(b.target ? { target: b.target } : {}),
      lib: {
        entry,
        formats: [b.format ?? 'es'],
        ...(b.name ? { name: b.name } : {}),
        fileName: (_format, name) => (typeof b.fileName === 'string' ? b.fileName : b.fileName(name)),
      },
      rollupOptions: {
        ...(b.external ? { external: b.external } : {}),
        ...(b.chunkFileNames ? { output: { chunkFileNames: b.chunkFileNames } } : {}),
      },
    },
  };
  const result = await build(config);
  const outputs = Array.isArray(result) ? result : [result];
  return outputs.flatMap((o) => ('output' in o ? o.output : [])).filter((o): o is Rolldown.OutputChunk => o.type === 'chunk');
}

function mapValues(record: Record<string, string>, f: (value: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, value]) => [k, f(value)]));
}
