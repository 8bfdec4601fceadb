import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './UsageError';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, with mistakes as UsageError (the CLI prints them with the usage, exit 2). */
export function parseArgs(args: string[], options: Options) {
  try {
    return nodeParseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The same with positional arguments, typed by `options`. */
export function parseCommandLine<const O extends Options>(args: string[], options: O) {
  try {
    return nodeParseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${String(value)}`);
  return n;
}

/** `-h` or `--help` anywhere: the command prints its usage to stdout and exits 0. */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes('-h') || args.includes('--help');
}
