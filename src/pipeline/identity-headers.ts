import type { HeaderMap, Identity } from './context.js';

/**
 * Kong's identity headers (kong/constants.lua), and the certificate identity mtls-auth sends with
 * `skip_consumer_lookup` (X-Client-Cert-DN/SAN): an upstream reads these as facts the gateway
 * verified, so clients may never set them themselves, on any route.
 */
export const identityHeaderNames = [
  'x-consumer-id',
  'x-consumer-username',
  'x-consumer-custom-id',
  'x-credential-identifier',
  'x-anonymous-consumer',
  'x-authenticated-groups',
  'x-consumer-groups',
  'x-client-cert-dn',
  'x-client-cert-san',
] as const;

/** Removes identity headers a client sent, before anything reads them. */
export function removeIdentityHeaders(headers: HeaderMap): void {
  for (const name of identityHeaderNames) delete headers[name];
}

/** Writes the identity established by an auth plugin into the upstream headers. */
export function applyIdentityHeaders(headers: HeaderMap, identity: Identity): void {
  const consumer = identity.consumer;
  if (consumer !== null) {
    headers['x-consumer-id'] = consumer.id;
    if (consumer.username !== null) headers['x-consumer-username'] = consumer.username;
    if (consumer.custom_id !== null) headers['x-consumer-custom-id'] = consumer.custom_id;
  }
  if (identity.credentialId !== null) headers['x-credential-identifier'] = identity.credentialId;
  if (identity.anonymous) headers['x-anonymous-consumer'] = 'true';
  if (identity.groups !== null && identity.groups.length > 0) headers['x-authenticated-groups'] = identity.groups.join(', ');
}
