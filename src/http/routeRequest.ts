import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkReadAccess, checkWriteAccess, type AccessPolicy } from './accessPolicy';
import { HttpError } from './HttpError';
import { discardBody } from './readBodyBytes';
import type { Route, RouteContext } from './Route';
import { sendError, type SendErrorOptions } from './sendError';

/** One server's routes and what they share. */
export interface RouteTable {
  /** Log prefix (`releases`): `releases: GET /v1/releases/m failed: …`. */
  name: string;
  routes: readonly Route[];
  /** Paths this table answers even when no route matches them (a 404 of its own); others fall through (false). */
  owns(pathname: string): boolean;
  /** Required by `read` and `write` routes. */
  access?: AccessPolicy;
  /** Checks of `{name}` path segments: a message for a malformed value (400 `INVALID_INPUT`), before the method is. */
  params?: Readonly<Record<string, (value: string) => string | undefined>>;
  /** The message of a 404. Default 'not found'. */
  notFound?: (pathname: string) => string;
  /** Error bodies' shape and headers, and the answer to a failure that is not an HttpError (sendError). Default `v1`. */
  errors?: Pick<SendErrorOptions, 'shape' | 'headers' | 'internal'>;
  /** Runs first for every path the table owns (/v2: preflight, API token, rate limit); true when it answered. */
  guard?(req: IncomingMessage, res: ServerResponse, url: URL): boolean | Promise<boolean>;
  log?: (line: string) => void;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_BODY_TIMEOUT_MS = 10_000;

/**
 * Serve `req` from the table: the route of its path (404 when the table owns the path but no route
 * matches), its `{name}` checks (400), the method (405 + Allow), the access (403/401/415), then the
 * handler; an HttpError thrown anywhere is answered in the table's error shape, any other failure is
 * logged and answered 500, and a body left unread is discarded within the route's bounds (discardBody).
 * False when the table does not own the path.
 *
 * @example
 * const table: RouteTable = { name: 'jobs', owns: (p) => p.startsWith('/v1/jobs'), access, routes: [...] };
 * http.createServer(async (req, res) => { if (!(await routeRequest(table, req, res))) serveApp(req, res); });
 */
export async function routeRequest(table: RouteTable, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://route.invalid');
  } catch {
    return false;
  }
  if (!table.owns(url.pathname)) return false;
  let route: Route | undefined;
  try {
    if (table.guard && (await table.guard(req, res, url))) return true;
    const matches = matchRoutes(table.routes, url);
    if (matches.length === 0) throw new HttpError(404, 'NOT_FOUND', table.notFound?.(url.pathname) ?? 'not found');
    for (const [name, value] of Object.entries(matches[0].context.params)) {
      const problem = table.params?.[name]?.(value);
      if (problem !== undefined) throw new HttpError(400, 'INVALID_INPUT', problem);
    }
    const method = req.method ?? 'GET';
    const match = matches.find(({ route }) => !route.methods || route.methods.includes(method));
    if (!match) {
      const allow = [...new Set(matches.flatMap(({ route }) => route.methods ?? []))].join(', ');
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `use ${allow}`, { headers: { allow } });
    }
    route = match.route;
    checkAccess(table, route, req, match.context.url);
    await route.handle(req, res, match.context);
  } catch (error) {
    // A body nobody started reading (a refusal before it): discarded within the route's bounds.
    if (req.readableFlowing === null && !req.readableEnded) {
      discardBody(req, {
        capBytes: route?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        timeoutMs: route?.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
      });
    }
    sendError(res, error, { ...table.errors, log: table.log, what: `${table.name}: ${req.method} ${url.pathname}` });
  }
  return true;
}

/** The longest body deadline of the routes: a server's whole-request timeout must not be shorter. */
export function longestBodyTimeoutMs(routes: readonly Route[]): number {
  return Math.max(0, ...routes.map((r) => r.bodyTimeoutMs ?? 0));
}

function checkAccess(table: RouteTable, route: Route, req: IncomingMessage, url: URL): void {
  if (route.access !== 'read' && route.access !== 'write') return;
  if (!table.access) throw new Error(`${table.name}: ${route.path} is ${route.access} but the table has no access policy`);
  if (route.access === 'read') checkReadAccess(req, table.access, route.queryToken ? url : undefined);
  else checkWriteAccess(req, table.access, route.bodyType ?? 'application/json');
}

/** The routes whose path matches `url`: exact and `{name}` ones, else the prefix routes of the longest prefix. */
function matchRoutes(routes: readonly Route[], url: URL): Array<{ route: Route; context: RouteContext }> {
  const { pathname } = url;
  const exact: Array<{ route: Route; context: RouteContext }> = [];
  let prefixed: Array<{ route: Route; context: RouteContext }> = [];
  for (const route of routes) {
    if (!route.prefix) {
      const params = matchPath(route.path, pathname);
      if (params) exact.push({ route, context: { url, params, rest: '' } });
    } else {
      const matched = matchPrefix(route.path, pathname);
      if (!matched) continue;
      const longest = prefixed[0]?.route.path.length ?? -1;
      if (route.path.length < longest) continue;
      if (route.path.length > longest) prefixed = [];
      prefixed.push({ route, context: { url, ...matched } });
    }
  }
  return exact.length > 0 ? exact : prefixed;
}

/**
 * A prefix route's match: its leading segments as matchPath matches them (`/v1/releases/{model}/{version}/files/`),
 * and the rest of the path, still percent-encoded (a location of several segments); undefined when nothing follows.
 */
function matchPrefix(pattern: string, pathname: string): { params: Record<string, string>; rest: string } | undefined {
  if (!pattern.includes('{'))
    return pathname.startsWith(pattern) && pathname.length > pattern.length
      ? { params: {}, rest: pathname.slice(pattern.length) }
      : undefined;
  const segments = pattern.split('/').length - 1;
  const have = pathname.split('/');
  if (have.length <= segments) return undefined;
  const params = matchPath(pattern, `${have.slice(0, segments).join('/')}/`);
  const rest = have.slice(segments).join('/');
  return params && rest !== '' ? { params, rest } : undefined;
}

/** The `{name}` values when `pathname` matches `pattern`, else undefined. */
function matchPath(pattern: string, pathname: string): Record<string, string> | undefined {
  if (!pattern.includes('{')) return pattern === pathname ? {} : undefined;
  const want = pattern.split('/');
  const have = pathname.split('/');
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of want.entries()) {
    const name = /^\{(\w+)\}$/.exec(segment)?.[1];
    if (name === undefined) {
      if (segment !== have[i]) return undefined;
      continue;
    }
    let value: string;
    try {
      value = decodeURIComponent(have[i]);
    } catch {
      return undefined;
    }
    if (value === '') return undefined;
    params[name] = value;
  }
  return params;
}
