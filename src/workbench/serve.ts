/**
 * The analyst's workbench at /ui/: one HTML page and its two bundled assets, all from this server
 * (no CDN, no inline script), so it works air-gapped. The page talks to /graphql like any client,
 * with the credentials the server asks for.
 */
import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from '../explorer/page';
import { workbenchBundle } from './build';

/** Scripts and styles from this origin only; nothing inline, nothing fetched from elsewhere. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * The stylesheet's id is the one Cytoscape.js looks for before it injects a <style> element of its
 * own (which this CSP would refuse): app.css carries the one rule it would inject.
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ScoutQL workbench</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/ui/assets/app.css" id="__________cytoscape_stylesheet">
</head>
<body>
<div id="app">Loading the ScoutQL workbench…</div>
<script src="/ui/assets/app.js"></script>
</body>
</html>
`;

/** Answers GET /ui, /ui/ and /ui/assets/*; false when the path is not the workbench's. */
export async function serveWorkbench(pathname: string, res: ServerResponse): Promise<boolean> {
  if (pathname === '/ui') {
    res.writeHead(308, { location: '/ui/', ...SECURITY_HEADERS });
    res.end();
    return true;
  }
  if (pathname === '/ui/' || pathname === '/ui/index.html') {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': CSP,
      ...SECURITY_HEADERS,
    });
    res.end(PAGE);
    return true;
  }
  const asset = ({ '/ui/assets/app.js': 'js', '/ui/assets/app.css': 'css' } as const)[pathname];
  if (!asset) return false;
  const bundle = await workbenchBundle();
  res.writeHead(200, {
    'content-type': asset === 'js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
    // Rebuilt with each server start; a reload must not keep a previous version's script.
    'cache-control': 'no-cache',
    ...SECURITY_HEADERS,
  });
  res.end(bundle[asset]);
  return true;
}
