/**
 * The Node stack a user would assemble by hand for the tutorial's job: Fastify with
 * @fastify/http-proxy (undici underneath), Node's TLS asking for the client certificate, and jose
 * verifying the bearer token against the issuer's JWKS, then comparing `cnf."x5t#S256"` with the
 * certificate's thumbprint (computed once per connection, as a careful user would).
 * Run as its own process by bench/peers/node-stack.ts; the argument is a JSON settings object.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';

interface Settings {
  httpPort: number;
  httpsPort: number;
  upstream: string;
  serverCert: string;
  serverKey: string;
  caCert: string;
  issuer: string;
  audience: string;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings;
const jwks = createRemoteJWKSet(new URL(`${settings.issuer}/jwks`));
const thumbprints = new WeakMap<object, string>();

function thumbprint(socket: TLSSocket): string | null {
  let value = thumbprints.get(socket);
  if (value === undefined) {
    const certificate: X509Certificate | undefined = socket.getPeerX509Certificate();
    if (certificate === undefined) return null;
    value = createHash('sha256').update(certificate.raw).digest('base64url');
    thumbprints.set(socket, value);
  }
  return value;
}

async function requireCertificate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!(request.raw.socket as TLSSocket).authorized) await reply.code(403).send({ message: 'client certificate required' });
}

async function requireBoundToken(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const socket = request.raw.socket as TLSSocket;
  if (!socket.authorized) return void (await reply.code(403).send({ message: 'client certificate required' }));
  const header = request.headers.authorization ?? '';
  if (!header.startsWith('Bearer ')) return void (await reply.code(401).send({ message: 'no token' }));
  try {
    const { payload } = await jwtVerify(header.slice(7), jwks, { issuer: settings.issuer, audience: settings.audience, algorithms: ['RS256', 'ES256'] });
    const cnf = payload.cnf as Record<string, unknown> | undefined;
    if (cnf?.['x5t#S256'] !== thumbprint(socket)) await reply.code(401).send({ message: 'certificate mismatch' });
  } catch {
    await reply.code(401).send({ message: 'invalid token' });
  }
}

const proxyOptions = { upstream: settings.upstream, undici: { connections: 128, pipelining: 1 } };

const plain = Fastify({ logger: false });
await plain.register(fastifyHttpProxy, { ...proxyOptions, prefix: '/' });
await plain.listen({ host: '127.0.0.1', port: settings.httpPort });

const secure = Fastify({
  logger: false,
  https: {
    cert: readFileSync(settings.serverCert),
    key: readFileSync(settings.serverKey),
    ca: readFileSync(settings.caCert),
    requestCert: true,
    rejectUnauthorized: false,
  },
});
// Fastify awaits async hooks; the rule cannot see that through the plugin's option types.
// eslint-disable-next-line @typescript-eslint/no-misused-promises
await secure.register(fastifyHttpProxy, { ...proxyOptions, prefix: '/mtls', rewritePrefix: '/mtls', preHandler: requireCertificate });
// eslint-disable-next-line @typescript-eslint/no-misused-promises
await secure.register(fastifyHttpProxy, { ...proxyOptions, prefix: '/jwt', rewritePrefix: '/jwt', preHandler: requireBoundToken });
await secure.listen({ host: '127.0.0.1', port: settings.httpsPort });
console.log('node-stack ready');
