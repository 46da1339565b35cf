import { Agent, request, type Dispatcher } from 'undici';

/** An undici agent for tests that accepts the gateway's self-signed certificate. */
export const insecureAgent = new Agent({ connect: { rejectUnauthorized: false } });

export interface SimpleResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** One request, body read fully; for tests. */
export async function fetchText(
  url: string,
  options: { method?: Dispatcher.HttpMethod; headers?: Record<string, string>; body?: string | Buffer; dispatcher?: Dispatcher } = {},
): Promise<SimpleResponse> {
  const res = await request(url, {
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    dispatcher: options.dispatcher ?? insecureAgent,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

/** Case-insensitive header lookup in an httpbin-style `headers` object. */
export function echoedHeader(echo: { headers: Record<string, string> }, name: string): string | undefined {
  const key = Object.keys(echo.headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : echo.headers[key];
}

/**
 * Sends bytes exactly as given on a fresh TCP connection and returns everything the server sent
 * until it closed (or `timeoutMs`). For requests an HTTP client library refuses to produce.
 */
export async function rawExchange(port: number, bytes: string, timeoutMs = 5000): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(bytes);
  });
}

/** The JSON body of a raw HTTP/1.1 response text (Content-Length framed). */
export function rawJsonBody<T>(response: string): T {
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as T;
}
