export interface TabSpec {
  /** Also the URL hash that opens the tab (`#ocr`). */
  id: string;
  label: string;
  panel: HTMLElement;
  /**
   * Called each time someone opens the tab: a click, a key, or a URL hash that names it. Not called for
   * the tab shown by default on a bare URL: a tab loads its models here, and nobody asked for them yet.
   */
  onOpen?: () => void;
}

/**
 * An ARIA tablist (https://www.w3.org/WAI/ARIA/apg/patterns/tabs/): arrow keys, Home and End move
 * between tabs and activate them; the URL hash selects a tab and follows the selection. The fallback
 * tab is shown without being opened (see `onOpen`), and its URL stays bare until someone picks a tab.
 */
export function createTabs(list: HTMLElement, tabs: TabSpec[], fallbackId: string): { select(id: string, focus?: boolean): void } {
  list.setAttribute('role', 'tablist');
  const buttons = tabs.map((tab) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.id = `tab-${tab.id}`;
    button.textContent = tab.label;
    button.setAttribute('role', 'tab');
    button.setAttribute('aria-controls', tab.panel.id);
    tab.panel.setAttribute('role', 'tabpanel');
    tab.panel.setAttribute('aria-labelledby', button.id);
    tab.panel.tabIndex = 0;
    button.addEventListener('click', () => select(tab.id));
    list.append(button);
    return button;
  });

  function select(id: string, focus = false, open = true): void {
    const index = Math.max(
      0,
      tabs.findIndex((t) => t.id === id),
    );
    tabs.forEach((tab, i) => {
      const selected = i === index;
      buttons[i].setAttribute('aria-selected', String(selected));
      buttons[i].tabIndex = selected ? 0 : -1;
      tab.panel.hidden = !selected;
    });
    if (focus) buttons[index].focus();
    const tab = tabs[index];
    if (!open) return;
    if (location.hash.slice(1) !== tab.id) history.replaceState(null, '', `#${tab.id}`);
    tab.onOpen?.();
  }

  list.addEventListener('keydown', (event) => {
    const current = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (current < 0) return;
    const last = tabs.length - 1;
    const next = { ArrowRight: current === last ? 0 : current + 1, ArrowLeft: current === 0 ? last : current - 1, Home: 0, End: last }[
      event.key
    ];
    if (next === undefined) return;
    event.preventDefault();
    select(tabs[next].id, true);
  });
  addEventListener('hashchange', () => select(location.hash.slice(1)));
  const named = tabs.some((t) => t.id === location.hash.slice(1));
  select(named ? location.hash.slice(1) : fallbackId, false, named);
  return { select };
}
