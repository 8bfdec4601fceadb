// What a load balancer does in front of several collector instances, as the fleet test and bench need it:
// each batch goes to the next instance in turn; a batch that is not acknowledged (connection refused or
// cut, timeout, 5xx) is sent again to another instance, and an instance that failed is left out for a
// while (a health check's job). A batch counts as delivered only on a 200.
import { Agent, request } from 'node:http';

export interface SendResult {
  /** The instance that acknowledged it. */
  url: string;
  /** From the first attempt to the acknowledgement, retries included. */
  ackMs: number;
  /** Attempts that failed before the acknowledgement. */
  retries: number;
  /** Why each of them failed (`HTTP 503`, `ECONNREFUSED`, `request timed out`, …). */
  failures: string[];
  stored: number;
  duplicates: number;
}

export interface FailoverSenderOptions {
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
  /** How long an instance that failed is skipped. Default 2 s. */
  downForMs?: number;
  /** Give up on a batch after this long without an acknowledgement. Default 30 s. */
  giveUpAfterMs?: number;
  /** Keep-alive sockets per instance. Default 8. */
  maxSockets?: number;
}

export class FailoverSender {
  private readonly agents: Agent[];
  private readonly downUntil: number[];
  private next = 0;
  private readonly timeoutMs: number;
  private readonly downForMs: number;
  private readonly giveUpAfterMs: number;

  constructor(
    private readonly urls: readonly string[],
    options: FailoverSenderOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.downForMs = options.downForMs ?? 2000;
    this.giveUpAfterMs = options.giveUpAfterMs ?? 30_000;
    this.agents = urls.map(() => new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 8 }));
    this.downUntil = urls.map(() => 0);
  }

  /** POST `body` to /v1/events until one instance acknowledges it; rejects after `giveUpAfterMs`. */
  async send(body: string): Promise<SendResult> {
    const t0 = performance.now();
    let retries = 0;
    let lastError = '';
    const failures: string[] = [];
    for (;;) {
      const i = this.pick();
      try {
        const r = await this.post(i, body);
        if (r.status === 200) {
          const parsed = JSON.parse(r.text) as { stored: number; duplicates: number };
          return {
            url: this.urls[i],
            ackMs: performance.now() - t0,
            retries,
            failures,
            stored: parsed.stored,
            duplicates: parsed.duplicates,
          };
        }
        lastError = `HTTP ${r.status}: ${r.text.slice(0, 200)}`;
        failures.push(`HTTP ${r.status}`);
        if (r.status < 500 && r.status !== 429) throw new Error(`batch refused by ${this.urls[i]}: ${lastError}`);
      } catch (e) {
        if ((e as Error).message.startsWith('batch refused')) throw e;
        lastError = (e as Error).message;
        failures.push((e as NodeJS.ErrnoException).code ?? lastError);
      }
      this.downUntil[i] = performance.now() + this.downForMs;
      retries++;
      if (performance.now() - t0 > this.giveUpAfterMs)
        throw new Error(`no instance acknowledged the batch within ${this.giveUpAfterMs} ms: ${lastError}`);
      // Every instance is marked down: wait a little before the next round rather than spin.
      if (this.downUntil.every((t) => t > performance.now())) await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    for (const a of this.agents) a.destroy();
  }

  private pick(): number {
    const now = performance.now();
    for (let k = 0; k < this.urls.length; k++) {
      const i = (this.next + k) % this.urls.length;
      if (this.downUntil[i] <= now) {
        this.next = i + 1;
        return i;
      }
    }
    return this.next++ % this.urls.length;
  }

  private post(i: number, body: string): Promise<{ status: number; text: string }> {
    const url = new URL('/v1/events', this.urls[i]);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agents[i],
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: url.pathname,
          headers: { 'content-type': 'text/plain;charset=UTF-8', 'content-length': Buffer.byteLength(body) },
          timeout: this.timeoutMs,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }
}
