/** A few DOM helpers: the workbench builds its pages with these, no framework. */

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type AttrValue = string | number | boolean | null | undefined | ((event: Event) => void);

/**
 * An element with attributes and children: `on…` attributes are listeners, `false` / `null` leave
 * an attribute out, text children become text nodes (never parsed as HTML).
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value != null) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (typeof child === 'string' || typeof child === 'number') parent.appendChild(document.createTextNode(String(child)));
    else if (child instanceof Node) parent.appendChild(child);
    else append(parent, child);
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** An ISO time as `2026-03-02 03:00:14Z` (UTC, seconds), or a dash. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '–';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function count(n: number | null | undefined): string {
  return n == null ? '–' : n.toLocaleString('en-US');
}

/** A label/value list of facts; each value carries `data-field` so a reader (or a test) can find it. */
export function facts(rows: readonly [field: string, label: string, value: Child][]): HTMLElement {
  return h(
    'dl',
    { class: 'facts' },
    rows.map(([field, label, value]) => [h('dt', {}, label), h('dd', { 'data-field': field }, value ?? '–')]),
  );
}

export function message(kind: 'error' | 'empty' | 'loading', text: string): HTMLElement {
  return h('p', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** Offers text as a file download (CSV / JSON export). */
export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: name });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
