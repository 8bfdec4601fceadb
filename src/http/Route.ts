// Types-only: one entry of the collector's route table (createCollector.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * - `ingest`: open to browsers anywhere (the site key gates it).
 * - `public`: carries no data (health, the dashboard's library code and styles).
 * - `read`: data; needs the read token, or a loopback request when the token is not required.
 */
export type RouteAccess = 'ingest' | 'public' | 'read';

export interface Route {
  path: string;
  /** Methods answered; others get 405 with an Allow header. Absent: the handler checks (ingest counts its 405s). */
  methods?: readonly string[];
  access: RouteAccess;
  /** `read` only: also accept `?token=` (a page a person opens from a link). */
  queryToken?: boolean;
  /**
   * Deadline for receiving this route's request body (ingest 10 s). Routes with long bodies — model
   * publishing uploads, dataset exports — set their own; the server's whole-request backstop is raised
   * to the longest one (Collector.longestBodyTimeoutMs).
   */
  bodyTimeoutMs?: number;
  /** Also answer every path below `path` (which then ends with `/`), e.g. `/v1/datasets/{model}`. */
  prefix?: boolean;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> | void;
}
