// Two plain-HTTP proxy listeners sharing one Runtime: one trusts 127.0.0.0/8 (every peer here), the
// other trusts nobody. The public startGateway has one --trusted-ips per gateway, so tests that
// compare a trusted and an untrusted peer compose the real listener, handler and Runtime directly.
import type { Config } from '../../src/config/types.js';
import type { KeyAndCert } from '../../src/certs/index.js';
import { pluginDefinitions } from '../../src/plugins/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { RuntimeHolder } from '../../src/runtime/runtime-holder.js';
import type { AccessRecord } from '../../src/server/access-log.js';
import { drain, listen, type Listener } from '../../src/server/listeners.js';
import { createProxyHandler } from '../../src/server/proxy-handler.js';
import { defaultSettings } from '../../src/server/settings.js';
import { createLogger } from '../../src/util/logger.js';
import { localNodeServices } from '../../src/state/node-services.js';

export interface ProxyPair {
  readonly trustedUrl: string;
  readonly untrustedUrl: string;
  /** Access records of every finished request, in order. */
  readonly records: readonly AccessRecord[];
  close(): Promise<void>;
}

export async function startProxyPair(
  config: Config,
  options: { serverCertificate: KeyAndCert; trustedCaPems?: string[]; maxBufferedBodyBytes?: number },
): Promise<ProxyPair> {
  const logger = createLogger({ level: 'silent' });
  const deps = {
    plugins: pluginDefinitions,
    logger,
    defaultCertificate: { certPem: options.serverCertificate.certPem, keyPem: options.serverCertificate.keyPem },
    trustedCaPems: options.trustedCaPems ?? [],
    node: localNodeServices(),
  };
  const holder = new RuntimeHolder(Runtime.compile(config, deps, null), () => undefined);
  const records: AccessRecord[] = [];
  const observer = { requestFinished: (r: Readonly<AccessRecord>) => void records.push({ ...r }) };
  const listeners: Listener[] = [];
  for (const trustedIps of [['127.0.0.0/8'], ['10.0.0.0/8']]) {
    const handler = createProxyHandler({ holder, logger, accessLog: false, observer, trustedIps, maxBufferedBodyBytes: options.maxBufferedBodyBytes });
    listeners.push(await listen({ host: '127.0.0.1', port: 0, ssl: false, http2: false, backlog: 511 }, handler, defaultSettings.limits, { tls: null }));
  }
  return {
    trustedUrl: `http://127.0.0.1:${listeners[0]!.address.port}`,
    untrustedUrl: `http://127.0.0.1:${listeners[1]!.address.port}`,
    records,
    async close() {
      await drain(listeners, 0);
      await holder.closeAll();
    },
  };
}
