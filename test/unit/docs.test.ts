// The docs document the contract: every exported name (and every field of an exported interface), CLI
// command and flag, HTTP route and telemetry event field is named in docs/ (or the README), and every
// relative link and #anchor in the docs resolves. Everything is read from the sources as they are, so a new
// export, flag, route or field without its documentation fails here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { ERROR_CODES } from '../../src/core/OnDeviceError';
import { EventBatchSchema } from '../../src/core/schema/EventBatch';
import { TelemetryEventSchema } from '../../src/core/schema/TelemetryEvent';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const docFiles = readdirSync(path.join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);
const linkedFiles = ['README.md', 'CONTRIBUTING.md', 'bench/README.md', 'models/README.md', ...docFiles];

/** What a reader sees as code: fenced blocks and inline code spans. */
function codeOf(markdown: string): string {
  const fenced = markdown.match(/^```[^\n]*\n[\s\S]*?^```/gm) ?? [];
  const inline = markdown.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '').match(/`[^`\n]+`/g) ?? [];
  return [...fenced, ...inline].join('\n');
}
const docsCode = codeOf(['README.md', ...docFiles].map(read).join('\n'));
const mentions = (code: string, name: string) => new RegExp(`(?<![\\w$])${name.replace(/[$]/g, '\\$')}(?![\\w$])`).test(code);

// ---- exported names -------------------------------------------------------------------------------

const ENTRIES = ['src/index.ts', 'src/node/index.ts', 'src/vite/index.ts', 'src/sw/index.ts'];

const parsed = new Map<string, ts.SourceFile>();
function parse(file: string): ts.SourceFile {
  let source = parsed.get(file);
  if (!source) parsed.set(file, (source = ts.createSourceFile(file, read(file), ts.ScriptTarget.Latest, true)));
  return source;
}
function resolveModule(from: string, specifier: string): string {
  const base = path.join(path.dirname(from), specifier);
  const found = [`${base}.ts`, path.join(base, 'index.ts')].find((f) => existsSync(path.join(root, f)));
  if (!found) throw new Error(`cannot resolve ${specifier} from ${from}`);
  return found;
}
const hasExport = (node: ts.Node) =>
  ts.canHaveModifiers(node) && !!ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/** Exported name → the file and local name it comes from (for reading an interface's fields). */
function exportsOf(file: string): Map<string, { file: string; local: string }> {
  const out = new Map<string, { file: string; local: string }>();
  for (const node of parse(file).statements) {
    if (ts.isExportDeclaration(node)) {
      const from = node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) ? resolveModule(file, node.moduleSpecifier.text) : file;
      if (!node.exportClause) for (const [name, origin] of exportsOf(from)) out.set(name, origin);
      else if (ts.isNamedExports(node.exportClause))
        for (const el of node.exportClause.elements) out.set(el.name.text, { file: from, local: (el.propertyName ?? el.name).text });
    } else if (hasExport(node)) {
      if (ts.isVariableStatement(node))
        for (const d of node.declarationList.declarations) if (ts.isIdentifier(d.name)) out.set(d.name.text, { file, local: d.name.text });
      const named = node as ts.Node & { name?: ts.Node };
      if (named.name && ts.isIdentifier(named.name)) out.set(named.name.text, { file, local: named.name.text });
    }
  }
  out.delete('default');
  return out;
}

/** The documented fields of an exported interface (members marked internal are not part of the contract). */
function interfaceFields(file: string, name: string): string[] {
  for (const node of parse(file).statements) {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== name) continue;
    return node.members
      .filter((m) => !/^\s*\/\*\*\s*(@internal|Internal\b)/.test(m.getFullText()))
      .map((m) => (m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)) ? m.name.text : undefined))
      .filter((n): n is string => n !== undefined);
  }
  return [];
}

describe('every public name is documented', () => {
  const exported = ENTRIES.map((entry) => ({ entry, names: exportsOf(entry) }));

  test('the entries export what the package promises (the reader works)', () => {
    const [main, node, vite, sw] = exported.map((e) => [...e.names.keys()]);
    expect(main).toEqual(expect.arrayContaining(['loadModel', 'Model', 'OnDeviceError', 'configure', 'modelStore', 'TensorData']));
    expect(node).toEqual(expect.arrayContaining(['loadModel', 'NodeLoadOptions']));
    expect(vite).toEqual(['ondevice', 'OnDeviceViteOptions']);
    expect(sw).toEqual(expect.arrayContaining(['ondeviceRuntimeFiles', 'crossOriginIsolationPlugin', 'ISOLATION_HEADERS']));
  });

  for (const { entry, names } of exported) {
    test(`${entry}: each exported name appears in docs/ or the README`, () => {
      expect([...names.keys()].filter((name) => !mentions(docsCode, name))).toEqual([]);
    });
    test(`${entry}: each field of an exported interface appears in docs/ or the README`, () => {
      const missing = [...names].flatMap(([name, { file, local }]) =>
        interfaceFields(file, local)
          .filter((field) => !mentions(docsCode, field))
          .map((field) => `${name}.${field}`),
      );
      expect(missing).toEqual([]);
    });
  }

  test('each error code appears in docs/api.md', () => {
    const api = codeOf(read('docs/api.md'));
    expect(ERROR_CODES.filter((code) => !mentions(api, code))).toEqual([]);
  });
});

// ---- the CLI --------------------------------------------------------------------------------------

describe('every CLI command, subcommand and flag is documented', () => {
  const cliFiles = readdirSync(path.join(root, 'src/cli'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => read(`src/cli/${f}`));
  // main.ts declares its commands as a table: `['serve', { usage, run }]`.
  const commands = [...read('src/cli/main.ts').matchAll(/\[\s*'([a-z-]+)',\s*\{/g)].map((m) => m[1]);
  const subcommands = cliFiles.flatMap((source) => {
    const command = /`ondevice ([a-z]+) …`/.exec(source)?.[1] ?? /ondevice ([a-z]+) [a-z]+ /.exec(source)?.[1];
    return [...source.matchAll(/case '([a-z-]+)':/g)].map((m) => `${command} ${m[1]}`);
  });
  const flags = [
    ...new Set(
      cliFiles.flatMap((source) => [...source.matchAll(/^\s+'?([a-z][a-z-]*)'?: \{ type: '(?:string|boolean)'/gm)].map((m) => `--${m[1]}`)),
    ),
  ];

  test('the sources were read (serve, batch, release and its subcommands, retrain)', () => {
    expect(commands).toEqual(expect.arrayContaining(['serve', 'batch', 'release', 'retrain']));
    expect(subcommands).toEqual(expect.arrayContaining(['release publish', 'release rollback', 'release status']));
    expect(flags).toEqual(expect.arrayContaining(['--port', '--models-dir', '--on-server', '--percent']));
  });
  test('each command appears as `ondevice <command>`', () => {
    expect(commands.filter((c) => !docsCode.includes(`ondevice ${c}`))).toEqual([]);
  });
  test('each subcommand appears as `ondevice <command> <subcommand>`', () => {
    expect(subcommands.filter((s) => !docsCode.includes(`ondevice ${s}`))).toEqual([]);
  });
  test('each flag appears', () => {
    expect(flags.filter((f) => !mentions(docsCode, f))).toEqual([]);
  });
});

// ---- HTTP routes ----------------------------------------------------------------------------------

/** Every folder under src/ that runs in Node: the servers and their shared HTTP plumbing, whatever they are called. */
const BROWSER_DIRS = new Set(['app', 'cache', 'client', 'core', 'embed', 'runtime', 'sw', 'telemetry', 'registry', 'vite']);
const SERVER_DIRS = readdirSync(path.join(root, 'src'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && !BROWSER_DIRS.has(d.name))
  .map((d) => `src/${d.name}`);

function sourcesUnder(dir: string): string[] {
  const full = path.join(root, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.[cm]?[jt]s$/.test(f))
    .map((f) => read(path.join(dir, f)));
}

const PARAM = /^(\$\{[^}]*\}|\{[^}/]+\}|:[A-Za-z]\w*)$/;

/**
 * A route as a path pattern, from a string literal in the source: `/v1/releases/${id}/rollout` →
 * ['v1', 'releases', PARAM, 'rollout']. Stops where the path stops (a query, a space, a `…`); `prefix` when
 * the literal names a subtree (it ends with `/` or `*`).
 */
function routeOf(literal: string): { segments: (string | null)[]; prefix: boolean } {
  const segments: (string | null)[] = [];
  const parts = literal
    .replace(/\$\{[^}]*\}/g, (m) => m.replace(/\//g, ''))
    .split('/')
    .slice(1);
  for (const [i, part] of parts.entries()) {
    if (PARAM.test(part)) {
      segments.push(null);
      continue;
    }
    const word = /^[A-Za-z0-9_.-]*/.exec(part)![0];
    if (word) segments.push(word);
    if (word !== part || i === parts.length - 1) return { segments, prefix: word === '' || /^[*]/.test(part.slice(word.length)) };
  }
  return { segments, prefix: false };
}

/** The paths the docs name, with `[optional]` parts both kept and dropped and queries cut: `GET /v2/models/{id}[/versions/{v}]`. */
function documentedPaths(code: string): string[][] {
  const found = code.match(/\/(?:v1|v2|metrics)(?:[/?[][^\s`|)"',]*)?/g) ?? [];
  const expand = (p: string): string[] => {
    const m = /\[([^[\]]*)\]/.exec(p);
    return m ? [...expand(p.replace(m[0], '')), ...expand(p.replace(m[0], m[1]))] : [p];
  };
  return found.flatMap(expand).map((p) =>
    p
      .split('?')[0]
      .replace(/[.:;]$/, '')
      .split('/')
      .slice(1)
      .filter((s, i, all) => s !== '' || i < all.length - 1),
  );
}

