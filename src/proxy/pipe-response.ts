import { BodyFailure, type BeforeEnd, type ResponseSink } from './upstream-exchange.js';
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
 * `forwardTrailers` (the client protocol's) passes the upstream's trailers on where it can.
 */
export async function pipeResponse<Res extends ResponseSink>(upstream: UpstreamResponse, res: Res, forwardTrailers: BeforeEnd<Res> | null): Promise<void> {
  try {
    await upstream.body.pipeTo(res, forwardTrailers);
  } catch (error) {
    if (!res.destroyed) res.destroy();
    upstream.body.destroy();
    const failure = error instanceof BodyFailure ? error : new BodyFailure('upstream', error);
    if (failure.origin === 'client') throw new UpstreamError('client_aborted', upstream.attempts, failure.error);
    throw new UpstreamError(classifyFailure(failure.error), upstream.attempts, failure.error);
  }
}
