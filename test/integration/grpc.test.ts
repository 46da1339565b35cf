// gRPC through the gateway with @grpc/grpc-js on both ends: unary and server-streaming calls over
// h2c and over TLS to grpc and grpcs services (trailers and grpc-status pass through), a
// certificate-bound token on a grpcs route, Kong's gRPC route rules (415, 426, grpcs only) and the
// gateway's own refusals as grpc-status.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, type IncomingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { accessRecords, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';

const run = promisify(execFile);
const raw = (value: Buffer): Buffer => value;

/** An echo service without protobuf: messages are bytes, (de)serialised as themselves. */
const echoService: grpc.ServiceDefinition = {
  Echo: { path: '/test.Echo/Echo', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
  Count: { path: '/test.Echo/Count', requestStream: false, responseStream: true, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
  Missing: { path: '/test.Echo/Missing', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
};
const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo');
type Client = InstanceType<typeof EchoClient> & Record<string, (...args: unknown[]) => unknown>;

interface GrpcUpstream {
  server: grpc.Server;
  port: number;
  /** Metadata of the calls received. */
  seen: grpc.Metadata[];
}

async function startGrpcUpstream(credentials: grpc.ServerCredentials): Promise<GrpcUpstream> {
  const server = new grpc.Server();
  const seen: grpc.Metadata[] = [];
  server.addService(echoService, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      seen.push(call.metadata);
      call.sendMetadata(new grpc.Metadata());
      const trailer = new grpc.Metadata();
      trailer.set('x-echo-trailer', 'yes');
      callback(null, Buffer.concat([Buffer.from('echo:'), call.request]), trailer);
    },
    Count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      seen.push(call.metadata);
      const n = Number(call.request.toString());
      for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
    Missing: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      callback({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error === null ? resolve(bound) : reject(error))));
  return { server, port, seen };
}

/** A unary call; resolves once its status (and so its trailers) arrived. */
function unary(client: Client, method: string, message: string, metadata = new grpc.Metadata()): Promise<{ reply: Buffer; trailers: grpc.Metadata }> {
  return new Promise((resolve, reject) => {
    let reply: Buffer | undefined;
    const call = client[method]!(Buffer.from(message), metadata, (error: grpc.ServiceError | null, value: Buffer) => {
      if (error !== null) reject(error);
      else reply = value;
    }) as grpc.ClientUnaryCall;
    call.on('status', (status: grpc.StatusObject) => {
      if (status.code === grpc.status.OK && reply !== undefined) resolve({ reply, trailers: status.metadata });
    });
  });
}

function serverStream(client: Client, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const messages: string[] = [];
    const call = client['Count']!(Buffer.from(String(count))) as grpc.ClientReadableStream<Buffer>;
    call.on('data', (message: Buffer) => messages.push(message.toString()));
    call.on('end', () => resolve(messages));
    call.on('error', reject);
  });
}

async function refusalOf(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('the call succeeded');
}

