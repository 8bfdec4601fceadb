// `npm test` starts throwaway PostgreSQL clusters (test/helpers/postgres.ts) from Debian's server package,
// never a downloaded binary. Installs `postgresql` when initdb is missing and we are root, like Chromium.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

function findInitdb() {
  try {
    const bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const initdb = path.join(bindir.trim(), 'initdb');
    if (existsSync(initdb)) return initdb;
  } catch {
    // no pg_config (it ships with libpq-dev): look where Debian installs the server instead.
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin', 'initdb') : undefined;
}

if (!findInitdb()) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error('PostgreSQL server is missing (no initdb): run `sudo apt-get install -y postgresql` and try again.');
    process.exit(1);
  }
  console.log('PostgreSQL server is missing: installing Debian postgresql (apt-get install -y postgresql)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'postgresql'], { stdio: 'inherit', env });
  if (!findInitdb()) {
    console.error('apt-get finished but initdb is still missing; install postgresql by hand.');
    process.exit(1);
  }
}
