/**
 * The workbench: a header with the views and the investigation window, and the view the URL hash
 * names. Every view renders from the hash alone, so a reload or a shared link shows the same thing.
 */
import './style.css';
import { AuthRequired, credentials, gql, setCredentials } from './api';
import { h, message, replaceChildren } from './dom';
import {
  currentInvestigation,
  href,
  INVESTIGATION_ID,
  isEntityKind,
  parseHash,
  setInvestigation,
  windowOf,
  type Route,
  type TimeWindow,
} from './route';
import { renderCoverage } from './views/coverage';
import { renderEntity } from './views/entity';
import { renderFindings } from './views/findings';
import { renderGraph } from './views/graph';
import { renderIndicators } from './views/indicators';
import { renderPins } from './views/pins';
import { renderSelection } from './views/selection';

let defaultWindow: TimeWindow | null = null;

async function lakeDefaultWindow(): Promise<TimeWindow> {
  defaultWindow ??= (await gql<{ lake: { defaultWindow: TimeWindow } }>('{ lake { defaultWindow { from to } } }')).lake.defaultWindow;
  return defaultWindow;
}

/** `2026-03-02T00:00:00.000Z` → `2026-03-02T00:00:00Z`, the form the inputs show. */
function shortIso(iso: string): string {
  return new Date(iso).toISOString().replace('.000Z', 'Z');
}

function header(route: Route, window: TimeWindow): HTMLElement {
  const view = route.path[0] ?? '';
  const nav = (path: string[], label: string, active: boolean) =>
    h('a', { href: href(path, window), class: active ? 'active' : null }, label);
  const from = h('input', { id: 'window-from', value: shortIso(window.from), size: 21, 'aria-label': 'Window start (UTC)' });
  const to = h('input', { id: 'window-to', value: shortIso(window.to), size: 21, 'aria-label': 'Window end (UTC)' });
  const apply = (e: Event): void => {
    e.preventDefault();
    const next = { from: from.value.trim(), to: to.value.trim() };
    if (Number.isNaN(Date.parse(next.from)) || Number.isNaN(Date.parse(next.to)) || Date.parse(next.from) >= Date.parse(next.to)) {
      from.setCustomValidity('give two ISO times, the first before the second');
      from.reportValidity();
      return;
    }
    const params = new URLSearchParams(route.params);
    params.set('from', shortIso(next.from));
    params.set('to', shortIso(next.to));
    location.hash = `#/${route.path.map((s) => encodeURIComponent(s)).join('/')}?${params.toString()}`;
  };
  const inv = h('input', {
    id: 'investigation',
    value: currentInvestigation() ?? '',
    size: 18,
    placeholder: 'e.g. case-042',
    'aria-label': 'Investigation',
  });
  const openInvestigation = (e: Event): void => {
    e.preventDefault();
    const id = inv.value.trim();
    if (id && !INVESTIGATION_ID.test(id)) {
      inv.setCustomValidity('letters, digits, . _ - (up to 64)');
      inv.reportValidity();
      return;
    }
    const params = new URLSearchParams(route.params);
    if (id) params.set('inv', id);
    else params.delete('inv');
    location.hash = `#/${route.path.map((s) => encodeURIComponent(s)).join('/')}?${params.toString()}`;
  };
  return h(
    'header',
    { class: 'top' },
    h('span', { class: 'brand' }, 'ScoutQL'),
    h(
      'nav',
      {},
      nav([], 'Indicators', ['', 'search', 'context'].includes(view)),
      nav(['findings'], 'Findings', view === 'findings'),
      nav(['coverage'], 'Coverage', view === 'coverage'),
      h('a', { href: '/explorer' }, 'GraphiQL'),
    ),
    h(
      'form',
      { class: 'window', id: 'window', onsubmit: apply },
      h('label', {}, 'Window (UTC) '),
      from,
      ' → ',
      to,
      h('button', { type: 'submit' }, 'Apply'),
    ),
    h(
      'form',
      { class: 'investigation', id: 'investigation-form', onsubmit: openInvestigation },
      h('label', { for: 'investigation' }, 'Investigation '),
      inv,
      h('button', { type: 'submit', id: 'investigation-open' }, 'Open'),
      currentInvestigation() ? h('a', { href: href(['pins'], window), id: 'investigation-pins' }, 'Pins') : null,
    ),
  );
}

function signIn(root: HTMLElement, reason: string): void {
  const token = h('input', { id: 'credentials', type: 'password', autocomplete: 'off', size: 60, 'aria-label': 'API key or token' });
  replaceChildren(
    root,
    h(
      'form',
      {
        class: 'sign-in',
        onsubmit: (e) => {
          e.preventDefault();
          setCredentials(token.value.trim() || null);
          void render();
        },
      },
      h('h1', {}, 'Sign in'),
      h('p', {}, reason),
      h(
        'p',
        {},
        'Paste an API key (sk_…) or an OIDC access token. It stays in this tab only and goes to this server as Authorization: Bearer.',
      ),
      token,
      h('button', { type: 'submit', id: 'sign-in' }, 'Sign in'),
    ),
  );
}

/** Each render gets a number; a slower, older render never overwrites a newer one. */
let renders = 0;

async function render(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  const mine = ++renders;
  const route = parseHash(location.hash);
  setInvestigation(route);
  let window = windowOf(route);
  try {
    // Asked on every start even when the URL names a window: it is also how the page learns it must sign in.
    const lake = await lakeDefaultWindow();
    if (!window) {
      // No window in the URL: the lake's default one, written into the URL so every link carries it.
      window = { from: shortIso(lake.from), to: shortIso(lake.to) };
      const params = new URLSearchParams(route.params);
      params.set('from', window.from);
      params.set('to', window.to);
      history.replaceState(null, '', `#/${route.path.map((s) => encodeURIComponent(s)).join('/')}?${params.toString()}`);
    }
  } catch (err) {
    if (mine !== renders) return;
    if (err instanceof AuthRequired)
      return signIn(root, credentials() ? 'The server refused these credentials.' : 'This server asks who you are.');
    return replaceChildren(root, message('error', err instanceof Error ? err.message : String(err)));
  }
  if (mine !== renders) return;
  const main = h('main', { id: 'view' });
  replaceChildren(root, header(route, window), main);
  const [view, ...args] = route.path;
  try {
    if (view === 'entity' && isEntityKind(args[0]) && args[1]) await renderEntity(main, args[0], args[1], window);
    else if (view === 'graph' && isEntityKind(args[0]) && args[1]) await renderGraph(main, args[0], args[1], window);
    else if (view === 'findings') await renderFindings(main, window);
    else if (view === 'coverage') await renderCoverage(main, window);
    else if (view === 'pins') await renderPins(main, window);
    else if (view === 'selection') renderSelection(main, route.params.getAll('n'), window);
    else if (view === 'context' && args[0]) renderIndicators(main, [args.join('/')], window);
    else if (view === 'search') renderIndicators(main, (route.params.get('q') ?? '').split('\n').filter(Boolean), window);
    else renderIndicators(main, [], window);
  } catch (err) {
    if (mine !== renders) return;
    if (err instanceof AuthRequired) return signIn(root, 'The server refused these credentials.');
    replaceChildren(main, message('error', err instanceof Error ? err.message : String(err)));
  }
}

window.addEventListener('hashchange', () => void render());
void render();
