import os from 'node:os';

/** `hostname:pid`: unique among the instances on one database unless two hosts share a name. */
export function defaultInstanceId(): string {
  return `${os.hostname()}:${process.pid}`;
}
