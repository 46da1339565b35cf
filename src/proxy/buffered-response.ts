import { Writable } from 'node:stream';
import { GatewayError } from '../pipeline/gateway-error.js';
import { BodyFailure, type UpstreamExchange } from './upstream-exchange.js';
import { classifyFailure, UpstreamError } from './upstream-errors.js';

/**
 * The 502 of an upstream response body larger than the gateway will hold in memory for a plugin
 * that must rewrite it. Sending it untransformed instead would pass on what the configuration says
 * must change (a `remove.json: [password]`): the gateway fails closed.
 */
export function responseBodyTooLarge(limit: number): GatewayError {
  return new GatewayError({
    status: 502,
    code: 'response_body_too_large',
    message: 'An invalid response was received from the upstream server',
    description: `the upstream response body is larger than ${limit} bytes, the most the gateway buffers to transform it`,
  });
}

/**
 * Reads an upstream response body whole, at most `limit` bytes: beyond them the upstream
 * connection is closed and the promise rejects with `responseBodyTooLarge`. A body that breaks off
 * rejects with the classified UpstreamError (502/504), as a streamed one would.
 */
export async function readResponseBodyLimited(exchange: UpstreamExchange, limit: number, attempts: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  const collector = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > limit) {
        overflow = true;
        callback(new Error('response body over the limit'));
        return;
      }
      chunks.push(chunk);
      callback();
    },
  });
  // The overflow error is reported through pipeTo (the collector closes); nothing else listens.
  collector.on('error', () => undefined);
  try {
    await exchange.pipeTo(collector);
  } catch (error) {
    exchange.destroy();
    if (overflow) throw responseBodyTooLarge(limit);
    const failure = error instanceof BodyFailure ? error.error : error;
    throw new UpstreamError(classifyFailure(failure), attempts, failure);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
