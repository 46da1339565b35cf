import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashBasicAuthPassword, isStoredPasswordForm, passwordMatches, storedPassword } from '../../config/basic-auth-password.js';
import { parseBasicCredentials } from './find-credentials.js';

const basic = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;

describe("basic-auth: Kong's reading of the header", () => {
  it('splits at the first colon after a non-empty username; the password may be empty or hold colons', () => {
    assert.deepEqual(parseBasicCredentials(basic('alice:pa:ss')), { username: 'alice', password: 'pa:ss' });
    assert.deepEqual(parseBasicCredentials(basic('alice:')), { username: 'alice', password: '' });
    assert.deepEqual(parseBasicCredentials(`  basic ${Buffer.from('a:b').toString('base64')}`), { username: 'a', password: 'b' });
    assert.equal(parseBasicCredentials(basic('alice')), null);
    assert.equal(parseBasicCredentials(basic(':secret')), null);
    assert.equal(parseBasicCredentials('Basic !!!'), null);
    assert.equal(parseBasicCredentials('Bearer abc'), null);
    assert.equal(parseBasicCredentials(undefined), null);
  });
});

describe("basic-auth: Kong's stored password", () => {
  const consumer = '5a1f2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b';
  it('is the hex SHA-1 of the password and the consumer id; a value already in that form is kept', () => {
    const expected = createHash('sha1').update(`s3cret${consumer}`).digest('hex');
    assert.equal(hashBasicAuthPassword(consumer, 's3cret'), expected);
    assert.equal(storedPassword(consumer, 's3cret'), expected);
    assert.equal(storedPassword(consumer, expected), expected, 'not hashed a second time');
    assert.ok(isStoredPasswordForm(expected));
    assert.ok(!isStoredPasswordForm(expected.toUpperCase()), 'Kong writes lowercase hex: anything else is a password');
    assert.ok(passwordMatches(consumer, expected, 's3cret'));
    assert.ok(!passwordMatches(consumer, expected, expected));
    assert.ok(!passwordMatches(consumer, expected, 's3cre'));
  });
});
