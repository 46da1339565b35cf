import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { GatewayError } from '../pipeline/gateway-error.js';
import { RequestBodyTap } from './request-body.js';

const refusal = () => new GatewayError({ status: 413, code: 'request_size_limit_exceeded', message: 'Request size limit exceeded' });

/** Everything the tap lets through, and how it ended. */
async function drain(tap: RequestBodyTap): Promise<{ bytes: number; error: unknown }> {
  let bytes = 0;
  try {
    for await (const chunk of tap) bytes += (chunk as Buffer).length;
    return { bytes, error: null };
  } catch (error) {
    return { bytes, error };
  }
}

describe('RequestBodyTap with a limitBody bound', () => {
  it('passes a body up to the bound whole', async () => {
    const source = new PassThrough();
    const tap = new RequestBodyTap(source, 0, { limit: 10, refusal });
    source.write(Buffer.alloc(4));
    source.end(Buffer.alloc(6));
    assert.deepEqual(await drain(tap), { bytes: 10, error: null });
    assert.equal(tap.overLimit, null);
  });

  it('drops the chunk that crosses the bound and fails with its refusal, leaving the client stream paused', async () => {
    const source = new PassThrough();
    const tap = new RequestBodyTap(source, 0, { limit: 10, refusal });
    const drained = drain(tap);
    source.write(Buffer.alloc(8));
    source.write(Buffer.alloc(8));
    const { bytes, error } = await drained;
    assert.ok(bytes <= 10, 'nothing beyond the bound went through');
    assert.ok(error instanceof GatewayError && error.status === 413);
    assert.equal(tap.overLimit, error);
    assert.equal(source.destroyed, false, 'the client stream stays open for the 413');
    assert.equal(source.isPaused(), true);
  });
});
