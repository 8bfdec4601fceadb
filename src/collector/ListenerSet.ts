/**
 * Subscribers to one kind of news (events stored, alert transitions). A listener's failure is logged;
 * it never fails the work that already happened (an ingest that committed).
 *
 * @example
 * const stored = new ListenerSet<readonly TelemetryEvent[]>(log);
 * const unsubscribe = stored.add((events) => console.log(events.length));
 * stored.emit(events);
 */
export class ListenerSet<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(private readonly log: (line: string) => void) {}

  /** Returns the unsubscribe function. */
  add(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(value: T): void {
    for (const listener of this.listeners) {
      try {
        listener(value);
      } catch (e) {
        this.log(`collector: listener failed: ${(e as Error).message}`);
      }
    }
  }
}
