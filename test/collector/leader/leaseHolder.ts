// A process that only holds a leader lease, for the fail-over tests: prints `lease: leader` and
// `lease: follower` on each change, and stays up until killed.
import { openPostgresLeaderLease } from '../../../src/db/openPostgresLeaderLease';

const lease = await openPostgresLeaderLease({
  url: process.env.LEASE_URL!,
  instanceId: process.env.LEASE_INSTANCE ?? 'holder',
  retryIntervalMs: Number(process.env.LEASE_RETRY_MS ?? 500),
  sessionTimeoutMs: Number(process.env.LEASE_SESSION_TIMEOUT_MS ?? 3000),
  log: (line) => console.log(line),
});
lease.onChange((leader) => console.log(`lease: ${leader ? 'leader' : 'follower'}`));
console.log(`lease: ${lease.isLeader() ? 'leader' : 'follower'}`);
setInterval(() => {}, 60_000);
