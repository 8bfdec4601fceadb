import { OnDeviceError } from '../index';

/** A bundled sample input (precached by the service worker, so it works offline too). */
export async function fetchSample(url: string, what: string): Promise<Blob> {
  const response = await fetch(url);
  if (!response.ok) throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch ${what}: HTTP ${response.status}`);
  return response.blob();
}
