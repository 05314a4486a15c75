/**
 * TEST INFRASTRUCTURE: a local OIDC issuer on 127.0.0.1 for tests and demos. It serves
 * /.well-known/openid-configuration and a JWKS with real RS256 and ES256 keys (jose), mints tokens
 * with any claims, rotates and removes keys on demand, and can forge the tokens an attacker would
 * try (`alg: none`, HS256 signed with the public key, a key of its own under a published kid).
 * Nothing here is used by production code.
 */
import { createHmac, createPublicKey, randomBytes, type JsonWebKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export type SigningAlg = 'RS256' | 'ES256';

interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface MintOptions {
  alg?: SigningAlg;
  /** Sign with this published key (default: the newest key of the algorithm). */
  kid?: string;
  /** Seconds from now; negative for a token that has expired. Default 300. null: no exp claim. */
  expiresIn?: number | null;
  /** Seconds from now for nbf (positive: not valid yet). Default: no nbf. */
  notBefore?: number;
  /** Default: this issuer. */
  issuer?: string;
  /** Default: the issuer's audience. */
  audience?: string | string[];
  /** Default 'alice'. null: no sub claim. */
  subject?: string | null;
  /** The clock the token is minted at (default now). */
  now?: Date;
}

export interface OidcIssuer {
  /** The issuer URL (`iss`), http://127.0.0.1:<port> */
  issuer: string;
  jwksUri: string;
  audience: string;
  /** Requests served, by path (to see caching and refetches). */
  requests: string[];
  mint(claims?: JWTPayload, options?: MintOptions): Promise<string>;
  /** Forgeries an attacker would try. */
  forge: {
    /** `alg: none`, no signature. */
    unsigned(claims?: JWTPayload): string;
    /** HS256 with a published RSA public key (PEM) as the HMAC secret: the classic key confusion. */
    hs256WithPublicKey(claims?: JWTPayload): string;
    /** Signed by a fresh key that is not published, under a published kid. */
    foreignKey(claims?: JWTPayload, alg?: SigningAlg): Promise<string>;
    /** A valid token with one payload claim changed after signing. */
    tampered(claims?: JWTPayload, change?: JWTPayload): Promise<string>;
  };
  /** Adds a new key for the algorithm (it becomes the one mint uses) and returns its kid. retire: drop the previous ones. */
  rotate(alg?: SigningAlg, options?: { retire?: boolean }): Promise<string>;
  /** Stops publishing a key. */
  removeKey(kid: string): void;
  kids(): string[];
  /** Makes the endpoints answer 503 (an outage) until called with false. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export async function startOidcIssuer(options: { audience?: string; port?: number } = {}): Promise<OidcIssuer> {
  const audience = options.audience ?? 'scoutql';
  const keys: SigningKey[] = [await newKey('RS256'), await newKey('ES256')];
  const requests: string[] = [];
  let down = false;
  let issuer = '';

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    requests.push(path);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (down) return json(503, { error: 'unavailable' });
    if (path === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        jwks_uri: `${issuer}/jwks.json`,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
      });
    }
    if (path === '/jwks.json') return json(200, { keys: keys.map((k) => k.publicJwk) });
    json(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const current = (alg: SigningAlg) => {
    const key = keys.filter((k) => k.alg === alg).at(-1);
    if (!key) throw new Error(`no ${alg} key published`);
    return key;
  };
  const withDefaults = (claims: JWTPayload, opts: MintOptions = {}) => {
    const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
    const payload: JWTPayload = { iss: opts.issuer ?? issuer, aud: opts.audience ?? audience, iat: now, ...claims };
    const subject = opts.subject === undefined ? 'alice' : opts.subject;
    if (subject !== null && payload.sub === undefined) payload.sub = subject;
    const expiresIn = opts.expiresIn === undefined ? 300 : opts.expiresIn;
    if (expiresIn !== null && payload.exp === undefined) payload.exp = now + expiresIn;
    if (opts.notBefore !== undefined) payload.nbf = now + opts.notBefore;
    return payload;
  };
  const sign = async (key: { kid: string; alg: SigningAlg; privateKey: CryptoKey }, payload: JWTPayload) =>
    new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);

  return {
    issuer,
    jwksUri: `${issuer}/jwks.json`,
    audience,
    requests,
    async mint(claims = {}, opts = {}) {
      const key = opts.kid ? keys.find((k) => k.kid === opts.kid) : current(opts.alg ?? 'RS256');
      if (!key) throw new Error(`no published key ${opts.kid}`);
      return sign(key, withDefaults(claims, opts));
    },
    forge: {
      unsigned(claims = {}) {
        const header = b64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid: current('RS256').kid }));
        return `${header}.${b64url(JSON.stringify(withDefaults(claims)))}.`;
      },
      hs256WithPublicKey(claims = {}) {
        const rsa = current('RS256');
        const pem = createPublicKey({ key: rsa.publicJwk as JsonWebKey, format: 'jwk' })
          .export({ type: 'spki', format: 'pem' })
          .toString();
        const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: rsa.kid }))}.${b64url(JSON.stringify(withDefaults(claims)))}`;
        return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
      },
      async foreignKey(claims = {}, alg = 'RS256') {
        const impostor = await newKey(alg);
        return sign({ ...impostor, kid: current(alg).kid }, withDefaults(claims));
      },
      async tampered(claims = {}, change = { groups: ['admin'] }) {
        const [header, , signature] = (await sign(current('RS256'), withDefaults(claims))).split('.');
        return `${header}.${b64url(JSON.stringify({ ...withDefaults(claims), ...change }))}.${signature}`;
      },
    },
    async rotate(alg = 'RS256', opts = {}) {
      const key = await newKey(alg);
      if (opts.retire) for (let i = keys.length - 1; i >= 0; i--) if (keys[i].alg === alg) keys.splice(i, 1);
      keys.push(key);
      return key.kid;
    },
    removeKey(kid) {
      const index = keys.findIndex((k) => k.kid === kid);
      if (index < 0) throw new Error(`no published key ${kid}`);
      keys.splice(index, 1);
    },
    kids: () => keys.map((k) => k.kid),
    setDown(value) {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function newKey(alg: SigningAlg): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

function b64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