describe('gRPC through the gateway', () => {
  let idp: TestIdp;
  let plain: GrpcUpstream;
  let secure: GrpcUpstream;
  let gateway: GatewayProcess;
  let h2cAddress: string;
  let tlsAddress: string;
  const clients: Client[] = [];

  const h2cClient = (): Client => {
    const client = new EchoClient(h2cAddress, grpc.credentials.createInsecure()) as Client;
    clients.push(client);
    return client;
  };
  /** TLS to the gateway, presenting `credential` if given. */
  const tlsCredentials = async (credential?: { certPath: string; keyPath: string }): Promise<grpc.ChannelCredentials> =>
    grpc.credentials.createSsl(
      await readFile(idp.pki.ca.certPath),
      credential === undefined ? null : await readFile(credential.keyPath),
      credential === undefined ? null : await readFile(credential.certPath),
      // The gateway's certificate is its self-signed default; what is tested here is the route, not the server name.
      { checkServerIdentity: () => undefined, rejectUnauthorized: false },
    );
  /** An echo client over TLS; `authority` replaces the address as :authority (a route matching on hosts). */
  const tlsClient = async (credential?: { certPath: string; keyPath: string }, authority?: string): Promise<Client> => {
    const client = new EchoClient(tlsAddress, await tlsCredentials(credential), authority === undefined ? {} : { 'grpc.default_authority': authority }) as Client;
    clients.push(client);
    return client;
  };

  before(async () => {
    idp = await startTestIdp();
    plain = await startGrpcUpstream(grpc.ServerCredentials.createInsecure());
    secure = await startGrpcUpstream(
      grpc.ServerCredentials.createSsl(null, [{ private_key: await readFile(idp.pki.serverCert.keyPath), cert_chain: await readFile(idp.pki.serverCert.certPath) }]),
    );
    gateway = await startGatewayProcess({
      args: ['--proxy-listen', '127.0.0.1:0 http2, 127.0.0.1:0 http2 ssl', '--trusted-certificate', idp.caPath],
      config: `_format_version: "3.0"
services:
  - name: plain-grpc
    url: grpc://127.0.0.1:${plain.port}
    routes:
      - { name: plain-grpc, protocols: [grpc, grpcs], paths: ["/test.Echo/"] }
  - name: secure-grpc
    url: grpcs://localhost:${secure.port}
    routes:
      - { name: secure-grpc, protocols: [grpcs], paths: ["/secure/"] }
      - { name: bound-grpc, protocols: [grpcs], hosts: [bound.test], paths: ["/test.Echo/"] }
plugins:
  - name: tls-handshake-modifier
    route: bound-grpc
    config: { tls_client_certificate: REQUEST }
  - name: openid-connect
    route: bound-grpc
    config:
      issuer: ${idp.issuer}
      auth_methods: [bearer]
      proof_of_possession_mtls: strict
`,
    });
    h2cAddress = gateway.httpUrl.replace('http://', '');
    tlsAddress = gateway.httpsUrl.replace('https://', '');
  });

  after(async () => {
    for (const client of clients) client.close();
    await gateway?.stop();
    for (const upstream of [plain, secure]) if (upstream !== undefined) await new Promise<void>((resolve) => upstream.server.tryShutdown(() => resolve()));
    await idp?.close();
  });

  it('unary and server-streaming calls over h2c to a grpc service, trailers included', async () => {
    const client = h2cClient();
    const { reply, trailers } = await unary(client, 'Echo', 'hello');
    assert.equal(reply.toString(), 'echo:hello');
    assert.deepEqual(trailers.get('x-echo-trailer'), ['yes']);
    assert.deepEqual(await serverStream(client, 5), ['1', '2', '3', '4', '5']);
    const metadata = plain.seen.at(-1)!;
    assert.deepEqual(metadata.get('x-forwarded-proto'), ['http']);
    assert.deepEqual(metadata.get('via'), ['1.1 portcullis']);
    const record = accessRecords(gateway).find((r) => r['path'] === '/test.Echo/Echo');
    assert.equal(record?.['route'], 'plain-grpc');
    assert.equal(record?.['status'], 200);
  });

  it("passes an upstream's grpc-status through", async () => {
    const error = await refusalOf(unary(h2cClient(), 'Missing', 'x'));
    assert.equal(error.code, grpc.status.NOT_FOUND);
    assert.equal(error.details, 'no such thing');
  });

  it('over TLS to a grpcs service (HTTP/2 both sides)', async () => {
    const client = await tlsClient();
    // The secure route is reached with its path prefix kept (gRPC routes never strip).
    const secureClient = new grpc.Client(tlsAddress, await tlsCredentials());
    clients.push(secureClient as unknown as Client);
    const reply = await new Promise<Buffer>((resolve, reject) =>
      secureClient.makeUnaryRequest('/secure/ignored', raw, raw, Buffer.from('x'), (error, value) => (error === null ? resolve(value!) : reject(error))),
    ).catch((error: grpc.ServiceError) => error);
    // The upstream has no /secure/ method: its UNIMPLEMENTED answer comes back through both HTTP/2 hops.
    assert.ok(reply instanceof Error);
    assert.equal(reply.code, grpc.status.UNIMPLEMENTED);
    const { reply: echoed } = await unary(client, 'Echo', 'tls');
    assert.equal(echoed.toString(), 'echo:tls');
  });

  it('a certificate-bound token on a grpcs route: accepted with its certificate, UNAUTHENTICATED with another', async () => {
    const token = (await idp.requestToken()).access_token!;
    const metadata = (): grpc.Metadata => {
      const m = new grpc.Metadata();
      m.set('authorization', `Bearer ${token}`);
      return m;
    };
    const call = async (credential: { certPath: string; keyPath: string }, authority?: string): Promise<{ reply: Buffer } | grpc.ServiceError> =>
      unary(await tlsClient(credential, authority), 'Echo', 'bound', metadata()).catch((error: grpc.ServiceError) => error);
    // The bound route matches on its host: the client names bound.test as the authority.
    const bound = (credential: { certPath: string; keyPath: string }): Promise<{ reply: Buffer } | grpc.ServiceError> => call(credential, 'bound.test');
    const good = await bound(idp.pki.client);
    assert.ok(!(good instanceof Error), good instanceof Error ? good.message : '');
    assert.equal(good.reply.toString(), 'echo:bound');
    const wrong = await bound(idp.pki.otherClient);
    assert.ok(wrong instanceof Error);
    assert.equal(wrong.code, grpc.status.UNAUTHENTICATED);
    // Without the bound host the call goes to the unprotected route: the binding is per route.
    assert.ok(!((await call(idp.pki.otherClient)) instanceof Error));
  });

  it("Kong's gRPC route rules: 415 for a request that is not gRPC, 426 for gRPC over HTTP/1.1, grpc-status 1 for cleartext on a grpcs route", async () => {
    const notGrpc = await run('curl', ['-s', '--http2-prior-knowledge', '-o', '/dev/null', '-w', '%{http_code}', `${gateway.httpUrl}/test.Echo/Echo`]);
    assert.equal(notGrpc.stdout, '415');
    const overHttp1 = await run('curl', ['-s', '-D', '-', '-o', '/dev/null', '-H', 'content-type: application/grpc', '-d', '', `${gateway.httpUrl}/test.Echo/Echo`]);
    assert.match(overHttp1.stdout, /^HTTP\/1\.1 426/);
    assert.match(overHttp1.stdout, /^upgrade: HTTP\/2\r$/im);
    assert.match(overHttp1.stdout, /^grpc-status: 3\r$/im);
    const session = connect(gateway.httpUrl);
    try {
      const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/secure/x', 'content-type': 'application/grpc', te: 'trailers' });
        stream.on('response', resolve);
        stream.on('error', reject);
        stream.end();
        stream.resume();
      });
      assert.equal(headers[':status'], 200);
      assert.equal(headers['grpc-status'], '1');
      assert.equal(headers['grpc-message'], 'gRPC request matched gRPCs route');
    } finally {
      session.close();
    }
  });

  it("answers a call no route matches as Kong: HTTP 404 with grpc-status 5, in one HEADERS frame (trailers-only)", async () => {
    const session = connect(gateway.httpUrl);
    try {
      const { headers, frames } = await new Promise<{ headers: IncomingHttpHeaders; frames: number }>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/nowhere.Service/Call', 'content-type': 'application/grpc', te: 'trailers' });
        let head: IncomingHttpHeaders = {};
        let data = 0;
        stream.on('response', (h, flags) => {
          head = h;
          // END_STREAM on the HEADERS frame itself: the shape gRPC clients read a status from.
          if ((flags & 0x1) === 0) reject(new Error(`HEADERS without END_STREAM: flags ${flags} ${JSON.stringify(h)}`));
        });
        stream.on('data', () => data++);
        stream.on('end', () => resolve({ headers: head, frames: data }));
        stream.on('error', reject);
        stream.end();
      });
      assert.equal(headers[':status'], 404);
      assert.equal(headers['grpc-status'], '5');
      assert.equal(headers['grpc-message'], 'NotFound');
      assert.equal(headers['content-type'], 'application/grpc');
      assert.equal(frames, 0);
    } finally {
      session.close();
    }
    // A trailers-only answer: grpc-js takes its grpc-status (not the HTTP status's mapping, UNIMPLEMENTED).
    const client = new grpc.Client(h2cAddress, grpc.credentials.createInsecure());
    clients.push(client as unknown as Client);
    const error = await new Promise<grpc.ServiceError>((resolve) => client.makeUnaryRequest('/nowhere.Service/Call', raw, raw, Buffer.from(''), (e) => resolve(e!)));
    assert.equal(error.code, grpc.status.NOT_FOUND);
  });
});
