/** Authentication (OIDC bearer tokens, API keys) and the authorization model of the API. */
export { ANONYMOUS_CALLER, ROLES, type Caller, type CallerKind, type Role } from './caller';
export {
  failureBody,
  wwwAuthenticate,
  type AuthFailure,
  type AuthResult,
  type ForbiddenReason,
  type UnauthenticatedReason,
} from './result';
export { OidcVerifier, type OidcOptions } from './oidc';
export { ApiKeyStore, ApiKeyVerifier, keyStatus, parseApiKey, parseExpiry, type ApiKeyRecord } from './api-keys';
export { Authenticator, createAuthenticator, type AuthSettings, type RequestHeaders } from './authenticate';
export { authorize, mayRead, mayWrite, scopeAccounts, type AuthorizationPolicy, type Operation } from './authorize';
