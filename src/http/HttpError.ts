export interface HttpErrorOptions {
  /** Where in the request the problem is (`$.percent`); `$` (the whole request) by default. */
  path?: string;
  /** Headers of the answer (`retry-after`, `allow`, `connection: close`, `www-authenticate`). */
  headers?: Record<string, string>;
  /** More fields of the JSON answer (`problems` of an incompatible signature). */
  details?: Record<string, unknown>;
}

/**
 * A refusal an HTTP handler throws: the route table answers it with `status` and a JSON body of its
 * endpoint family's shape (sendError), so handlers never write error bodies themselves.
 *
 * @example
 * if (!VERSION.test(version)) throw new HttpError(400, 'INVALID_INPUT', `version must match ${VERSION}`);
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message);
    this.path = options.path ?? '$';
    this.headers = options.headers ?? {};
    this.details = options.details ?? {};
  }
}
