const warned = new Set<string>();

/**
 * Say `message` on the console the first time `key` comes up on this page (or worker): a telemetry
 * problem must never be silent, and must not flood the console either.
 */
export function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(message);
}
