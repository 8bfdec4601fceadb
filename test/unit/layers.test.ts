// The layer rule of config/eslint-layers.js on code it has never seen: an arrow the table forbids, an
// arrow it allows, and a folder of src/ the table does not list.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Linter } from 'eslint';
import { describe, expect, test } from 'vitest';
import { LAYERS, layersPlugin } from '../../config/eslint-layers.js';

const src = path.resolve(import.meta.dirname, '../../src');

function lint(file: string, code: string): string[] {
  const linter = new Linter({ configType: 'flat' });
  const config = [{ files: ['**/*.ts'], plugins: { layers: layersPlugin }, rules: { 'layers/one-way': 'error' as const } }];
  return linter.verify(code, config, { filename: path.join(src, file) }).map((m) => m.message);
}

describe('the layer rule', () => {
  test('a folder of src/ that LAYERS does not list is an error, whatever it imports', () => {
    const messages = lint('newthing/a.ts', 'export const a = 1;');
    expect(messages).toEqual([expect.stringContaining('src/newthing is not a layer')]);
  });

  test('a file directly in src/ that LAYERS does not list is an error too', () => {
    expect(lint('extra.ts', 'export const a = 1;')).toEqual([expect.stringContaining('src/extra is not a layer')]);
  });

  test('an import the table does not allow is an error; one it allows is not', () => {
    expect(lint('http/a.ts', "import { b } from '../collector/b';\nexport const a = b;")).toEqual([
      expect.stringContaining('src/http may not import src/collector'),
    ]);
    expect(lint('collector/a.ts', "import { b } from '../http/b';\nexport const a = b;")).toEqual([]);
  });

  test('every folder and top-level module of src/ is listed', () => {
    const layers = readdirSync(src, { withFileTypes: true })
      .filter((e) => e.isDirectory() || /\.[cm]?[jt]s$/.test(e.name))
      .map((e) => e.name.replace(/(\.d)?\.[cm]?[jt]s$/, ''));
    expect(layers.filter((name) => !Object.hasOwn(LAYERS, name))).toEqual([]);
  });
});
