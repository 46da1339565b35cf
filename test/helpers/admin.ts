import { fetchText, type SimpleResponse } from './http.js';

/** A JSON request to a gateway's admin API. */
export function admin(
  baseUrl: string,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'HEAD',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<SimpleResponse> {
  return fetchText(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}
