import { modelStore, type StoredModelInfo } from '../index';
import { showError } from './describeError';
import { escapeHtml, formatBytes } from './format';

/**
 * The model cache manager: what is stored on this device, how much room it takes, delete buttons, and
 * "Open" for models kept from the playground.
 */
export function createStoragePanel(
  details: HTMLDetailsElement,
  onOpenLocal: (model: StoredModelInfo) => void,
): { refresh(): Promise<void> } {
  details.innerHTML = `
    <summary>Stored models <span id="storage-summary" class="hint"></span></summary>
    <p id="storage"></p>
    <div id="storage-error" class="error" role="alert" hidden></div>
    <div class="table-scroll"><table id="stored"><caption class="visually-hidden">Models stored on this device</caption><tbody></tbody></table></div>
    <button type="button" id="storage-clear" class="secondary">Delete all stored models</button>`;
  const $ = <T extends HTMLElement>(id: string) => details.querySelector<T>(`#${id}`)!;
  let stored: StoredModelInfo[] = [];

  async function refresh(): Promise<void> {
    try {
      const [list, usage] = await Promise.all([modelStore.list(), modelStore.usage()]);
      stored = list;
      const available = Number.isFinite(usage.availableBytes) ? formatBytes(usage.availableBytes) : 'unknown';
      $('storage').textContent =
        `Storage: ${formatBytes(usage.modelBytes)} in models, ${formatBytes(usage.usedBytes)} used, ${available} available${usage.persisted ? ' (persistent)' : ''}.`;
      $('storage-summary').textContent = `(${list.length}, ${formatBytes(usage.modelBytes)})`;
      $('stored').querySelector('tbody')!.innerHTML = list
        .map((m, i) => {
          const local = m.version === 'local';
          return (
            `<tr><th scope="row">${escapeHtml(m.id)}</th><td>${escapeHtml(local ? 'from your files' : m.version ? `v${m.version}` : m.url)}</td>` +
            `<td>${formatBytes(m.bytes)}${m.complete ? '' : ` (${formatBytes(m.storedBytes)} so far)`}</td><td class="actions">` +
            (local && m.complete
              ? `<button type="button" class="secondary" data-open="${i}" aria-label="Open ${escapeHtml(m.id)} in the playground">Open</button> `
              : '') +
            `<button type="button" class="secondary" data-delete="${i}" aria-label="Delete ${escapeHtml(m.id)}">Delete</button></td></tr>`
          );
        })
        .join('');
      $('storage-clear').hidden = list.length === 0;
    } catch (error) {
      showError($('storage-error'), error);
    }
  }

  $('stored').addEventListener('click', async (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button');
    if (!button) return;
    const model = stored[Number(button.dataset.open ?? button.dataset.delete)];
    if (!model) return;
    if (button.dataset.open !== undefined) return onOpenLocal(model);
    await modelStore.delete(model.id, model.version).catch((error: unknown) => showError($('storage-error'), error));
    await refresh();
  });
  details.addEventListener('toggle', () => void (details.open && refresh()));
  $('storage-clear').addEventListener('click', async () => {
    await modelStore.clear().catch((error: unknown) => showError($('storage-error'), error));
    await refresh();
  });
  return { refresh };
}
