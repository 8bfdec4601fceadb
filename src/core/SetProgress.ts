import type { Progress } from './protocol';

/** Reports cross a thread boundary (a message each way): a few dozen a second is plenty for a progress bar. */
const REPORT_EVERY_MS = 50;

/** One file's progress as its loader reports it (the same shape as Progress, for that file alone). */
export type FileProgress = Pick<Progress, 'loaded' | 'total' | 'lengthComputable' | 'fromCache'>;

/**
 * Progress over every file of a model (the ONNX file first, then its external data files): each file's loader
 * reports its own bytes, and the caller sees `loaded`/`total` over the whole set. A file whose size is not yet
 * known counts what has arrived, and makes `lengthComputable` false until it is known.
 *
 * @example
 * const progress = new SetProgress(onProgress, [{ key: 'model', bytes: 9000 }, { key: 'model.onnx_data' }])
 * fetchFile(url, { onProgress: progress.reporter('model.onnx_data', 'model.onnx_data') })
 */
export class SetProgress {
  private readonly files = new Map<string, { loaded: number; bytes?: number }>();
  private lastReportMs = -Infinity;

  constructor(
    private readonly onProgress: ((p: Progress) => void) | undefined,
    files: { key: string; bytes?: number }[] = [],
  ) {
    for (const f of files) this.expect(f.key, f.bytes);
  }

  /** A file the set includes, with its size when known (a later call with a size fills it in). */
  expect(key: string, bytes?: number): void {
    const known = this.files.get(key);
    if (known) known.bytes ??= bytes;
    else this.files.set(key, { loaded: 0, bytes });
  }

  /** The callback for one file's loader; `file` is what `Progress.file` says while it reports (absent for the ONNX file). */
  reporter(key: string, file?: string): (p: FileProgress) => void {
    this.expect(key);
    return (p) => {
      const entry = this.files.get(key)!;
      entry.loaded = p.loaded;
      if (p.lengthComputable) entry.bytes = p.total;
      // Each report crosses to the page: at most one every REPORT_EVERY_MS, and always the end of a file.
      const now = performance.now();
      const fileDone = p.lengthComputable && p.loaded >= p.total;
      if (!fileDone && now - this.lastReportMs < REPORT_EVERY_MS) return;
      this.lastReportMs = now;
      this.report(file, p.fromCache);
    };
  }

  private report(file: string | undefined, fromCache: boolean | undefined): void {
    if (!this.onProgress) return;
    let loaded = 0;
    let total = 0;
    let lengthComputable = true;
    for (const f of this.files.values()) {
      loaded += f.loaded;
      total += f.bytes ?? f.loaded;
      if (f.bytes === undefined) lengthComputable = false;
    }
    this.onProgress({
      loaded,
      total: Math.max(total, loaded),
      lengthComputable,
      ...(file !== undefined ? { file } : {}),
      ...(fromCache !== undefined ? { fromCache } : {}),
    });
  }
}
