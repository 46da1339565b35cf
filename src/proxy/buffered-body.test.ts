import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { isGatewayError, type GatewayError } from '../pipeline/gateway-error.js';
import { announcesBody, readBodyLimited } from './buffered-body.js';

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isGatewayError(error), `expected a GatewayError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('readBodyLimited', () => {
  it('reads a chunked body to its end, byte for byte', async () => {
    const parts = [Buffer.from('a=1&'), Buffer.from([0xc3, 0xa9]), Buffer.from('&b=2')];
    const body = await readBodyLimited(Readable.from(parts), { 'transfer-encoding': 'chunked' }, 100);
    assert.ok(body.equals(Buffer.concat(parts)));
  });

  it('reads nothing for a request that announces no body', async () => {
    const source = Readable.from([Buffer.from('ignored')]);
    assert.equal((await readBodyLimited(source, {}, 10)).length, 0);
    assert.equal((await readBodyLimited(source, { 'content-length': '0' }, 10)).length, 0);
    assert.equal(source.readableEnded, false, 'the stream was not touched');
  });

  it('refuses an announced Content-Length beyond the limit with 413 before reading a byte', async () => {
    const source = Readable.from([Buffer.alloc(20)]);
    const error = await refusal(readBodyLimited(source, { 'content-length': '20' }, 19));
    assert.equal(error.status, 413);
    assert.equal(error.code, 'request_body_too_large');
    assert.equal(error.message, 'Request size limit exceeded');
    assert.equal(error.headers?.['connection'], 'close', 'the rest of the body is not read only to be discarded');
    assert.equal(source.readableDidRead, false);
  });

  it('accepts a body of exactly the limit and refuses one byte more while reading, leaving the stream paused', async () => {
    assert.equal((await readBodyLimited(Readable.from([Buffer.alloc(8), Buffer.alloc(8)]), { 'transfer-encoding': 'chunked' }, 16)).length, 16);
    const source = new PassThrough();
    const reading = readBodyLimited(source, { 'transfer-encoding': 'chunked' }, 16);
    source.write(Buffer.alloc(10));
    source.write(Buffer.alloc(7));
    const error = await refusal(reading);
    assert.equal(error.status, 413);
    assert.equal(source.destroyed, false, 'never destroyed: the 413 must still reach the client');
    assert.equal(source.isPaused(), true);
  });

  it('reports a body that breaks off as client_aborted (499)', async () => {
    const source = new PassThrough();
    const reading = readBodyLimited(source, { 'content-length': '100' }, 1000);
    source.write('partial');
    source.destroy(new Error('socket hang up'));
    const error = await refusal(reading);
    assert.equal(error.status, 499);
    assert.equal(error.code, 'client_aborted');
  });

  it('rejects a nonsensical limit eagerly', async () => {
    await assert.rejects(readBodyLimited(Readable.from([]), { 'content-length': '1' }, -1), TypeError);
  });
});

describe('announcesBody', () => {
  it('follows RFC 9112: Transfer-Encoding or a non-zero Content-Length', () => {
    assert.equal(announcesBody({}), false);
    assert.equal(announcesBody({ 'content-length': '0' }), false);
    assert.equal(announcesBody({ 'content-length': '5' }), true);
    assert.equal(announcesBody({ 'transfer-encoding': 'chunked' }), true);
  });
});
