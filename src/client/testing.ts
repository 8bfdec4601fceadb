import type { Model } from './Model';
import { activeTelemetry } from '../telemetry/telemetryClient';
import { workerCount } from './workerPool';

/** Test-only hooks (not part of the stable API; used by our real-browser tests and the demo's diagnostics). */
export const testing = {
  workerCount,
  /** Session ids of the page's telemetry clients. */
  telemetrySessionIds: () => activeTelemetry().map((t) => t.sessionId),
  /** Kill the worker hosting a model, as a crash would. */
  killWorker(model: Model): void {
    model.workerHandle.terminate('the worker was killed');
  },
  /** Destroy the WebGPU device of the model's worker, as a driver reset would. */
  loseDevice(model: Model): Promise<boolean> {
    return model.workerHandle.call((api) => api.destroyDeviceForTest());
  },
  memory(model: Model) {
    return model.workerHandle.call((api) => api.memory());
  },
};
