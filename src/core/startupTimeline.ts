/** User Timing marks and resource timings of one context, times relative to its `timeOrigin` (ms since the epoch). */
export interface StartupTimeline {
  timeOrigin: number;
  marks: { name: string; startTime: number; detail?: unknown }[];
  resources: { name: string; startTime: number; responseEnd: number; transferSize: number }[];
}

/** This context's `ondevice:` marks and resource timings (the warm-start benchmark lines them up by `timeOrigin`). */
export function startupTimeline(): StartupTimeline {
  const marks = performance
    .getEntriesByType('mark')
    .filter((m) => m.name.startsWith('ondevice:'))
    .map((m) => ({ name: m.name, startTime: m.startTime, detail: (m as PerformanceMark).detail as unknown }));
  const resources = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => ({
    name: r.name,
    startTime: r.startTime,
    responseEnd: r.responseEnd,
    transferSize: r.transferSize,
  }));
  return { timeOrigin: performance.timeOrigin, marks, resources };
}
