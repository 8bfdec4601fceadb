import { afterEach, describe, expect, test } from 'vitest';
import { configure, servedBackends } from '../../src/client/configure';

describe('configure({ backends })', () => {
  afterEach(() => configure({ backends: ['wasm', 'webgpu'] }));

  test('says which backends the app serves (both by default, what the Vite plugin passes otherwise)', () => {
    expect(servedBackends()).toEqual(['wasm', 'webgpu']);
    configure({ backends: ['wasm'] });
    expect(servedBackends()).toEqual(['wasm']);
  });

  test.each([[[]], [['cuda']], [['wasm', 'webgl']], ['wasm']])('refuses %j with INVALID_INPUT and changes nothing', (backends) => {
    configure({ backends: ['wasm'] });
    expect(() => configure({ backends } as never)).toThrow(expect.objectContaining({ name: 'OnDeviceError', code: 'INVALID_INPUT' }));
    expect(servedBackends()).toEqual(['wasm']);
  });
});
