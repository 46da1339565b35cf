// One HTTPS request with an optional client certificate, on a fresh connection (a pooled one would
// carry an earlier request's certificate), verifying the server against the quickstart's CA.
import { request } from 'node:https';
import { checkServerIdentity } from 'node:tls';

export interface HttpsCall {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** PEM of the CA that signed the server's certificate. */
  readonly ca: string;
  /** Client certificate and key (PEM), or none. */
  readonly client?: { readonly cert: string; readonly key: string };
  readonly timeoutMs?: number;
}

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export function httpsCall(call: HttpsCall): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      call.url,
      {
        method: call.method,
        headers: { ...call.headers, ...(call.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(call.body)) }) },
        ca: call.ca,
        // The server certificate names localhost; a listener on another address is still checked for it.
        servername: 'localhost',
        checkServerIdentity: (_host, cert) => checkServerIdentity('localhost', cert),
        ...(call.client === undefined ? {} : { cert: call.client.cert, key: call.client.key }),
        agent: false,
        timeout: call.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${call.url} within ${call.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(call.body);
  });
}
