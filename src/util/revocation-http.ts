import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { RevocationError } from './revocation-error.js';

/**
 * The HTTP client for OCSP responders and CRL distribution points: undici with the system CAs plus
 * `--trusted-certificate`, `ssl_verify` for https URLs, one `http_timeout` over the whole exchange
 * and a size limit, so a slow or hostile server can neither hang nor flood the gateway. Redirects
 * are not followed.
 */

/** Larger than any OCSP response with a responder chain. */
export const maxOcspResponseBytes = 128 * 1024;
/** A CRL of some 200k entries; bigger ones belong in OCSP. */
export const maxCrlBytes = 10 * 1024 * 1024;

export interface RevocationHttpOptions {
  /** Verify https servers' certificates. */
  readonly sslVerify: boolean;
  /** ms for the whole exchange (connect, headers, body); 0: no limit. */
  readonly timeoutMs: number;
  readonly trustedCaPems: readonly string[];
}

export class RevocationHttpClient {
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(options: RevocationHttpOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#agent = new Agent({
      connect: { ca: [...rootCertificates, ...options.trustedCaPems], rejectUnauthorized: options.sslVerify, timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  /** POSTs an OCSP request (RFC 6960 Appendix A.1) and returns the response body. */
  async postOcsp(url: URL, body: Uint8Array): Promise<Uint8Array> {
    return this.#exchange(url, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body,
    }, maxOcspResponseBytes);
  }

  /** GETs a CRL. */
  async getCrl(url: URL): Promise<Uint8Array> {
    return this.#exchange(url, { method: 'GET', headers: { accept: 'application/pkix-crl, */*' } }, maxCrlBytes);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #exchange(url: URL, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: Uint8Array }, limit: number): Promise<Uint8Array> {
    const signal = this.#timeoutMs > 0 ? AbortSignal.timeout(this.#timeoutMs) : undefined;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, { ...init, dispatcher: this.#agent, signal });
    } catch (error) {
      throw new RevocationError('ERR_REVOCATION_FETCH', describeError(error), { cause: error });
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      await discard(response.body);
      throw new RevocationError('ERR_REVOCATION_FETCH', `answered HTTP ${response.statusCode}`);
    }
    const declared = Number(response.headers['content-length']);
    if (declared > limit) {
      await discard(response.body);
      throw new RevocationError('ERR_REVOCATION_TOO_LARGE', `announced ${declared} bytes, more than ${limit}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        size += buffer.length;
        // Leaving the loop destroys the body (and its connection).
        if (size > limit) {
          throw new RevocationError('ERR_REVOCATION_TOO_LARGE', `sent more than ${limit} bytes`);
        }
        chunks.push(buffer);
      }
    } catch (error) {
      if (error instanceof RevocationError) throw error;
      throw new RevocationError('ERR_REVOCATION_FETCH', `${describeError(error)} while reading`, { cause: error });
    }
    return Buffer.concat(chunks);
  }
}

/** Reads a body we do not want to its end, or drops the connection if it is large; never throws. */
async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    // The connection is gone either way.
  }
}

/**
 * Whether `text` is an http(s) URL this client fetches; LDAP and file URLs are not. Returns the
 * parsed URL or null.
 */
export function parseRevocationUrl(text: string): URL | null {
  if (!URL.canParse(text)) return null;
  const url = new URL(text);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
}

/** Scheme, host and port only: a URL's user info, path or query could hold a credential. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timed out';
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.message;
  }
  return String(error);
}
