/**
 * The plugin's HTTP client towards the identity provider: undici with the system CAs plus
 * `--trusted-certificate`, `ssl_verify`, `timeout` on connect, headers and body, `keepalive`, and a
 * size limit on what it reads, so a misbehaving IdP can neither hang nor flood the gateway.
 */
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';

/** Largest IdP response read (discovery, JWKS, introspection). */
export const MAX_IDP_RESPONSE_BYTES = 1024 * 1024;

export interface IdpClientOptions {
  readonly sslVerify: boolean;
  readonly timeoutMs: number;
  readonly keepalive: boolean;
  readonly trustedCaPems: readonly string[];
  /** A client certificate for `tls_client_auth`. */
  readonly clientCertificate?: { readonly cert: string; readonly key: string };
}

export class IdpHttpError extends Error {
  readonly status: number | null;
  constructor(message: string, status: number | null = null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdpHttpError';
    this.status = status;
  }
}

export interface IdpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: unknown;
}

export class IdpClient {
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(options: IdpClientOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#agent = new Agent({
      connect: {
        ca: [...rootCertificates, ...options.trustedCaPems],
        rejectUnauthorized: options.sslVerify,
        timeout: options.timeoutMs,
        ...(options.clientCertificate === undefined ? {} : { cert: options.clientCertificate.cert, key: options.clientCertificate.key }),
      },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      // undici keeps connections alive unless pipelining is 0.
      pipelining: options.keepalive ? 1 : 0,
      keepAliveTimeout: 30_000,
    });
  }

  /** GETs or POSTs and parses a JSON body; non-2xx statuses are returned, transport failures thrown. */
  async json(url: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {}): Promise<IdpResponse> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: init.method ?? 'GET',
        headers: { accept: 'application/json', ...init.headers },
        body: init.body,
        dispatcher: this.#agent,
        signal,
      });
    } catch (error) {
      throw new IdpHttpError(`${describeError(error)} (${new URL(url).host})`, null, { cause: error });
    }
    const text = await readLimited(response.body, url);
    const contentType = String(response.headers['content-type'] ?? '');
    if (response.statusCode < 200 || response.statusCode >= 300) return { status: response.statusCode, contentType, body: null };
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch (error) {
      throw new IdpHttpError(`${new URL(url).host} answered with something that is not JSON`, response.statusCode, { cause: error });
    }
    return { status: response.statusCode, contentType, body };
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

async function readLimited(body: Dispatcher.ResponseData['body'], url: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > MAX_IDP_RESPONSE_BYTES) {
        body.destroy();
        throw new IdpHttpError(`${new URL(url).host} sent more than ${MAX_IDP_RESPONSE_BYTES} bytes`);
      }
      chunks.push(buf);
    }
  } catch (error) {
    if (error instanceof IdpHttpError) throw error;
    throw new IdpHttpError(`${describeError(error)} while reading from ${new URL(url).host}`, null, { cause: error });
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
