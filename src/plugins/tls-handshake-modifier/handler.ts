import type { PluginDefinition } from '../../pipeline/plugin.js';
import { tlsHandshakeModifierSchema, type TlsHandshakeModifierConfig } from './schema.js';

/**
 * All of this plugin's work happens in the handshake: the Runtime compiles, from every instance,
 * which SNIs ask for a certificate (`requestsClientCertificate`), and the listener applies it.
 * The certificate then reaches later plugins (openid-connect's binding) as `ctx.clientCertificate`.
 */
export const tlsHandshakeModifier: PluginDefinition<TlsHandshakeModifierConfig> = {
  schema: tlsHandshakeModifierSchema,
  priority: 997,
  requestsClientCertificate: true,
  create() {
    return {};
  },
};
