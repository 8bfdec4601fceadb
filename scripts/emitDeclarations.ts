// dist/ondevice.d.ts for `import { loadModel } from 'ondevice'`: tsc emits declarations for the public
// graph (src/index.ts) into dist/types/, with `.js` added to relative specifiers so they resolve under
// every moduleResolution (bundler, node16, nodenext).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export async function emitDeclarations(root: string, dist: string): Promise<void> {
  const outDir = path.join(dist, 'types');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts', 'lib.webworker.importscripts.d.ts'],
    types: [],
    strict: true,
    skipLibCheck: true,
    declaration: true,
    emitDeclarationOnly: true,
    stripInternal: true,
    rootDir: path.join(root, 'src'),
    outDir,
  };
  const program = ts.createProgram([path.join(root, 'src/index.ts')], options);
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
  await writeFile(path.join(dist, 'ondevice.d.ts'), "export * from './types/index.js';\n");
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
export function emitDeclarationsInBackground(root: string, dist: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url), root, dist], {
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(stderr || `emitDeclarations exited with ${code}`))));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  emitDeclarations(path.resolve(process.argv[2] ?? '.'), path.resolve(process.argv[3] ?? 'dist')).catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
