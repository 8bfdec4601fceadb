import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './HttpError';
import { sendError, type SendErrorOptions } from './sendError';

/** A mounted server (collector, releases, jobs, /v2): answers the paths it owns and returns true, else false. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;

/**
 * One request listener over several mounted servers: the first that owns the path answers; a path none
 * owns gets `fallback` (default a 404 `NOT_FOUND` in the `errors` shape). A handler that throws (they answer
 * their own failures, so this is a bug) is logged and answered 500.
 *
 * @example
 * http.createServer(chainHandlers([releases.handle, collector.handle], { log: console.error }));
 */
export function chainHandlers(
  handlers: readonly Handler[],
  options: Pick<SendErrorOptions, 'shape' | 'headers' | 'log'> & {
    fallback?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const log = options.log ?? ((line: string) => console.error(line));
  return (req, res) => {
    (async () => {
      for (const handle of handlers) if (await handle(req, res)) return;
      if (options.fallback) return options.fallback(req, res);
      throw new HttpError(404, 'NOT_FOUND', 'not found');
    })().catch((error: unknown) => sendError(res, error, { ...options, log, what: `${req.method} ${req.url}` }));
  };
}
