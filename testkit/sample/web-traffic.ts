/**
 * Who visits the company's web front ends (the ALB in front of the web instances, and the
 * CloudFront distribution in front of the assets bucket): customer addresses, browsers and the
 * pages they ask for. Shared by the ALB and CloudFront writers so both see the same visitors.
 */
import type { Rng } from './prng';

/** Customer addresses: documentation ranges only (RFC 5737 and the IPv6 2001:db8::/32). */
export function customerIp(rng: Rng): string {
  if (rng.chance(0.12)) return `2001:db8:${rng.hex(4).replace(/^0+/, '') || '0'}::${rng.hex(3).replace(/^0+/, '') || '1'}`;
  // Hosts 150–199 of 198.51.100.0/24 and 100–199 of 203.0.113.0/24 are customers; the world uses none of them.
  return rng.chance(0.4) ? `198.51.100.${rng.int(150, 199)}` : `203.0.113.${rng.int(100, 199)}`;
}

export const CUSTOMER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'AcmeMobile/4.12.0 (iPhone; iOS 18.1; Scale/3.00)',
];

/** Paths of the web application behind the ALB: [method, path, typical status, response bytes range]. */
export const APP_REQUESTS: readonly (readonly [string, string, number, number, number])[] = [
  ['GET', '/', 200, 8_000, 24_000],
  ['GET', '/login', 200, 4_000, 9_000],
  ['POST', '/login', 302, 300, 600],
  ['GET', '/api/v1/orders', 200, 2_000, 40_000],
  ['GET', '/api/v1/orders/{id}', 200, 800, 3_000],
  ['POST', '/api/v1/orders', 201, 400, 1_200],
  ['GET', '/api/v1/account', 200, 600, 2_000],
  ['GET', '/api/v1/search?q={q}', 200, 1_000, 30_000],
  ['GET', '/healthz', 200, 2, 2],
  ['GET', '/favicon.ico', 200, 1_150, 1_150],
];

/** Objects the CloudFront distribution serves from the assets bucket. */
export const ASSET_PATHS: readonly (readonly [string, string, number])[] = [
  ['/static/app.js', 'application/javascript', 412_000],
  ['/static/app.css', 'text/css', 88_000],
  ['/img/logo.png', 'image/png', 14_200],
  ['/img/hero.jpg', 'image/jpeg', 310_000],
  ['/index.html', 'text/html', 6_400],
];

export function fillPath(rng: Rng, path: string): string {
  return path.replace('{id}', String(rng.int(100_000, 999_999))).replace('{q}', rng.pick(['shoes', 'invoice', 'blue+jacket', 'gift']));
}
