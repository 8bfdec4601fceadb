#!/usr/bin/env node
// The `ondevice` command. From a checkout it runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
