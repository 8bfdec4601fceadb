// dist/ondevice.d.ts for `import { loadModel } from 'ondevice'`: tsc emits declarations for the public
// graph (src/index.ts) into dist/types/, with `.js` added to relative specifiers so they resolve under
// every moduleResolution (bundler, node16, nodenext). The package build (scripts/buildPackage.ts) adds
// the entries of `ondevice/vite` (src/vite/index.ts → vite.d.ts), `ondevice/sw` (src/sw/index.ts → sw.d.ts) and
// `ondevice/node` (src/node/index.ts → node.d.ts).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** entry name → [source under src/, the .d.ts written next to the build] */
export const DECLARATION_ENTRIES = {
  index: ['index.ts', 'ondevice.d.ts'],
  vite: ['vite/index.ts', 'vite.d.ts'],
  sw: ['sw/index.ts', 'sw.d.ts'],
  node: ['node/index.ts', 'node.d.ts'],
} as const;
export type DeclarationEntry = keyof typeof DECLARATION_ENTRIES;

export async function emitDeclarations(root: string, dist: string, entries: readonly DeclarationEntry[] = ['index']): Promise<void> {
  const outDir = path.join(dist, 'types');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts', 'lib.webworker.importscripts.d.ts'],
    // The Vite plugin and `ondevice/node` run in Node.
    types: entries.includes('vite') || entries.includes('node') ? ['node'] : [],
    strict: true,
    skipLibCheck: true,
    declaration: true,
    emitDeclarationOnly: true,
    stripInternal: true,
    rootDir: path.join(root, 'src'),
    outDir,
  };
  const program = ts.createProgram(
    entries.map((entry) => path.join(root, 'src', DECLARATION_ENTRIES[entry][0])),
    options,
  );
  const written: string[] = [];
  const result = program.emit(undefined, (file, text) => {
    written.push(file);
    ts.sys.writeFile(file, text);
  });
  const errors = result.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length) {
    const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
    throw new Error(`declarations for dist/ondevice.d.ts failed:\n${ts.formatDiagnostics(errors, host)}`);
  }
  await Promise.all(written.map((file) => addJsExtensions(file)));
  for (const entry of entries) {
    const [source, dts] = DECLARATION_ENTRIES[entry];
    const target = `./types/${source.replace(/\.ts$/, '.js')}`;
    // Re-export the default too where there is one (`import ondevice from 'ondevice/vite'`).
    const text = await readFile(path.join(outDir, source.replace(/\.ts$/, '.d.ts')), 'utf8');
    const reexportDefault = /export default|as default\b/.test(text) ? `export { default } from '${target}';\n` : '';
    await writeFile(path.join(dist, dts), `export * from '${target}';\n${reexportDefault}`);
  }
}

async function addJsExtensions(file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const fixed = text.replace(
    /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)(['"])/g,
    (match, before: string, spec: string, after: string) => {
      if (/\.(js|mjs|d\.ts)$/.test(spec)) return match;
      const target = path.resolve(path.dirname(file), spec);
      const ext = existsSync(`${target}.d.ts`) ? '.js' : existsSync(path.join(target, 'index.d.ts')) ? '/index.js' : '.js';
      return `${before}${spec}${ext}${after}`;
    },
  );
  if (fixed !== text) await writeFile(file, fixed);
}

/** The same in a child process, so the type checker runs alongside vite instead of after it. */
export function emitDeclarationsInBackground(root: string, dist: string, entries: readonly DeclarationEntry[] = ['index']): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url), root, dist, entries.join(',')],
    {
      stdio: ['ignore', 'inherit', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(stderr || `emitDeclarations exited with ${code}`))));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const entries = (process.argv[4] ?? 'index').split(',') as DeclarationEntry[];
  emitDeclarations(path.resolve(process.argv[2] ?? '.'), path.resolve(process.argv[3] ?? 'dist'), entries).catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
