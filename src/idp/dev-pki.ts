// Certificates for running the IdP without bringing any: the development PKI of `portcullis certs
// init` (src/certs/development-pki-files.ts), made once in DIR/pki, so the tutorial's curl
// (`--cert client.crt --key client.key --cacert rootCA.crt`) works from that directory unchanged.
import { defaultServerHostnames, ensureDevelopmentPki } from '../certs/index.js';

export interface DevPki {
  dir: string;
  caPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** Whether this call made the files (false: they were there already). */
  created: boolean;
}

/**
 * Reuses the development PKI in `dir`, or makes it: a root CA, a server certificate for `hostname`
 * (when given and not a wildcard address) plus localhost, 127.0.0.1 and ::1, and the tutorial client.
 */
export async function ensureDevPki(dir: string, hostname?: string): Promise<DevPki> {
  const extra = hostname === undefined || ['', '0.0.0.0', '::', 'localhost'].includes(hostname) ? [] : [hostname];
  const { caKeyPath: _caKey, ...paths } = await ensureDevelopmentPki(dir, { hostnames: [...extra, ...defaultServerHostnames] });
  return paths;
}
