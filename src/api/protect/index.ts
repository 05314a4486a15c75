/** Protection of the HTTP API: per-caller rate and concurrency limits, bind and Host checks, CORS. */
export { ConcurrencyLimiter, RateLimiter, tooManyRequests, type Admission } from './limits';
export { checkBind, checkHost, clientAddress, corsHeaders, hostPolicy, isLoopbackHost, normalizeHost, type HostPolicy } from './host';
