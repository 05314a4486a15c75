/**
 * /graphql from the browser. Credentials are whatever the server takes: with `auth: none` nothing;
 * with auth on, an API key (`sk_…`) or an OIDC token the analyst pastes once, kept in this tab's
 * sessionStorage (gone when the tab closes) and sent as `Authorization: Bearer`.
 */

const CREDENTIALS_KEY = 'scoutql.credentials';

/** The server answered 401: the page asks for credentials and tries again. */
export class AuthRequired extends Error {}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export function credentials(): string | null {
  return sessionStorage.getItem(CREDENTIALS_KEY);
}

export function setCredentials(token: string | null): void {
  if (token) sessionStorage.setItem(CREDENTIALS_KEY, token);
  else sessionStorage.removeItem(CREDENTIALS_KEY);
}

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const token = credentials();
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    credentials: 'same-origin',
  });
  if (response.status === 401) throw new AuthRequired('the server asks for credentials');
  const answer = (await response.json()) as GraphQLAnswer<T>;
  const error = answer.errors?.[0];
  if (error) throw new ApiError(error.message, error.extensions?.code);
  if (!answer.data) throw new ApiError(`the server answered ${response.status} without data`, undefined);
  return answer.data;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Connection<T> {
  totalCount: number;
  pageInfo: PageInfo;
  edges: T[];
}
