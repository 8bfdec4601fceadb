// Types-only: one entry of a server's route table (routeRequest.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * - `public`: carries no data, or data meant for anyone (health, the manifest, release bytes, /v2 on loopback).
 * - `ingest`: open to browsers anywhere; the handler checks the site key, origin and rate itself.
 * - `read`: data; the read token, or a loopback Host while the token is not required (AccessPolicy).
 * - `write`: changes (publish, rollout, jobs): never from a browser, the body's type checked, the admin
 *   token off loopback (checkWriteAccess). A refused request's body is discarded within the route's bounds.
 */
export type RouteAccess = 'public' | 'ingest' | 'read' | 'write';

export interface RouteContext {
  url: URL;
  /** The `{name}` segments of the route's path, percent-decoded (`/v1/releases/{model}` → `{ model }`). */
  params: Readonly<Record<string, string>>;
  /** What follows the path of a `prefix` route (`/v1/jobs/` + `abc` → `abc`); '' otherwise. */
  rest: string;
}

export interface Route {
  /**
   * The path answered: exact, or with `{name}` segments that match one non-empty segment each
   * (`/v1/releases/{model}/{version}/rollout`).
   */
  path: string;
  /**
   * Also answer every path below `path` (which then ends with `/`), e.g. `/v1/datasets/`; its `{name}` segments
   * match as in an exact path (`/v1/releases/{model}/{version}/files/`), and what follows is `rest`.
   */
  prefix?: boolean;
  /**
   * Methods answered. Several routes may share a path with different methods (GET reads, POST writes);
   * a method none of them answers gets 405 with an Allow header. Absent: the handler checks (ingest counts its 405s).
   */
  methods?: readonly string[];
  access: RouteAccess;
  /** `read` only: also accept `?token=` (a page a person opens from a link). */
  queryToken?: boolean;
  /** `write` only: the Content-Type the body must have. */
  bodyType?: string;
  /** Largest body the route reads; bounds what is discarded of a refused request. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Deadline for receiving this route's request body (ingest 10 s). Routes with long bodies — model
   * publishing uploads, dataset exports — set their own; the server's whole-request backstop is raised
   * to the longest one (longestBodyTimeoutMs).
   */
  bodyTimeoutMs?: number;
  handle(req: IncomingMessage, res: ServerResponse, context: RouteContext): Promise<void> | void;
}
