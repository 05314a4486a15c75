/**
 * Where the analyst is, all in the URL hash: `#/<view>/<args…>?from=…&to=…`. The investigation
 * window (`from`, `to`) rides along on every link the workbench makes, so it survives every view
 * and pivot, a reload, and a link pasted to a colleague (or sent by a SOAR playbook:
 * `/ui/#/context/<indicator>?from=…&to=…`). So does the investigation (`inv=…`) whose pins and
 * notes the event grids show.
 */

export interface TimeWindow {
  from: string;
  to: string;
}

export interface Route {
  /** Decoded path segments: ['entity', 'identity', 'arn:aws:iam::…:user/bob']. */
  path: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const pathText = q < 0 ? text : text.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const path = pathText
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { path, params };
}

/** The window the URL names, when it names a valid one. */
export function windowOf(route: Route): TimeWindow | null {
  const from = route.params.get('from');
  const to = route.params.get('to');
  if (!from || !to || Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to))) return null;
  return { from, to };
}

/** An investigation id (what the server takes: letters, digits, . _ -, up to 64). */
export const INVESTIGATION_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

let investigation: string | null = null;

/**
 * The investigation the URL names (`inv=…`): its pins and notes show in every event grid, and every
 * link the workbench makes carries it, as it carries the window.
 */
export function currentInvestigation(): string | null {
  return investigation;
}

export function setInvestigation(route: Route): void {
  const inv = route.params.get('inv');
  investigation = inv && INVESTIGATION_ID.test(inv) ? inv : null;
}

/** A link inside the workbench, carrying the window and the investigation (and any other parameters given). */
export function href(path: readonly string[], window: TimeWindow, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ ...extra, ...(investigation ? { inv: investigation } : {}), from: window.from, to: window.to });
  return `#/${path.map((s) => encodeURIComponent(s)).join('/')}?${params.toString()}`;
}

/** The kinds of entity page, with the argument name their root field takes. */
export const ENTITY_KINDS = ['identity', 'ip', 'resource', 'session', 'account'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

export function isEntityKind(text: string | undefined): text is EntityKind {
  return (ENTITY_KINDS as readonly string[]).includes(text ?? '');
}

export function entityHref(kind: EntityKind, id: string, window: TimeWindow): string {
  return href(['entity', kind, id], window);
}
