// A trainer that never finishes and starts a process of its own (in its process group): what a server
// killed with SIGKILL leaves behind. Writes both process ids to the file after `--pids`.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const file = process.argv[process.argv.indexOf('--pids') + 1];
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
writeFileSync(file, JSON.stringify({ trainer: process.pid, child: child.pid }));
setInterval(() => {}, 1000);
