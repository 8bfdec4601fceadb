import { pageGlobals } from '../core/pageGlobals';
import { newId } from './newId';

const KEY = 'ondevice.installId';
let memory: string | undefined;

/** An anonymous id per browser profile (localStorage); per page load where storage is blocked. */
export function installId(): string {
  try {
    const stored = pageGlobals().localStorage?.getItem(KEY);
    if (stored) return stored;
    const id = newId();
    pageGlobals().localStorage?.setItem(KEY, id);
    return id;
  } catch {
    memory ??= newId();
    return memory;
  }
}
