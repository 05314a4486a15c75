/**
 * The explorer: GraphiQL served from node_modules (no CDN), so it works air-gapped, with
 * hunting queries preloaded as tabs.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { exampleQueries } from './examples';

const ASSETS: Record<string, { pkg: string; file: string; type: string }> = {
  'react.production.min.js': { pkg: 'react', file: 'umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.production.min.js': { pkg: 'react-dom', file: 'umd/react-dom.production.min.js', type: 'text/javascript' },
  'graphiql.min.js': { pkg: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript' },
  'graphiql.min.css': { pkg: 'graphiql', file: 'graphiql.min.css', type: 'text/css' },
};

const cache = new Map<string, Buffer>();
function asset(name: string): Buffer {
  let data = cache.get(name);
  if (!data) {
    // Package `exports` hide these files from require.resolve; their package.json is reachable.
    const { pkg, file } = ASSETS[name];
    data = readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), file));
    cache.set(name, data);
  }
  return data;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Headers of every page and answer: no framing (clickjacking), no content sniffing, no referrer
 * leaking a query string, and the page isolated from other origins' windows.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

/**
 * A browser navigating to /graphql (it asks for HTML and sends no query) wants the explorer; a
 * script's GET carries a query or asks for JSON.
 */
export function wantsExplorer(accept: string | undefined, params: URLSearchParams): boolean {
  if (params.has('query') || params.has('extensions') || params.has('documentId')) return false;
  return (accept ?? '').split(',').some((type) => type.trim().toLowerCase().startsWith('text/html'));
}

/** JSON for a <script> element: `<` escaped so no text can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function explorerHtml(window: { from: Date; to: Date }): string {
  const examples = exampleQueries({ from: window.from.toISOString(), to: window.to.toISOString() });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ScoutQL explorer</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/explorer/assets/graphiql.min.css">
<style>html, body, #explorer { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="explorer">Loading the ScoutQL explorer…</div>
<script src="/explorer/assets/react.production.min.js"></script>
<script src="/explorer/assets/react-dom.production.min.js"></script>
<script src="/explorer/assets/graphiql.min.js"></script>
<script>
  const tabs = ${scriptJson(examples.map((q) => ({ query: q.query, variables: JSON.stringify(q.variables, null, 2) })))};
  const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  ReactDOM.createRoot(document.getElementById('explorer')).render(
    // The variables editor starts from the variables prop, not from the first tab: hand it the first tab's.
    React.createElement(GraphiQL, { fetcher, defaultTabs: tabs, variables: tabs[0].variables, defaultEditorToolsVisibility: true, shouldPersistHeaders: false }),
  );
</script>
</body>
</html>
`;
}

/** Answers GET / , /explorer and its assets; false when the path is not the explorer's. */
export function serveExplorer(pathname: string, res: ServerResponse, window: () => { from: Date; to: Date }): boolean {
  if (pathname === '/' || pathname === '/explorer' || pathname === '/explorer/') {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // The page may load nothing from anywhere else: air-gapped by construction, not by luck.
      'content-security-policy': CSP,
      ...SECURITY_HEADERS,
    });
    res.end(explorerHtml(window()));
    return true;
  }
  if (pathname === '/favicon.ico') {
    res.writeHead(204);
    res.end();
    return true;
  }
  const prefix = '/explorer/assets/';
  if (pathname.startsWith(prefix)) {
    const name = pathname.slice(prefix.length);
    if (!Object.hasOwn(ASSETS, name)) return false;
    const body = asset(name);
    res.writeHead(200, {
      'content-type': `${ASSETS[name].type}; charset=utf-8`,
      'cache-control': 'public, max-age=3600',
      ...SECURITY_HEADERS,
    });
    res.end(body);
    return true;
  }
  return false;
}
