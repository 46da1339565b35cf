import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultIdpClients, loadIdpClientsFile, resolveClients, toProviderClient } from './clients.js';
import type { IdpClientConfig } from './types.js';

const defaults = { audience: 'urn:portcullis:api', scopes: ['read', 'write'] };

describe('IdP clients', () => {
  it('defaults to the tutorial client kong: tls_client_auth, bound, JWT', () => {
    const [kong, opaque, secret, dpop, dpopOpaque, introspection] = resolveClients(defaultIdpClients(), defaults);
    assert.equal(kong?.client_id, 'kong');
    assert.equal(kong?.tls_client_certificate_bound_access_tokens, true);
    assert.equal(kong?.access_token_format, 'jwt');
    assert.equal(opaque?.access_token_format, 'opaque');
    assert.equal(secret?.tls_client_certificate_bound_access_tokens, false);
    assert.equal(dpop?.dpop_bound_access_tokens, true);
    assert.equal(dpop?.tls_client_certificate_bound_access_tokens, false);
    assert.equal(dpopOpaque?.access_token_format, 'opaque');
    assert.equal(introspection?.introspection, true);
    assert.deepEqual(introspection?.grant_types, []);
    assert.deepEqual(toProviderClient(kong ?? assert.fail()), {
      client_id: 'kong',
      token_endpoint_auth_method: 'tls_client_auth',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      tls_client_certificate_bound_access_tokens: true,
      dpop_bound_access_tokens: false,
      scope: 'read write',
      tls_client_auth_subject_dn: 'CN=client-app, OU=Dev, O=ClientOrg, L=City, ST=State, C=US',
    });
  });

  for (const [name, client, message] of [
    ['a tls_client_auth client without a DN', { client_id: 'a', token_endpoint_auth_method: 'tls_client_auth' }, /clients\[0\]\.tls_client_auth_subject_dn is required/],
    ['a malformed DN', { client_id: 'a', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'client-app' }, /clients\[0\]\.tls_client_auth_subject_dn/],
    ['a self-signed client without a certificate', { client_id: 'a', token_endpoint_auth_method: 'self_signed_tls_client_auth' }, /certificate_pem is required/],
    ['a secret client with a short secret', { client_id: 'a', token_endpoint_auth_method: 'client_secret_basic', client_secret: 'x' }, /client_secret of at least 8/],
    ['an unknown method', { client_id: 'a', token_endpoint_auth_method: 'none' }, /token_endpoint_auth_method must be one of/],
    ['an unknown field', { client_id: 'a', token_endpoint_auth_method: 'client_secret_basic', client_secret: '12345678', colour: 'red' }, /clients\[0\]\.colour: unknown field/],
    ['a bad lifetime', { client_id: 'a', token_endpoint_auth_method: 'client_secret_basic', client_secret: '12345678', access_token_ttl: 0 }, /access_token_ttl/],
    ['a scope with a space', { client_id: 'a', token_endpoint_auth_method: 'client_secret_basic', client_secret: '12345678', scopes: ['a b'] }, /scopes/],
    ['another grant type', { client_id: 'a', token_endpoint_auth_method: 'client_secret_basic', client_secret: '12345678', grant_types: ['password'] }, /grant_types/],
  ] as const) {
    it(`refuses ${name} with a TypeError naming the field`, () => {
      assert.throws(() => resolveClients([client as unknown as IdpClientConfig], defaults), { name: 'TypeError', message: message });
    });
  }

  it('refuses a client id used twice', () => {
    const kong = defaultIdpClients()[0] ?? assert.fail();
    assert.throws(() => resolveClients([kong, kong], defaults), /clients\[1\]\.client_id: 'kong' is used twice/);
  });

  it('reads a YAML file, with certificate_file relative to it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-idp-clients-'));
    try {
      await writeFile(join(dir, 'robot.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
      await writeFile(
        join(dir, 'clients.yaml'),
        'clients:\n  - client_id: robot\n    token_endpoint_auth_method: self_signed_tls_client_auth\n    certificate_file: robot.pem\n',
      );
      const [robot] = await loadIdpClientsFile(join(dir, 'clients.yaml'));
      assert.equal(robot?.client_id, 'robot');
      assert.match(robot?.certificate_pem ?? '', /BEGIN CERTIFICATE/);
      await writeFile(join(dir, 'bad.yaml'), 'clients: 3\n');
      await assert.rejects(loadIdpClientsFile(join(dir, 'bad.yaml')), /expected a list of clients/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
