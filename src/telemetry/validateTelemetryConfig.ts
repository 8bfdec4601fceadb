import { LIMITS } from '../core/eventSchema';
import { OnDeviceError } from '../core/OnDeviceError';
import type { FederatedOptions, TelemetryConfig } from './TelemetryConfig';

const SITE_KEY_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/**
 * Check what can be checked before any event is sent: the endpoint is an http(s) URL or a path, the
 * sample rate is within 0..1, a site key is one the schema allows. A missing site key is allowed (a
 * collector may need none); a collector that refuses it is reported when it answers.
 */
export function validateTelemetryConfig(config: unknown): TelemetryConfig {
  const invalid = (message: string, field: string) => new OnDeviceError('INVALID_INPUT', `telemetry: ${message}`, { field });
  if (typeof config !== 'object' || config === null) throw invalid('must be { endpoint, siteKey?, sampleRate? } or false', 'telemetry');
  const { endpoint, siteKey, sampleRate, shareInputs, includeInputs, federated } = config as Partial<
    Record<keyof TelemetryConfig, unknown>
  >;
  if (typeof endpoint !== 'string' || !isUrl(endpoint)) {
    throw invalid(`endpoint must be an http(s) URL or a path such as "/v1/events", got ${JSON.stringify(endpoint)}`, 'endpoint');
  }
  if (sampleRate !== undefined && (typeof sampleRate !== 'number' || !(sampleRate >= 0 && sampleRate <= 1))) {
    throw invalid(`sampleRate must be a number within 0..1, got ${String(sampleRate)}`, 'sampleRate');
  }
  if (
    siteKey !== undefined &&
    (typeof siteKey !== 'string' || siteKey.length > LIMITS.maxSiteKeyLength || !SITE_KEY_PATTERN.test(siteKey))
  ) {
    throw invalid(`siteKey must be 1..${LIMITS.maxSiteKeyLength} characters of A-Z a-z 0-9 _ . : -`, 'siteKey');
  }
  for (const [field, value] of Object.entries({ shareInputs, includeInputs })) {
    if (value !== undefined && typeof value !== 'boolean') throw invalid(`${field} must be true or false, got ${String(value)}`, field);
  }
  if (federated !== undefined && typeof federated !== 'boolean') {
    if (typeof federated !== 'object' || federated === null || Array.isArray(federated))
      throw invalid('federated must be true, false or { pollIntervalMs?, maxExamplesPerVersion? }', 'federated');
    const { pollIntervalMs, maxExamplesPerVersion, ...unknown } = federated as Partial<Record<keyof FederatedOptions, unknown>>;
    const [extra] = Object.keys(unknown);
    if (extra !== undefined) throw invalid(`federated has no option ${JSON.stringify(extra)}`, 'federated');
    if (pollIntervalMs !== undefined && !(typeof pollIntervalMs === 'number' && Number.isFinite(pollIntervalMs) && pollIntervalMs >= 100))
      throw invalid(`federated.pollIntervalMs must be a number ≥ 100, got ${String(pollIntervalMs)}`, 'federated.pollIntervalMs');
    if (
      maxExamplesPerVersion !== undefined &&
      !(
        Number.isSafeInteger(maxExamplesPerVersion) &&
        (maxExamplesPerVersion as number) >= 1 &&
        (maxExamplesPerVersion as number) <= 100_000
      )
    )
      throw invalid(
        `federated.maxExamplesPerVersion must be an integer within 1..100000, got ${String(maxExamplesPerVersion)}`,
        'federated.maxExamplesPerVersion',
      );
  }
  return config as TelemetryConfig;
}

/** The federated options in force (`federated: true` means the defaults); undefined when federated is off. */
export function federatedOptions(config: TelemetryConfig): Required<FederatedOptions> | undefined {
  const { federated } = config;
  if (!federated) return undefined;
  const given = federated === true ? {} : federated;
  return { pollIntervalMs: given.pollIntervalMs ?? 60_000, maxExamplesPerVersion: given.maxExamplesPerVersion ?? 1000 };
}

/** Whether the user agreed to share model inputs (`shareInputs`, or its deprecated alias `includeInputs`). */
export function sharesInputs(config: TelemetryConfig): boolean {
  return config.shareInputs ?? config.includeInputs ?? false;
}

function isUrl(endpoint: string): boolean {
  if (endpoint === '' || /\s/.test(endpoint)) return false;
  // A bare word ("collector") resolves to *something*; only an absolute URL or an explicit path is meant as one.
  if (!/^(https?:\/\/|\/|\.\.?\/)/i.test(endpoint)) return false;
  try {
    const url = new URL(endpoint, globalThis.location?.href ?? 'http://localhost/');
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
