// Kong's tutorial "Configure OpenID Connect with cert-bound access tokens" on one machine, in one
// process: the certificates (made once), the echo upstream in place of httpbin, the development IdP
// in place of Keycloak, and the gateway; then the tutorial's decK steps, applied through the admin
// API exactly as `portcullis apply` applies them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adminExposureWarning } from '../admin/admin-exposure.js';
import { AdminClient } from '../cli/admin-client.js';
import { readDeckDocument } from '../cli/admin-client-document.js';
import { applyDocument } from '../cli/commands/apply.js';
import { emptyConfig } from '../config/index.js';
import { startEchoServer, type EchoServer } from '../echo/index.js';
import type { IdpServer } from '../idp/types.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { AccessRecord } from '../server/access-log.js';
import { startGateway, type Gateway } from '../server/gateway.js';
import { parseListen } from '../server/listen-spec.js';
import { defaultSettings, type GatewaySettings } from '../server/settings.js';
import { createLogger } from '../util/logger.js';
import { ensureQuickstartPki, type QuickstartPki } from './pki.js';
import { describeBindError, describeGatewayBindError } from './port-errors.js';
import { RequestLog } from './request-log.js';
import { issuerVariable, tutorialSteps, writeTutorialSteps } from './tutorial-config.js';

export interface QuickstartOptions {
  /** Working directory: certs/, idp/ (signing keys), deck/ (the applied files). */
  readonly prefix: string;
  /** Kong listen syntax; must include an `ssl` listener (the tutorial calls 8443). */
  readonly proxyListen: string;
  /** Must include a plain HTTP listener: the configuration is applied through it. */
  readonly adminListen: string;
  /** Port of the development IdP on localhost; 0 = any free port. */
  readonly idpPort: number;
  /** Port of the echo upstream on 127.0.0.1; 0 = any free port. */
  readonly echoPort: number;
  readonly logLevel: GatewaySettings['logLevel'];
  /** Environment for the decK templates (`DECK_ISSUER` is set to the IdP's issuer on top). */
  readonly env: NodeJS.ProcessEnv;
  /** Progress and the IdP's log lines (its refusal reasons). */
  readonly log?: (line: string) => void;
  /** Every request the gateway finished. */
  readonly onRequest?: (record: Readonly<AccessRecord>) => void;
}

export const defaultQuickstartOptions = {
  prefix: join('.portcullis', 'quickstart'),
  proxyListen: defaultSettings.proxyListen,
  adminListen: defaultSettings.adminListen,
  idpPort: 9443,
  echoPort: 8080,
  logLevel: 'warn',
} as const satisfies Partial<QuickstartOptions>;

/** A running quickstart. */
export interface Quickstart {
  readonly pki: QuickstartPki;
  readonly echo: EchoServer;
  readonly idp: IdpServer;
  readonly gateway: Gateway;
  /** `http://127.0.0.1:PORT` of the admin listener the configuration went through. */
  readonly adminUrl: string;
  /** Bound ports of the first plain and the first TLS proxy listener. */
  readonly proxyPorts: { readonly http: number | null; readonly https: number };
  /** Host to write in URLs of the TLS proxy listener (`localhost` for wildcard and loopback addresses). */
  readonly proxyHost: string;
  /** The decK files applied, in order, with apply's summary line. */
  readonly applied: ReadonlyArray<{ readonly path: string; readonly title: string; readonly summary: string }>;
  readonly requests: RequestLog;
  /** Stops the gateway (draining), the IdP and the upstream. */
  close(): Promise<void>;
}

const loopbackOrAny = new Set(['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost']);

function checkOptions(options: QuickstartOptions): void {
  for (const [name, port] of [['--idp-port', options.idpPort], ['--echo-port', options.echoPort]] as const) {
    if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new TypeError(`${name}: ${String(port)} is not a port (0 to 65535)`);
  }
  if (!parseListen(options.proxyListen, 'proxy-listen').some((s) => s.ssl)) {
    throw new TypeError("--proxy-listen: the quickstart needs an ssl listener (e.g. '0.0.0.0:8443 ssl'): the client certificate travels in TLS");
  }
  if (!parseListen(options.adminListen, 'admin-listen').some((s) => !s.ssl)) {
    throw new TypeError("--admin-listen: the quickstart needs a plain HTTP admin listener (e.g. '127.0.0.1:8001') to apply the configuration");
  }
}

