/**
 * Where the server may listen and whom it answers:
 *
 * - checkBind: with `auth: none`, binding beyond loopback is refused unless insecureBind says so,
 *   and a warning is printed either way (the port is the only access control then).
 * - checkHost: the Host header must name this server (DNS rebinding: a page on evil.example whose
 *   name re-resolves to 127.0.0.1 reaches a loopback server from the victim's browser, but its
 *   requests still say `Host: evil.example`).
 * - corsHeaders: cross-origin reads only for configured origins.
 */

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
}

export type BindCheck = { ok: true; warnings: string[] } | { ok: false; error: string };

export function checkBind(options: {
  host: string;
  port: number;
  authMode: 'none' | 'on';
  insecureBind: boolean;
  allowedHosts: readonly string[];
}): BindCheck {
  const where = `${options.host}:${options.port}`;
  const loopback = isLoopbackHost(options.host);
  const warnings: string[] = [];
  if (options.authMode === 'none') {
    if (!loopback && !options.insecureBind) {
      return {
        ok: false,
        error:
          `refusing to listen on ${where} with auth: none: anyone who reaches the port would read every account's logs. ` +
          'Configure auth (oidc and/or apiKeys), bind 127.0.0.1, or pass --insecure-bind if that is really meant.',
      };
    }
    warnings.push(
      loopback
        ? `auth: none: every local user and process that reaches ${where} reads every account's logs (fine on a laptop; configure auth for a shared host)`
        : `INSECURE: auth: none on ${where} (--insecure-bind): anyone who reaches the port reads every account's logs`,
    );
  }
  if (!loopback && options.allowedHosts.length === 0) {
    warnings.push(`server.allowedHosts is empty: only requests for localhost or ${options.host} are answered; add the name clients use`);
  }
  return { ok: true, warnings };
}

export interface HostPolicy {
  any: boolean;
  exact: ReadonlySet<string>;
  /** '.example.com' for a `*.example.com` entry. */
  suffixes: readonly string[];
}

/** The names a Host header may carry: loopback names, the bound address, and the configured ones. */
export function hostPolicy(options: { bindHost: string; allowedHosts: readonly string[] }): HostPolicy {
  const exact = new Set(['localhost', '127.0.0.1', '::1']);
  const suffixes: string[] = [];
  let any = false;
  if (!isWildcard(options.bindHost)) exact.add(normalizeHost(options.bindHost) ?? options.bindHost);
  for (const entry of options.allowedHosts) {
    if (entry === '*') any = true;
    else if (entry.startsWith('*.')) suffixes.push(entry.slice(1).toLowerCase().replace(/\.$/, ''));
    else {
      const name = normalizeHost(entry);
      if (name) exact.add(name);
    }
  }
  return { any, exact, suffixes };
}

export type HostCheck = { ok: true } | { ok: false; status: 421; reason: 'host_not_allowed' | 'host_missing' };

export function checkHost(header: string | undefined, policy: HostPolicy): HostCheck {
  if (policy.any) return { ok: true };
  if (header === undefined || header === '') return { ok: false, status: 421, reason: 'host_missing' };
  const name = normalizeHost(header);
  if (name && (policy.exact.has(name) || isLoopbackHost(name) || policy.suffixes.some((s) => name.endsWith(s) && name.length > s.length)))
    return { ok: true };
  return { ok: false, status: 421, reason: 'host_not_allowed' };
}

/** The host part of a Host header, lower case, without port or trailing dot; null when it is not a host name or address. */
export function normalizeHost(header: string): string | null {
  const text = header.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(text);
  if (v6) return v6[1];
  const m = /^([a-z0-9_.-]+?)\.?(?::\d{1,5})?$/.exec(text);
  if (!m || m[1].startsWith('.') || m[1].includes('..')) return null;
  return m[1];
}

export interface CorsDecision {
  /** Headers to add; empty when the origin is not allowed (the browser then refuses the read). */
  headers: Record<string, string>;
  allowed: boolean;
}

/** CORS for a request: off unless origins are configured; `*` allows any origin (no credentials are ever allowed). */
export function corsHeaders(origin: string | undefined, allowedOrigins: readonly string[], preflight: boolean): CorsDecision {
  if (origin === undefined || allowedOrigins.length === 0) return { headers: {}, allowed: false };
  const normalized = origin.replace(/\/+$/, '').toLowerCase();
  const match = allowedOrigins.includes('*') || allowedOrigins.some((o) => o.replace(/\/+$/, '').toLowerCase() === normalized);
  if (!match) return { headers: { vary: 'Origin' }, allowed: false };
  const headers: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin' };
  if (preflight) {
    headers['access-control-allow-methods'] = 'GET, POST';
    headers['access-control-allow-headers'] = 'authorization, content-type, x-api-key, apollo-require-preflight';
    headers['access-control-max-age'] = '600';
  }
  return { headers, allowed: true };
}

/**
 * The client's address for per-address limits (e.g. failed sign-ins). Behind a load balancer
 * (trustProxy) it is the rightmost X-Forwarded-For entry, the one the balancer itself appended:
 * entries to its left come from the client and can be forged.
 */
export function clientAddress(
  remoteAddress: string | undefined,
  forwardedFor: string | readonly string[] | undefined,
  trustProxy: boolean,
): string {
  const direct = remoteAddress ?? 'unknown';
  if (!trustProxy || forwardedFor === undefined) return direct;
  const entries = (typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(','))
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  return entries.at(-1) ?? direct;
}
