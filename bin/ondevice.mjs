#!/usr/bin/env node
// The `ondevice` command. From a checkout (src/ is there) it runs the TypeScript sources through tsx; an
// installed package has no src/ and runs the CLI that scripts/buildPackage.ts compiled into lib/.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../lib/cli.mjs');
}
