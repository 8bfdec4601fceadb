// Inside a sandbox child only: how a task says that loading is over and its run starts, so the server times the run
// on its own (SandboxCallOptions.runTimeoutMs). sandboxChild points the hook at the call in progress.
let report: (() => void) | undefined;

/**
 * Called by a task once its model is loaded, right before the run: from here the call's run limit applies.
 *
 * @example
 * const model = await modelFor(entry); reportRunning(); return model.run(feeds);
 */
export function reportRunning(): void {
  report?.();
}

/** @internal sandboxChild: the hook for the call in progress (undefined between calls). */
export function setRunningReporter(hook: (() => void) | undefined): void {
  report = hook;
}
