import { chromium } from 'playwright-core';
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const p = await b.newPage();
console.log(await p.evaluate(() => {
  const out = [];
  for (const gb of [2.1, 3, 4.5]) { try { const a = new Uint8Array(gb * 1e9); a[a.length - 1] = 1; out.push(`${gb}GB ok`); } catch (e) { out.push(`${gb}GB ${e}`); } }
  try { new WebAssembly.Memory({ initial: 65536, maximum: 65536 }); out.push('wasm 4GiB ok'); } catch (e) { out.push('wasm4 ' + e); }
  return out.join('; ') + ' ' + navigator.userAgent + ' deviceMemory=' + navigator.deviceMemory;
}));
await b.close();
