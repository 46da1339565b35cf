/**
 * A minimal OpenID issuer for the benchmark: discovery, a JWKS with one RSA and one EC key, and an
 * introspection endpoint for opaque tokens. The IdP is not what is measured; this one signs tokens
 * in bulk (tens of thousands, for the distinct-token scenario) far faster than asking an IdP, and it
 * gives HAProxy its keys as PEM. It runs in the benchmark process, on the load generator's CPU.
 */
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK } from 'jose';

export const AUDIENCE = 'urn:portcullis:bench';

export interface BenchIssuer {
  readonly url: string;
  /** PEM public keys for programs that take a fixed key (HAProxy). */
  readonly publicPem: { readonly RS256: string; readonly ES256: string };
  /**
   * A signed access token, valid for an hour, bound to a client certificate (a string: its RFC 8705
   * `x5t#S256` thumbprint) or to a DPoP key (`{ jkt }`: its RFC 7638 thumbprint, RFC 9449 §6.1).
   */
  sign(alg: 'RS256' | 'ES256', binding: string | { readonly jkt: string }): Promise<string>;
  /** An opaque token that introspects as active and bound to `thumbprint`. */
  opaque(thumbprint: string): string;
  /** Introspection requests answered so far. */
  introspections(): number;
  close(): Promise<void>;
}

export async function startBenchIssuer(): Promise<BenchIssuer> {
  const keys: Record<'RS256' | 'ES256', { privateKey: KeyObject; publicKey: KeyObject; kid: string }> = {
    RS256: { ...generateKeyPairSync('rsa', { modulusLength: 2048 }), kid: 'bench-rsa' },
    ES256: { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }), kid: 'bench-ec' },
  };
  const jwks = { keys: await Promise.all(Object.entries(keys).map(async ([alg, k]) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg, use: 'sig' }))) };
  const opaqueTokens = new Map<string, string>();
  let introspections = 0;
  let url = '';
  const server: Server = createServer((req, res) => {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: url,
        jwks_uri: `${url}/jwks`,
        introspection_endpoint: `${url}/introspect`,
        token_endpoint: `${url}/token`,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      });
    }
    if (req.url === '/jwks') return json(200, jwks);
    if (req.url === '/introspect' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        introspections++;
        const token = new URLSearchParams(body).get('token') ?? '';
        const thumbprint = opaqueTokens.get(token);
        if (thumbprint === undefined) return json(200, { active: false });
        json(200, { active: true, iss: url, aud: AUDIENCE, sub: 'bench-client', client_id: 'bench', exp: Math.floor(Date.now() / 1000) + 3600, cnf: { 'x5t#S256': thumbprint } });
      });
      return;
    }
    json(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    publicPem: {
      RS256: keys.RS256.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      ES256: keys.ES256.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    },
    sign: (alg, binding) =>
      new SignJWT({ client_id: 'bench', cnf: typeof binding === 'string' ? { 'x5t#S256': binding } : { jkt: binding.jkt } })
        .setProtectedHeader({ alg, kid: keys[alg].kid, typ: 'at+jwt' })
        .setIssuer(url)
        .setAudience(AUDIENCE)
        .setSubject('bench-client')
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(keys[alg].privateKey),
    opaque(thumbprint) {
      const token = randomUUID().replaceAll('-', '') + randomUUID().replaceAll('-', '');
      opaqueTokens.set(token, thumbprint);
      return token;
    },
    introspections: () => introspections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