describe('every HTTP route the servers declare is documented', () => {
  const literals = [
    ...new Set(
      SERVER_DIRS.flatMap(sourcesUnder).flatMap((source) =>
        [...source.matchAll(/(['"`])(\/(?:v1|v2|metrics)(?:[/?:][^'"`\n]*)?)\1/g)].map((m) => m[2]),
      ),
    ),
  ];
  const documented = documentedPaths(docsCode);
  const matches = (route: { segments: (string | null)[]; prefix: boolean }, doc: string[]) =>
    (route.prefix ? doc.length >= route.segments.length : doc.length === route.segments.length) &&
    route.segments.every((s, i) => (s === null ? /^(\{[^}]+\}|<[^>]+>|[^{}<>]+)$/.test(doc[i]) : s === doc[i]));

  test('the sources were read (ingest, health, manifest, releases, jobs, /v2)', () => {
    for (const known of ['/v1/events', '/v1/health', '/v1/manifest', '/v1/jobs', '/v2/health/ready']) expect(literals).toContain(known);
  });
  test('each route path appears in the docs', () => {
    const missing = literals.filter((literal) => !documented.some((doc) => matches(routeOf(literal), doc)));
    expect(missing).toEqual([]);
  });
});

// ---- telemetry event fields -----------------------------------------------------------------------

/** The parts of a valibot schema object that can hold other schemas. */
interface SchemaNode {
  entries?: Record<string, unknown>;
  options?: readonly unknown[];
  wrapped?: unknown;
  item?: unknown;
  key?: unknown;
  value?: unknown;
  pipe?: readonly { kind: string }[];
}

/** Every object key anywhere in a valibot schema, walking variants, unions, pipes, wrappers, records, arrays. */
function fieldNames(schema: unknown, into = new Set<string>(), seen = new Set<unknown>()): Set<string> {
  if (typeof schema !== 'object' || schema === null || seen.has(schema)) return into;
  seen.add(schema);
  const node = schema as SchemaNode;
  for (const [key, entry] of Object.entries(node.entries ?? {})) {
    into.add(key);
    fieldNames(entry, into, seen);
  }
  for (const inner of [...(node.options ?? []), node.wrapped, node.item, node.key, node.value]) fieldNames(inner, into, seen);
  for (const item of node.pipe ?? []) if (item.kind === 'schema') fieldNames(item, into, seen);
  return into;
}

describe('every telemetry event field is documented', () => {
  const fields = [...fieldNames(TelemetryEventSchema), ...fieldNames(EventBatchSchema)];

  test('the schemas were read (common, per-type, device and batch fields)', () => {
    expect(fields).toEqual(expect.arrayContaining(['installId', 'inputDims', 'topClass', 'vendor', 'inputs', 'siteKey', 'events']));
  });
  test('each field appears in docs/telemetry-and-collector.md', () => {
    const doc = codeOf(read('docs/telemetry-and-collector.md'));
    expect([...new Set(fields)].filter((f) => !mentions(doc, f))).toEqual([]);
  });
});

// ---- links --------------------------------------------------------------------------------------------

/** GitHub's heading anchors: lower case, punctuation dropped (hyphens and underscores kept), spaces → hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, text] of markdown.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

describe('docs links', () => {
  test('the README stays a map: at most 350 lines', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(350);
  });

  test('every relative link points at an existing file and, with a #anchor, at an existing heading', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of linkedFiles) {
      const prose = read(file)
        .replace(/^```[^\n]*\n[\s\S]*?^```/gm, '')
        .replace(/`[^`\n]+`/g, '');
      for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        checked++;
        const [pathPart, anchor] = target.split('#');
        const resolved = pathPart ? path.join(path.dirname(file), decodeURI(pathPart)) : file;
        if (!existsSync(path.join(root, resolved))) broken.push(`${file}: ${target} (no such file)`);
        else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(read(resolved)).has(anchor))
          broken.push(`${file}: ${target} (no such heading)`);
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(broken).toEqual([]);
  });
});
