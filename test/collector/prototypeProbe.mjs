// Preloaded into a collector under test (NODE_OPTIONS=--import …): on SIGUSR2 it prints which
// built-in prototypes changed since start-up, so a test observes the collector process itself,
// not the test runner's own Object.prototype.
import { isMainThread } from 'node:worker_threads';

const watched = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype, String: String.prototype };

function snapshot(proto) {
  return new Map(Reflect.ownKeys(proto).map((key) => [key, Object.getOwnPropertyDescriptor(proto, key)]));
}

const before = Object.fromEntries(Object.entries(watched).map(([name, proto]) => [name, snapshot(proto)]));

function changes() {
  const out = [];
  for (const [name, proto] of Object.entries(watched)) {
    const now = snapshot(proto);
    for (const [key, d] of now) {
      const was = before[name].get(key);
      const same = was && was.value === d.value && was.get === d.get && was.set === d.set;
      if (!same) out.push(`${name}.prototype.${String(key)}`);
    }
    for (const key of before[name].keys()) if (!now.has(key)) out.push(`${name}.prototype.${String(key)} (deleted)`);
  }
  if (Object.getPrototypeOf(Object.prototype) !== null) out.push('Object.prototype has a prototype');
  return out;
}

if (isMainThread) {
  process.on('SIGUSR2', () => process.stdout.write(`prototype-probe ${JSON.stringify(changes())}\n`));
}
