/**
 * Shared by this folder's tests only: a small discovery + JWKS + introspection server made with
 * jose on loopback HTTP (switchable off, with key rotation and request counting), fake request
 * contexts, and a way to build a plugin instance from a config object.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { Readable } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { pino } from 'pino';
import type { Config, Consumer } from '../../config/types.js';
import { loadConfigObject } from '../../config/index.js';
import type { ReadBodyOptions, RequestContext } from '../../pipeline/context.js';
import { isGatewayError, type GatewayError } from '../../pipeline/gateway-error.js';
import type { PluginInstance } from '../../pipeline/plugin.js';
import { announcesBody, DEFAULT_MAX_BUFFERED_BODY_BYTES, readBodyLimited } from '../../proxy/buffered-body.js';
import { createClientCertificate, type ClientCertificate } from '../../connection/client-certificate.js';
import { localNodeServices } from '../../state/node-services.js';
import { pluginSchemas } from '../index.js';
import { createOpenIdConnect } from './handler.js';
import type { OpenIdConnectConfig } from './schema.js';

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  jwk: JWK;
}

type CryptoKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export async function makeKey(kid: string, alg: 'RS256' | 'ES256' = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

export class FakeIdp {
  readonly server: Server;
  issuer = '';
  keys: SigningKey[] = [];
  /** Extra raw JWKS entries (to test what is skipped). */
  extraJwks: Record<string, unknown>[] = [];
  up = true;
  counts = { discovery: 0, jwks: 0, introspection: 0 };
  /** token → introspection response */
  introspection = new Map<string, Record<string, unknown>>();
  lastIntrospectionAuth: string | undefined;
  /** The form of the last introspection request (client authentication parameters included). */
  lastIntrospectionForm: URLSearchParams | undefined;

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(): Promise<FakeIdp> {
    const server = createServer();
    const idp = new FakeIdp(server);
    server.on('request', (req, res) => {
      if (!idp.up) {
        res.socket?.destroy();
        return;
      }
      const path = (req.url ?? '').split('?')[0];
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (path === '/realms/test/.well-known/openid-configuration') {
        idp.counts.discovery++;
        return send(200, {
          issuer: idp.issuer,
          jwks_uri: `${idp.issuer}/protocol/openid-connect/certs`,
          introspection_endpoint: `${idp.issuer}/protocol/openid-connect/token/introspect`,
        });
      }
      if (path === '/realms/test/protocol/openid-connect/certs') {
        idp.counts.jwks++;
        return send(200, { keys: [...idp.keys.map((k) => k.jwk), ...idp.extraJwks] });
      }
      if (path === '/realms/test/protocol/openid-connect/token/introspect') {
        idp.counts.introspection++;
        idp.lastIntrospectionAuth = req.headers.authorization;
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          idp.lastIntrospectionForm = new URLSearchParams(body);
          const token = idp.lastIntrospectionForm.get('token') ?? '';
          send(200, idp.introspection.get(token) ?? { active: false });
        });
        return;
      }
      send(404, {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    idp.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/test`;
    idp.keys = [await makeKey('k1')];
    return idp;
  }

  /** A token signed by `key` (default: the first key), with sensible claims merged with `claims`. */
  async sign(claims: Record<string, unknown> = {}, options: { key?: SigningKey; header?: Record<string, unknown> } = {}): Promise<string> {
    const key = options.key ?? this.keys[0]!;
    const now = Math.floor(Date.now() / 1000);
    const payload = Object.fromEntries(
      Object.entries({ iss: this.issuer, sub: 'svc', aud: 'urn:api', scope: 'read write', iat: now, exp: now + 60, jti: `j-${Math.random()}`, ...claims }).filter(
        ([, v]) => v !== undefined,
      ),
    );
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...options.header }).sign(key.privateKey);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export const silentLogger = pino({ level: 'silent' });

/** One replay store and nonce key for every instance a test builds (as one node's plugins share them). */
export const testNodeServices = localNodeServices();

/** A validated config (defaults applied) for one openid-connect plugin, plus the whole Config. */
export interface ExtraEntities {
  consumers?: unknown[];
  plugins?: unknown[];
  ca_certificates?: unknown[];
}

export function buildConfig(config: Record<string, unknown>, extra: ExtraEntities = {}): { config: Config; plugin: OpenIdConnectConfig } {
  const doc = {
    _format_version: '3.0',
    services: [{ name: 's', url: 'http://127.0.0.1:1', routes: [{ name: 'r', paths: ['/'] }] }],
    consumers: extra.consumers ?? [],
    ca_certificates: extra.ca_certificates ?? [],
    plugins: [{ name: 'openid-connect', route: 'r', config: { auth_methods: ['bearer'], ...config } }, ...(extra.plugins ?? [])],
  };
  const result = loadConfigObject(doc, { plugins: pluginSchemas });
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return { config: result.config, plugin: result.config.plugins[0]!.config as unknown as OpenIdConnectConfig };
}

export function buildInstance(config: Record<string, unknown>, extra: ExtraEntities = {}): PluginInstance {
  const built = buildConfig(config, extra);
  return createOpenIdConnect(built.plugin, built.config.plugins[0]!, { config: built.config, logger: silentLogger, trustedCaPems: [], node: testNodeServices });
}

export function clientCertificate(pem: string): ClientCertificate {
  return createClientCertificate(new X509Certificate(pem), [], 'tls');
}

/** A request context as the pipeline builds it; `body` sets Content-Length and the client stream. */
export function fakeContext(
  options: {
    headers?: Record<string, string>;
    query?: string;
    method?: string;
    certificate?: ClientCertificate | null;
    body?: string | Buffer;
    /** The Host the client sent (default `localhost`), and whether its peer is a trusted proxy. */
    authority?: string;
    trustedPeer?: boolean;
    path?: string;
  } = {},
): RequestContext & { readonly bodyReads: number } {
  const headers = Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const bytes = options.body === undefined ? null : Buffer.from(options.body);
  if (bytes !== null) headers['content-length'] = String(bytes.length);
  let body: Promise<Buffer> | null = null;
  const ctx = {
    id: 'req-1',
    receivedAt: performance.now(),
    timings: null,
    request: {
      method: options.method ?? 'GET',
      scheme: 'https' as const,
      protocol: 'https' as const,
      host: 'localhost',
      port: 443,
      authority: options.authority ?? 'localhost',
      trustedPeer: options.trustedPeer ?? false,
      path: options.path ?? '/anything',
      query: options.query ?? '',
      httpVersion: '1.1',
      hasBody: announcesBody(headers),
      headers,
      body: Readable.from(bytes === null ? [] : [bytes]),
    },
    connection: { tls: true, sni: null, remoteAddress: '127.0.0.1', remotePort: 1, localPort: 443, localAddress: '127.0.0.1', peerCertificate: null, thumbprint: null, clientCertificate: null, resumed: false },
    route: {} as RequestContext['route'],
    service: null,
    upstreamHeaders: { ...headers } as Record<string, string | string[]>,
    upstreamQuery: options.query ?? '',
    upstreamMethod: options.method ?? 'GET',
    upstreamPath: null as string | null,
    upstreamBody: null as Buffer | null,
    responseHeaders: {},
    clientCertificate: options.certificate ?? null,
    identity: null,
    auth: null,
    shared: new Map<string, unknown>(),
    bodyReads: 0,
    readBody(readOptions?: ReadBodyOptions): Promise<Buffer> {
      // As the proxy's context: read once, then the upstream gets the buffer.
      ctx.bodyReads++;
      body ??= readBodyLimited(ctx.request.body, headers, readOptions?.limit ?? DEFAULT_MAX_BUFFERED_BODY_BYTES).then((read) => {
        if (announcesBody(headers)) ctx.upstreamBody ??= read;
        return read;
      });
      return body;
    },
    limitBody: () => undefined,
    transformResponseBody: () => undefined,
  };
  return ctx;
}

/** Runs the access phase; returns the refusal (or null when the request may proceed). Other errors propagate. */
export async function runAccess(instance: PluginInstance, ctx: ReturnType<typeof fakeContext> = fakeContext()): Promise<GatewayError | null> {
  try {
    await instance.access!(ctx);
    return null;
  } catch (error) {
    if (isGatewayError(error)) return error;
    throw error;
  }
}

export type { Consumer };
