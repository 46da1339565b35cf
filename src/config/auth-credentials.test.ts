import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { exportConfig } from './export.js';
import { loadConfig, loadConfigObject } from './index.js';
import { catalog, lines, loaded, loadErrors } from './test-fixtures.js';
import type { Config } from './types.js';

const load = (text: string): Config => loaded(loadConfig(text, { env: {}, plugins: catalog }));
const doc = (body: string): string => `_format_version: "3.0"\n${body}`;
/** Kong's stored form, computed here independently of the gateway's code. */
const kongHash = (password: string, consumerId: string): string => createHash('sha1').update(`${password}${consumerId}`).digest('hex');
const indent = (pem: string, spaces: number): string => pem.trim().split('\n').join(`\n${' '.repeat(spaces)}`);

const ALICE = '0f4c5e8a-7d3b-4c1a-9b2e-5a6d7c8e9f01';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const smallRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('basicauth_credentials and jwt_secrets', () => {
  it('hashes a written password as Kong does (SHA-1 of password and consumer id) and keeps a written hash as it is', () => {
    const config = load(doc(`consumers:
  - id: ${ALICE}
    username: alice
    basicauth_credentials:
      - username: alice
        password: open-sesame
      - username: alice-hashed
        password: ${kongHash('already-hashed', ALICE)}
basicauth_credentials:
  - username: bob
    password: hunter2
    consumer: alice
`));
    assert.deepEqual(
      config.basicauth_credentials.map((b) => [b.username, b.password]),
      [
        ['alice', kongHash('open-sesame', ALICE)],
        ['alice-hashed', kongHash('already-hashed', ALICE)],
        ['bob', kongHash('hunter2', ALICE)],
      ],
    );
    // The loaded configuration and its dump hold the hash only; loading the dump changes nothing.
    const dumped = exportConfig(config);
    assert.doesNotMatch(JSON.stringify(dumped), /open-sesame|hunter2/);
    const again = loaded(loadConfigObject(dumped, { plugins: catalog }));
    assert.deepEqual(again.basicauth_credentials, config.basicauth_credentials);
    assert.deepEqual(exportConfig(again), dumped);
  });

  it('reads jwt_secrets nested and top level, with Kong defaults (HS256) and stable ids', () => {
    const text = doc(`consumers:
  - username: alice
    jwt_secrets:
      - key: alice-iss
        secret: s3cr3t
      - key: alice-rs
        algorithm: RS256
        rsa_public_key: |
          ${indent(rsa, 10)}
  - username: bob
jwt_secrets:
  - key: bob-es
    algorithm: ES256
    rsa_public_key: |
      ${indent(p256, 6)}
    consumer: bob
`);
    const config = load(text);
    assert.deepEqual(config.jwt_secrets.map((j) => [j.key, j.algorithm, j.secret, j.rsa_public_key === null]), [
      ['alice-iss', 'HS256', 's3cr3t', true],
      ['alice-rs', 'RS256', null, false],
      ['bob-es', 'ES256', null, false],
    ]);
    assert.deepEqual(load(text).jwt_secrets.map((j) => j.id), config.jwt_secrets.map((j) => j.id));
    const dumped = exportConfig(config);
    assert.deepEqual(exportConfig(loaded(loadConfigObject(dumped, { plugins: catalog }))), dumped);
  });

  it('refuses a duplicate username or JWT key, a missing password, a bad algorithm, and keys that cannot verify, at their paths', () => {
    const errors = lines(loadErrors(doc(`consumers:
  - username: alice
    basicauth_credentials:
      - username: shared
        password: one
      - username: nopass
  - username: bob
    basicauth_credentials:
      - username: shared
        password: two
    jwt_secrets:
      - key: k1
        secret: s
      - key: k1
        secret: t
      - key: k2
        algorithm: HS999
      - key: k3
        algorithm: RS256
      - key: k4
        algorithm: RS256
        rsa_public_key: not a key
      - key: k5
        algorithm: ES256
        rsa_public_key: |
          ${indent(rsa, 10)}
      - key: k6
        algorithm: RS256
        rsa_public_key: |
          ${indent(smallRsa, 10)}
      - key: k7
      - key: k8
        algorithm: ES384
`)));
    assert.deepEqual(errors, [
      'consumers[0].basicauth_credentials[1].password: required field missing',
      'consumers[1].jwt_secrets[2].algorithm: must be one of HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512, EdDSA',
      'consumers[1].jwt_secrets[3].rsa_public_key: required for RS256',
      'consumers[1].jwt_secrets[4].rsa_public_key: invalid key',
      'consumers[1].jwt_secrets[5].rsa_public_key: a RSA key cannot verify ES256 signatures',
      'consumers[1].jwt_secrets[6].rsa_public_key: an RSA key of 1024 bits is too small (at least 2048, RFC 7518 §3.3)',
      'consumers[1].jwt_secrets[7].secret: required for HS256',
      'consumers[1].jwt_secrets[8].rsa_public_key: required for ES384',
      "consumers[1].basicauth_credentials[0].username: duplicate username 'shared' (also used by consumers[0].basicauth_credentials[0])",
      "consumers[1].jwt_secrets[1].key: duplicate key 'k1' (also used by consumers[1].jwt_secrets[0])",
    ]);
  });
});
