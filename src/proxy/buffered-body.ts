import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { GatewayError } from '../pipeline/gateway-error.js';

/**
 * A bounded, in-memory copy of a client's request body, for the few plugins that must read it
 * (`RequestContext.readBody`). Every other request keeps streaming through `RequestBodyTap`.
 */

/** Default limit of a buffered request body (`maxBufferedBodyBytes`): 1 MiB. */
export const DEFAULT_MAX_BUFFERED_BODY_BYTES = 1024 * 1024;

const noBytes = Buffer.alloc(0);

/** Whether a request announces a body (RFC 9112 §6.3: Transfer-Encoding, or a non-zero Content-Length). */
export function announcesBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * The 413 of a body beyond the limit. Kong's request-size-limiting message; the connection is
 * closed afterwards, as nginx does, so the rest of a large body is not read only to be discarded.
 */
export function bodyTooLarge(limit: number): GatewayError {
  return new GatewayError({
    status: 413,
    code: 'request_body_too_large',
    message: 'Request size limit exceeded',
    description: `the request body is larger than ${limit} bytes, the most a plugin may have buffered`,
    headers: { connection: 'close' },
  });
}

/**
 * Reads `source` to its end into one Buffer, refusing (413, `bodyTooLarge`) as soon as more than
 * `limit` bytes are announced by Content-Length or received. A body that breaks off is a
 * `client_aborted` GatewayError (499, never sent). On refusal the stream is left paused and
 * unread, never destroyed: the 413 must still reach the client. `announced`: whether a body
 * follows at all (HTTP/2 frames one without Content-Length; see `ClientProtocol.hasBody`);
 * `tooLarge`: the refusal beyond the limit (a `limitBody` bound's own).
 */
export function readBodyLimited(
  source: Readable,
  headers: IncomingHttpHeaders,
  limit: number,
  announced = announcesBody(headers),
  tooLarge: () => GatewayError = () => bodyTooLarge(limit),
): Promise<Buffer> {
  if (!Number.isSafeInteger(limit) || limit < 0) return Promise.reject(new TypeError(`body limit must be a non-negative integer, got ${limit}`));
  if (!announced) return Promise.resolve(noBytes);
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  if (source.readableEnded) return Promise.resolve(noBytes);
  if (source.errored !== null) return Promise.reject(clientAborted(source.errored));

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const detach = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        detach();
        source.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      detach();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      detach();
      reject(clientAborted(error));
    };
    const onClose = (): void => {
      if (source.readableEnded) return;
      detach();
      reject(clientAborted(new Error('client request body closed before its end')));
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    source.on('close', onClose);
    source.resume();
  });
}

function clientAborted(cause: Error): GatewayError {
  // nginx's 499: logged, never sent (the client is gone).
  return new GatewayError({ status: 499, code: 'client_aborted', message: 'Client closed request', description: `client request body failed: ${cause.message}`, cause });
}
