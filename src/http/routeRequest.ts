import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostAllowed } from './hostAllowed';
import type { Route } from './Route';
import { hasReadAccess, type ReadAccessPolicy } from './readAccess';
import { sendJson } from './sendJson';

/** Where a request's route is looked up: exact paths; anything under `/v1/` or `/dashboard/` unknown is a 404. */
export interface RouteTable {
  routes: ReadonlyMap<string, Route>;
  access: ReadAccessPolicy;
  /** Host names the read side answers to while it is open without a token (loopback, DNS rebinding). */
  openReadHosts: ReadonlySet<string>;
}

/** Serve `req` from the table; false when the collector does not own the path (the app server serves it). */
export async function routeRequest(table: RouteTable, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const route = table.routes.get(url.pathname) ?? prefixRoute(table.routes, url.pathname);
  if (!route) {
    if (!url.pathname.startsWith('/v1/') && !url.pathname.startsWith('/dashboard/')) return false;
    sendJson(res, 404, { error: 'not found', code: 'NOT_FOUND', path: '$' });
    return true;
  }
  if (route.methods && !route.methods.includes(req.method ?? '')) {
    const allow = route.methods.join(', ');
    sendJson(res, 405, { error: `use ${allow}`, code: 'METHOD_NOT_ALLOWED', path: '$' }, { allow });
    return true;
  }
  if (route.access === 'read' && !table.access.required && !hostAllowed(req, table.openReadHosts)) {
    sendJson(res, 403, { error: `host ${JSON.stringify(req.headers.host ?? '')} not allowed`, code: 'HOST_NOT_ALLOWED', path: '$' });
    return true;
  }
  if (route.access === 'read' && !hasReadAccess(req, url, table.access, route.queryToken ?? false)) {
    sendJson(
      res,
      401,
      { error: 'read token required', code: 'UNAUTHORIZED', path: '$' },
      { 'www-authenticate': 'Bearer realm="ondevice-collector"' },
    );
    return true;
  }
  await route.handle(req, res, url);
  return true;
}

/** The route whose `path` is a prefix of `pathname` and that answers paths below it (the longest wins). */
function prefixRoute(routes: ReadonlyMap<string, Route>, pathname: string): Route | undefined {
  let found: Route | undefined;
  for (const route of routes.values()) {
    if (route.prefix && pathname.startsWith(route.path) && pathname.length > route.path.length) {
      if (!found || route.path.length > found.path.length) found = route;
    }
  }
  return found;
}
