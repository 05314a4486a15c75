/**
 * The explorer: GraphiQL served from node_modules (no CDN), so it works air-gapped, with
 * hunting queries preloaded as tabs.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { EXAMPLE_QUERIES } from './examples';

const ASSETS: Record<string, { module: string; type: string }> = {
  'react.production.min.js': { module: 'react/umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.production.min.js': { module: 'react-dom/umd/react-dom.production.min.js', type: 'text/javascript' },
  'graphiql.min.js': { module: 'graphiql/graphiql.min.js', type: 'text/javascript' },
  'graphiql.min.css': { module: 'graphiql/graphiql.min.css', type: 'text/css' },
};

const cache = new Map<string, Buffer>();
function asset(name: string): Buffer {
  let data = cache.get(name);
  if (!data) {
    data = readFileSync(require.resolve(ASSETS[name]!.module));
    cache.set(name, data);
  }
  return data;
}

/** JSON for a <script> element: `<` escaped so no text can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function explorerHtml(): string {
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
  const tabs = ${scriptJson(EXAMPLE_QUERIES.map((q) => ({ query: q.query, variables: JSON.stringify(q.variables, null, 2) })))};
  const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  ReactDOM.createRoot(document.getElementById('explorer')).render(
    React.createElement(GraphiQL, { fetcher, defaultTabs: tabs, defaultEditorToolsVisibility: true, shouldPersistHeaders: false }),
  );
</script>
</body>
</html>
`;
}

/** Answers GET / , /explorer and its assets; false when the path is not the explorer's. */
export function serveExplorer(pathname: string, res: ServerResponse): boolean {
  if (pathname === '/' || pathname === '/explorer' || pathname === '/explorer/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(explorerHtml());
    return true;
  }
  const prefix = '/explorer/assets/';
  if (pathname.startsWith(prefix)) {
    const name = pathname.slice(prefix.length);
    if (!Object.hasOwn(ASSETS, name)) return false;
    res.writeHead(200, { 'content-type': `${ASSETS[name]!.type}; charset=utf-8`, 'cache-control': 'public, max-age=3600' });
    res.end(asset(name));
    return true;
  }
  return false;
}
