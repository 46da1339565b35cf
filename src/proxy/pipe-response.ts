import type { ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { UpstreamResponse } from './send.js';
import { classifyFailure, UpstreamError } from './upstream-errors.js';

/**
 * Streams an upstream response body to the client, after the caller wrote the status and headers.
 * pipeline() gives backpressure both ways and tears everything down on failure:
 * - the client goes away: the upstream body is destroyed, which closes that upstream connection
 *   (it cannot be reused mid-response); rejects with `client_aborted` (499);
 * - the upstream fails mid-body (reset, `read_timeout` between chunks): the status line is already
 *   gone, so the only honest signal left is destroying the client connection; rejects with the
 *   classified failure (502/504), for the access log.
 * Trailers are forwarded when the response is chunked (node drops them otherwise).
 */
export async function pipeResponse(upstream: UpstreamResponse, res: ServerResponse): Promise<void> {
  // pipeline() destroys every stream with the first error, so afterwards both sides look failed;
  // whichever side reported first is the cause.
  let origin: 'client' | 'upstream' | undefined;
  const onUpstreamError = (): void => {
    origin ??= 'upstream';
  };
  const onClientGone = (): void => {
    if (!res.writableFinished) origin ??= 'client';
  };
  upstream.body.once('error', onUpstreamError);
  res.once('close', onClientGone);
  res.once('error', onClientGone);
  try {
    if (res.chunkedEncoding) {
      await pipeline(upstream.body, trailerForwarder(upstream, res), res);
    } else {
      await pipeline(upstream.body, res);
    }
  } catch (error) {
    if (!res.destroyed) res.destroy();
    if (!upstream.body.destroyed) upstream.body.destroy();
    if (origin === 'client') throw new UpstreamError('client_aborted', upstream.attempts, error);
    const cause = upstream.body.errored ?? error;
    throw new UpstreamError(classifyFailure(cause), upstream.attempts, cause);
  } finally {
    upstream.body.off('error', onUpstreamError);
    res.off('close', onClientGone);
    res.off('error', onClientGone);
  }
}

/**
 * A pass-through that, as the body ends and before pipeline() ends the response, copies the
 * trailers undici collected onto it.
 */
function trailerForwarder(upstream: UpstreamResponse, res: ServerResponse): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      callback(null, chunk);
    },
    flush(callback: TransformCallback): void {
      const trailers = Object.entries(upstream.trailers);
      if (trailers.length > 0) res.addTrailers(trailers);
      callback();
    },
  });
}
