import pg from 'pg';
import type { LeaderLease } from './LeaderLease';

export interface PostgresLeaderLeaseOptions {
  /** `postgres://…` of the database every instance shares. */
  url: string;
  /** Instances that use the same name elect one leader between them. Default `ondevice-collector`. */
  name?: string;
  /** Shown in `pg_stat_activity.application_name` as `ondevice-leader:<instanceId>`. */
  instanceId?: string;
  /** How often a follower tries to take the lease and the leader proves its session alive. Default 2000 ms. */
  retryIntervalMs?: number;
  /**
   * A lease session silent for this long is ended by the server (`idle_session_timeout`), which releases
   * the lock: a frozen leader (stopped, swapping, event loop blocked) cannot keep it. Default 6000 ms.
   */
  sessionTimeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * Leader election on a PostgreSQL session-level advisory lock, held on a connection of its own. The lock
 * lives exactly as long as that session: when the leader's process dies the server ends the session
 * (a closed socket at once; TCP keepalive for a vanished host; `idle_session_timeout` for a frozen
 * process) and the next follower attempt, within `retryIntervalMs`, takes over. The leader steps down as
 * soon as a check of its session fails, before another instance can have taken the lock.
 *
 * @example
 * const lease = await openPostgresLeaderLease({ url: process.env.COLLECTOR_DATABASE_URL! });
 * lease.onChange((leader) => log(leader ? 'leading' : 'following'));
 * setInterval(() => lease.isLeader() && prune(), 60_000);
 */
export async function openPostgresLeaderLease(options: PostgresLeaderLeaseOptions): Promise<LeaderLease> {
  const lease = new PostgresLeaderLease(options);
  await lease.attempt();
  lease.schedule();
  return lease;
}

const CLOSE_TIMEOUT_MS = 2000;

class PostgresLeaderLease implements LeaderLease {
  private readonly listeners = new Set<(isLeader: boolean) => void>();
  private readonly name: string;
  private readonly retryIntervalMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly log: (line: string) => void;
  private client: pg.Client | undefined;
  private leader = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private lastError = '';

  constructor(private readonly options: PostgresLeaderLeaseOptions) {
    this.name = options.name ?? 'ondevice-collector';
    this.retryIntervalMs = options.retryIntervalMs ?? 2000;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 6000;
    if (this.sessionTimeoutMs < 2 * this.retryIntervalMs)
      throw new Error('sessionTimeoutMs must be at least twice retryIntervalMs, or a live leader loses its session');
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  isLeader(): boolean {
    return this.leader;
  }

  onChange(callback: (isLeader: boolean) => void): () => void {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.inFlight;
    // Ending the session releases the lock; the other instances see it at their next attempt.
    this.set(false);
    await this.dropClient();
  }

  schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.attempt().finally(() => this.schedule());
    }, this.retryIntervalMs);
    this.timer.unref();
  }

  /** One try (follower) or check (leader); never rejects: a failure means "not leader now". */
  attempt(): Promise<void> {
    this.inFlight ??= this.tryOnce().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async tryOnce(): Promise<void> {
    if (this.closed) return;
    try {
      const client = this.client ?? (await this.connect());
      if (this.leader) {
        // The lock is the session's: a round trip on it proves we still hold it.
        await client.query('SELECT 1');
      } else {
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [this.name]);
        if (r.rows[0]?.ok === true) this.set(true);
      }
      this.lastError = '';
    } catch (e) {
      const message = (e as Error).message;
      if (message !== this.lastError) this.log(`leader: lease session failed (${this.leader ? 'stepping down' : 'following'}): ${message}`);
      this.lastError = message;
      this.set(false);
      await this.dropClient();
    }
  }

  private async connect(): Promise<pg.Client> {
    const keepAliveS = Math.max(1, Math.floor(this.retryIntervalMs / 1000));
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: `ondevice-leader:${this.options.instanceId ?? 'unnamed'}`,
      connectionTimeoutMillis: this.sessionTimeoutMs,
      // A check that does not answer within the session timeout means the session may already be gone.
      query_timeout: this.sessionTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: keepAliveS * 1000,
      // Server side: end the session (and free the lock) when this process stops talking or its host
      // stops answering keepalives. `tcp_user_timeout` bounds unacknowledged sends likewise.
      options: [
        `-c idle_session_timeout=${this.sessionTimeoutMs}`,
        `-c tcp_keepalives_idle=${keepAliveS}`,
        '-c tcp_keepalives_interval=1',
        '-c tcp_keepalives_count=3',
        `-c tcp_user_timeout=${this.sessionTimeoutMs}`,
      ].join(' '),
    });
    client.on('error', (e) => {
      // The server ended the session (idle timeout, restart, network): the lock went with it.
      if (this.client !== client) return;
      this.log(`leader: lease session lost: ${e.message}`);
      this.set(false);
      void this.dropClient();
    });
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => {});
      throw e;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      throw new Error('lease closed');
    }
    this.client = client;
    return client;
  }

  private async dropClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.end().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  private set(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    for (const callback of [...this.listeners]) {
      try {
        callback(leader);
      } catch (e) {
        this.log(`leader: change listener failed: ${(e as Error).message}`);
      }
    }
  }
}
