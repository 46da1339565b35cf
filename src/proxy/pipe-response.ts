import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { UpstreamResponse } from './send.js';
import { classifyFailure, UpstreamError } from './upstream-errors.js';

/**
 * Streams an upstream response body to the client, after the caller wrote the status and headers,
 * with backpressure (the upstream body pauses while the client socket is full). On failure both
 * sides are torn down:
 * - the client goes away: the upstream body is destroyed, which closes that upstream connection
 *   (it cannot be reused mid-response); rejects with `client_aborted` (499);
 * - the upstream fails mid-body (reset, `read_timeout` between chunks): the status line is already
 *   gone, so the only honest signal left is destroying the client connection; rejects with the
 *   classified failure (502/504), for the access log.
 * Trailers are forwarded when the response is chunked (node drops them otherwise).
 */
export async function pipeResponse(upstream: UpstreamResponse, res: ServerResponse): Promise<void> {
  // Teardown destroys both streams, so afterwards both sides look failed; whichever side reported
  // first is the cause.
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
    await pump(upstream.body, res, () => {
      // Trailers go out only with chunked framing (node drops them otherwise).
      const trailers = Object.entries(upstream.trailers);
      if (res.chunkedEncoding && trailers.length > 0) res.addTrailers(trailers);
    });
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
 * source → res until `res` finished. Not stream.pipeline(): on Node 20 it makes an AbortController
 * per call and aborts it at the end, and building that DOMException was 3% of the CPU of a proxied
 * request in the scenario 3 profile (bench/profile/).
 */
function pump(source: Readable, res: ServerResponse, beforeEnd: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const onData = (chunk: Buffer): void => {
      if (!res.write(chunk)) source.pause();
    };
    const onDrain = (): void => {
      source.resume();
    };
    const onEnd = (): void => {
      beforeEnd();
      res.end();
    };
    const onSourceClose = (): void => {
      if (!source.readableEnded) fail(source.errored ?? new Error('upstream body closed before its end'));
    };
    const onClientClose = (): void => {
      if (!res.writableFinished) fail(res.errored ?? new Error('client connection closed'));
    };
    const onFinish = (): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve();
    };
    function fail(error: unknown): void {
      if (settled) return;
      settled = true;
      cleanup();
      reject(error instanceof Error ? error : new Error(String(error)));
    }
    function cleanup(): void {
      source.off('data', onData).off('end', onEnd).off('error', fail).off('close', onSourceClose);
      res.off('drain', onDrain).off('finish', onFinish).off('error', fail).off('close', onClientClose);
    }
    source.on('data', onData).once('end', onEnd).once('error', fail).once('close', onSourceClose);
    res.on('drain', onDrain).once('finish', onFinish).once('error', fail).once('close', onClientClose);
  });
}
