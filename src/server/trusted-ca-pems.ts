import { readFile } from 'node:fs/promises';
import type { GatewaySettings } from './settings.js';

/** The extra CAs of `--trusted-certificate`, trusted on the node's outgoing TLS (services, IdPs, its shared Redis). */
export function readTrustedCaPems(settings: Pick<GatewaySettings, 'trustedCertificates'>): Promise<string[]> {
  return Promise.all(settings.trustedCertificates.map((file) => readFile(file, 'utf8')));
}
