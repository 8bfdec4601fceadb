// `npm pack` this repository (which runs `prepack`: scripts/buildPackage.ts) and install the tarball into
// a fresh app in a temp folder, the way a user installs a published package: a real folder in
// node_modules, not a symlink.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** What `npm pack --json` reports about one tarball. */
export interface PackReport {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

export interface PackedApp {
  /** The fresh app: package.json, node_modules/ondevice (installed from the tarball). */
  project: string;
  tarball: string;
  report: PackReport;
}

/** Packs `repoRoot` and installs it into a new app in a temp folder. Every step is bounded by `timeoutMs`. */
export async function packAndInstall(repoRoot: string, timeoutMs: number): Promise<PackedApp> {
  const work = mkdtempSync(path.join(tmpdir(), 'ondevice-pack-'));
  const packed = await run(NPM, ['pack', '--json', '--pack-destination', work], {
    cwd: repoRoot,
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  // prepack's own log lines come before the JSON report.
  const json = packed.stdout.slice(packed.stdout.search(/^\[/m));
  const [report] = JSON.parse(json) as PackReport[];
  const tarball = path.join(work, report.filename);

  const project = path.join(work, 'app');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'ondevice-user', private: true, type: 'module' }));
  // --prefer-offline: the package's one dependency (idb) comes from the npm cache when it is there.
  await run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], {
    cwd: project,
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { project, tarball, report };
}
