import type { Server } from 'node:http';

export interface ServeUntilSignalOptions {
  host: string;
  /** 0 picks a free port; the line printed names the one taken. */
  port: number;
  /** The line printed once listening; it must contain `listening on <url>` (tests and scripts wait for it). */
  announce?: (url: string) => string;
  /** Called with SIGINT/SIGTERM before shutting down (a log line). */
  onSignal?: (signal: NodeJS.Signals) => void;
  /** Releases what the server holds (databases, workers, queues), after the last connection closed. */
  close(): Promise<void>;
}

/** Give up on a clean shutdown after this long and exit 1. */
const FORCE_EXIT_MS = 5000;

/**
 * A server process's life: listen, print where, and on SIGINT or SIGTERM stop accepting connections,
 * close idle ones, run `close` and exit (0; 1 when `close` fails or the whole shutdown takes over 5 s).
 *
 * @example
 * serveUntilSignal(server, { host: '127.0.0.1', port: 8787, close: () => collector.close() });
 */
export function serveUntilSignal(server: Server, options: ServeUntilSignalOptions): void {
  server.listen(options.port, options.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
    console.log(options.announce?.(url) ?? `listening on ${url}`);
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    options.onSignal?.(signal);
    setTimeout(() => process.exit(1), FORCE_EXIT_MS).unref();
    server.close(() =>
      options.close().then(
        () => process.exit(0),
        () => process.exit(1),
      ),
    );
    server.closeIdleConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
