import type { IncomingMessage } from 'node:http';
import { HttpError } from './HttpError';
import type { BodyLimits } from './readBodyBytes';
import { readBodyText } from './readBodyText';

/** The small JSON bodies of control requests (rollout, promote, jobs): 4 KiB within 10 s. */
export const CONTROL_BODY_LIMITS: BodyLimits = { maxBytes: 4096, timeoutMs: 10_000 };

/**
 * A request body that must be one JSON object (readBodyText's bounds); anything else is 400
 * `INVALID_INPUT`. An empty body is `{}` when `emptyIsObject` (a POST whose fields are all optional).
 *
 * @example
 * const { percent } = (await readJsonBody(req)) as { percent?: unknown };
 */
export async function readJsonBody(
  req: IncomingMessage,
  options: { limits?: BodyLimits; emptyIsObject?: boolean } = {},
): Promise<Record<string, unknown>> {
  const text = await readBodyText(req, options.limits ?? CONTROL_BODY_LIMITS);
  if (options.emptyIsObject && text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'INVALID_INPUT', 'body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'INVALID_INPUT', 'expected a JSON object');
  return value as Record<string, unknown>;
}