/** Starts everything and applies the tutorial's configuration; on any failure, stops what it started. */
export async function startQuickstart(options: QuickstartOptions): Promise<Quickstart> {
  checkOptions(options);
  const log = options.log ?? (() => {});
  const closers: Array<() => Promise<void>> = [];
  // Last started, first stopped; one failing to stop does not keep the others running.
  const closeAll = async (): Promise<void> => {
    const failures: unknown[] = [];
    for (const close of closers.splice(0).reverse()) await close().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  };
  try {
    const pki = await ensureQuickstartPki(join(options.prefix, 'certs'));
    const [serverCertPem, serverKeyPem, caPem] = await Promise.all([pki.serverCertPath, pki.serverKeyPath, pki.caPath].map((p) => readFile(p, 'utf8')));

    const echo = await startEchoServer({ host: '127.0.0.1', port: options.echoPort }).catch((error: unknown) => {
      throw describeBindError(error, 'echo upstream on 127.0.0.1', '--echo-port', options.echoPort);
    });
    closers.push(() => echo.close());

    // Loaded here, as in `portcullis idp`: oidc-provider is the heaviest import of the package.
    const { developmentNotice, startIdp } = await import('../idp/server.js');
    const idp = await startIdp({
      dir: join(options.prefix, 'idp'),
      host: 'localhost',
      port: options.idpPort,
      realm: 'master',
      tls: { certPem: serverCertPem ?? '', keyPem: serverKeyPem ?? '', caPems: [caPem ?? ''] },
      log: (line) => {
        if (line !== developmentNotice) log(`idp: ${line}`);
      },
    }).catch((error: unknown) => {
      throw describeBindError(error, 'development IdP on localhost', '--idp-port', options.idpPort);
    });
    closers.push(() => idp.close());

    let started: Gateway | null = null;
    const metrics = new GatewayMetrics({ config: () => started?.holder.current ?? { version: 0, loadedAt: new Date(0), hash: '' } });
    const requests = new RequestLog(metrics, options.onRequest);
    const settings: GatewaySettings = {
      ...defaultSettings,
      prefix: join(options.prefix, 'gateway'),
      proxyListen: options.proxyListen,
      adminListen: options.adminListen,
      // The gateway serves server.crt (localhost), so `--cacert rootCA.crt` works as well as -k,
      // and trusts rootCA.crt for the IdP's discovery and keys (openid-connect's ssl_verify).
      sslCert: pki.serverCertPath,
      sslCertKey: pki.serverKeyPath,
      trustedCertificates: [pki.caPath],
      logLevel: options.logLevel,
      accessLog: false,
      drainTimeoutMs: 5000,
    };
    const exposure = adminExposureWarning(settings.adminListen, null);
    if (exposure !== null) log(exposure);
    // Each run starts from an empty configuration and applies the tutorial's steps to it: the
    // configuration lives in memory, so nothing from an earlier run (older ports) comes back.
    const gateway = await startGateway(settings, { logger: createLogger({ level: options.logLevel }), config: emptyConfig(), observer: requests, admin: { metrics } }).catch(
      (error: unknown) => {
        throw describeGatewayBindError(error, options.proxyListen, options.adminListen);
      },
    );
    started = gateway;
    closers.push(() => gateway.close());

    const admin = gateway.adminListeners.find((l) => !l.spec.ssl);
    const https = gateway.proxyListeners.find((l) => l.spec.ssl);
    const http = gateway.proxyListeners.find((l) => !l.spec.ssl);
    if (admin === undefined || https === undefined) throw new Error('the gateway started without the listeners the quickstart needs');
    const adminUrl = `http://${urlHost(admin.spec.host === '0.0.0.0' || admin.spec.host === '::' ? '127.0.0.1' : admin.address.host)}:${admin.address.port}`;

    const steps = tutorialSteps(`${echo.url}/anything`);
    const paths = await writeTutorialSteps(join(options.prefix, 'deck'), steps);
    const client = new AdminClient({ url: adminUrl, token: null });
    const env = { ...options.env, [issuerVariable]: idp.issuer };
    const applied: Array<{ path: string; title: string; summary: string }> = [];
    for (const [i, path] of paths.entries()) {
      const document = await readDeckDocument(path, env);
      applied.push({ path, title: steps[i]?.title ?? '', summary: await applyDocument(client, document, path) });
    }

    return {
      pki,
      echo,
      idp,
      gateway,
      adminUrl,
      proxyPorts: { http: http?.address.port ?? null, https: https.address.port },
      proxyHost: loopbackOrAny.has(https.spec.host) ? 'localhost' : urlHost(https.spec.host),
      applied,
      requests,
      close: closeAll,
    };
  } catch (error) {
    // The start's own error is the one to report; a failure to stop what had started would hide it.
    await closeAll().catch(() => {});
    throw error;
  }
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
