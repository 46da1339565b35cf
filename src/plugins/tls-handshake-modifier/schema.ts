import { Type, type Static } from '@sinclair/typebox';
import type { PluginSchema } from '../../pipeline/plugin.js';

/** Kong's tls-handshake-modifier: ask for a client certificate during the handshake, never require it. */
export const tlsHandshakeModifierConfig = Type.Object(
  {
    tls_client_certificate: Type.Union([Type.Literal('REQUEST')], {
      default: 'REQUEST',
      description: 'REQUEST: ask the client for a certificate; the handshake succeeds without one or with an untrusted one.',
    }),
  },
  { additionalProperties: false },
);

export type TlsHandshakeModifierConfig = Static<typeof tlsHandshakeModifierConfig>;

export const tlsHandshakeModifierSchema: PluginSchema = {
  name: 'tls-handshake-modifier',
  configSchema: tlsHandshakeModifierConfig,
  // Kong: no_consumer (the consumer is unknown during a handshake).
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['https'],
};
