import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import { OnDeviceError } from '../core/OnDeviceError';

/** node:util parseArgs, with mistakes as INVALID_INPUT (the CLI prints them with the usage). */
export function parseArgs(args: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return nodeParseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new OnDeviceError('INVALID_INPUT', (error as Error).message);
  }
}

export function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new OnDeviceError('INVALID_INPUT', `--${name} must be a positive integer, got ${String(value)}`);
  return n;
}
