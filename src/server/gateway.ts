import { ActiveHealthChecks } from '../balancer/health/active-checks.js';
import { liveTargets, logHealthChange } from '../balancer/health/health-log.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { createAdminHandler, type AdminOptions, type MetricsSource } from '../admin/admin-handler.js';
import type { ServerStats } from '../admin/info-routes.js';
import type { PluginDefinition } from '../pipeline/plugin.js';
import { pluginDefinitions } from '../plugins/index.js';
import { Runtime, type RuntimeDependencies } from '../runtime/runtime.js';
import { RuntimeHolder } from '../runtime/runtime-holder.js';
import type { ConfigStore } from '../store/config-store.js';
import { ConfigManager } from '../store/config-manager.js';
import { MemoryConfigStore } from '../store/memory-config-store.js';
import type { ClusterSource } from '../admin/clustering-routes.js';
import { loadDefaultCertificate } from './default-certificate.js';
import { parseListen } from './listen-spec.js';
import { writeAccessLog } from './access-log.js';
import { drain, listen, type Listener, type ListenerHandlers } from './listeners.js';
import { createProxyHandler } from './proxy-handler.js';
import type { GatewayObserver } from './observer.js';
import { readTrustedCaPems } from './trusted-ca-pems.js';
import type { GatewaySettings } from './settings.js';
import { version } from '../version.js';
import { localNodeServices, type NodeServices } from '../state/node-services.js';

/** A running gateway: its listeners and the handle to change its configuration. */
export interface Gateway {
  readonly proxyListeners: readonly Listener[];
  readonly adminListeners: readonly Listener[];
  /** `--status-listen`: /status, /status/ready and /metrics only. */
  readonly statusListeners: readonly Listener[];
  readonly holder: RuntimeHolder;
  /** Compiles `config` and makes it current; throws (keeping the old one) if it cannot be compiled. */
  applyConfig(config: Config): Runtime;
  /** Validated, durable configuration changes (what the admin API uses). */
  readonly configManager: ConfigManager;
  /** Graceful stop: stop accepting, drain in-flight requests, release everything. */
  close(): Promise<void>;
  /** Connections open on the proxy listeners and requests served so far, in this process. */
  stats(): ServerStats;
}

export interface StartOptions {
  readonly logger: Logger;
  readonly config: Config;
  /** The `--trusted-certificate` PEMs when the caller read them already (for its Redis client too); else read here. */
  readonly trustedCaPems?: readonly string[];
  /** The plugin catalogue; every built-in plugin unless a test brings its own. */
  readonly plugins?: ReadonlyMap<string, PluginDefinition>;
  /** State shared by this node's workers; default: an in-memory replay store and a random nonce key. */
  readonly node?: NodeServices;
  /**
   * Whether this process probes upstream targets and logs their health changes (default true). A
   * worker does not: its primary probes for the node and tells it (server/cluster).
   */
  readonly healthChecks?: boolean;
  /** Metrics hooks. */
  readonly observer?: GatewayObserver;
  /** Where configuration changes are saved; default: in memory only. */
  readonly store?: ConfigStore;
  /** Admin API extras: the metrics served at `/metrics`, the body size limit. */
  /** With a configuration database: whether it answers (`/status` `database.reachable`). */
  readonly databaseReachable?: () => boolean;
  /** With a configuration database: whether it ever answered (`/status/ready` is 503 until it has). */
  readonly databaseEverReached?: () => boolean;
  readonly admin?: { readonly metrics?: MetricsSource; readonly maxBodyBytes?: number; readonly showPrivateKeys?: boolean; readonly cluster?: ClusterSource };
  /**
   * With --workers, the primary: after a configuration change is live here, make it live in every
   * worker (resolves when they all serve it; never rejects), and count their connections/requests.
   */
  readonly workers?: {
    readonly propagate: (config: Config) => Promise<void>;
    readonly stats: () => Promise<ServerStats>;
    /** Null while the workers serve; otherwise why the proxy is not ready (see InfoSource.notReady). */
    readonly notReady: () => string | null;
  };
}

export async function startGateway(settings: GatewaySettings, options: StartOptions): Promise<Gateway> {
  const logger = options.logger;
  const plugins = options.plugins ?? pluginDefinitions;
  const defaultCertificate = await loadDefaultCertificate(settings);
  const trustedCaPems = options.trustedCaPems ?? (await readTrustedCaPems(settings));
  const deps: RuntimeDependencies = { plugins, logger, defaultCertificate, trustedCaPems, upstreamHttp2: settings.upstreamHttp2, node: options.node ?? localNodeServices() };
  const compiling = performance.now();
  const holder = new RuntimeHolder(Runtime.compile(options.config, deps, null), (error) =>
    logger.error({ err: error }, 'closing a retired configuration failed'),
  );
  // How long a configuration of this size takes to build (the scale benchmark reads it).
  logger.info({ config_version: holder.current.version, compile_ms: Math.round(performance.now() - compiling) }, 'configuration compiled');
  const activeChecks = options.healthChecks === false ? null : new ActiveHealthChecks(deps.node.health, { trustedCaPems });
  if (activeChecks !== null) deps.node.health.onChange((change) => logHealthChange(logger, change));
  const healthFollows = (config: Config): void => {
    deps.node.health.retain(liveTargets(config));
    activeChecks?.apply(config);
  };
  healthFollows(options.config);
  const applyConfig = (config: Config): Runtime => {
    const compiling = performance.now();
    const next = Runtime.compile(config, deps, holder.current);
    const compileMs = performance.now() - compiling;
    holder.swap(next);
    healthFollows(config);
    logger.info({ config_version: next.version, configuration_hash: next.hash, compile_ms: Math.round(compileMs) }, 'configuration applied');
    return next;
  };
  const configManager = new ConfigManager({
    store: options.store ?? new MemoryConfigStore(),
    plugins: new Map([...plugins].map(([name, definition]) => [name, definition.schema])),
    current: () => holder.current.config,
    apply: (config) => {
      applyConfig(config);
      return options.workers?.propagate(config);
    },
  });

  let totalRequests = 0;
  let draining = false;
  const observer = options.observer ?? {};
  const proxyHandler = createProxyHandler({ holder, logger, accessLog: settings.accessLog, observer, trustedIps: settings.trustedIps, maxBufferedBodyBytes: settings.limits.maxBufferedBodySize, websocket: { idleTimeoutMs: settings.limits.websocketIdleTimeoutMs, maxDurationMs: settings.limits.websocketMaxDurationMs } });
  const countingHandlers: ListenerHandlers = {
    http1: (req, res) => {
      totalRequests++;
      // While draining, every response closes its connection so clients move elsewhere (HTTP/2 clients got a GOAWAY).
      if (draining) res.shouldKeepAlive = false;
      proxyHandler.http1(req, res);
    },
    http2: (req, res) => {
      totalRequests++;
      proxyHandler.http2(req, res);
    },
    upgrade: (req, socket, head) => {
      totalRequests++;
      proxyHandler.upgrade(req, socket, head);
    },
  };

  const proxyListeners: Listener[] = [];
  const adminListeners: Listener[] = [];
  const statusListeners: Listener[] = [];
  const closeAll = async (): Promise<void> => {
    await drain([...proxyListeners, ...adminListeners, ...statusListeners], 0);
  };
  try {
    for (const spec of parseListen(settings.proxyListen, 'proxy-listen')) {
      // onClientError: requests refused by the HTTP parser or for their Host header are logged like any other.
      proxyListeners.push(await listen(spec, countingHandlers, settings.limits, { tls: { holder, defaultCertificate: () => defaultCertificate }, observer, onClientError: settings.accessLog ? (record) => writeAccessLog(logger, record) : undefined }));
    }
    const adminOptions: AdminOptions = {
      info: {
        version,
        nodeId: settings.nodeId ?? randomUUID(),
        ...(options.databaseReachable === undefined ? {} : { databaseReachable: options.databaseReachable }),
        plugins,
        runtime: () => holder.current,
        stats: options.workers?.stats ?? (() => ({
          connections_active: proxyListeners.reduce((n, l) => n + l.openConnections(), 0),
          total_requests: totalRequests,
        })),
        // In one process the proxy listeners are bound before the admin API: ready until draining.
        notReady: () => {
          if (draining) return 'draining';
          if (options.databaseEverReached?.() === false) return 'the database was never reached: serving the local copy';
          return options.workers?.notReady() ?? null;
        },
      },
      logger,
      manager: configManager,
      token: settings.adminToken,
      maxBodyBytes: options.admin?.maxBodyBytes,
      showPrivateKeys: options.admin?.showPrivateKeys ?? false,
      metrics: options.admin?.metrics ?? null,
      cluster: options.admin?.cluster ?? null,
      health: deps.node.health,
    };
    const adminHandler = createAdminHandler(adminOptions);
    for (const spec of parseListen(settings.adminListen, 'admin-listen')) {
      // Kong's admin_listen has an http2 port too; its clients (decK, curl, browsers) all speak HTTP/1.1 as well.
      if (spec.http2) logger.warn({ listener: `${spec.host}:${spec.port}` }, 'http2 is not served on the admin API: this listener speaks HTTP/1.1');
      adminListeners.push(await listen(spec, { http1: adminHandler }, settings.limits, { tls: { holder, defaultCertificate: () => defaultCertificate } }));
    }
    const statusHandler = createAdminHandler({ ...adminOptions, statusOnly: true });
    for (const spec of parseListen(settings.statusListen, 'status-listen')) {
      statusListeners.push(await listen(spec, { http1: statusHandler }, settings.limits, { tls: { holder, defaultCertificate: () => defaultCertificate } }));
    }
  } catch (error) {
    activeChecks?.close();
    await closeAll();
    throw error;
  }

  return {
    proxyListeners,
    adminListeners,
    statusListeners,
    holder,
    applyConfig,
    configManager,
    stats: () => ({ connections_active: proxyListeners.reduce((n, l) => n + l.openConnections(), 0), total_requests: totalRequests }),
    async close() {
      draining = true;
      activeChecks?.close();
      await drain(proxyListeners, settings.drainTimeoutMs);
      await drain([...adminListeners, ...statusListeners], 0);
      await holder.closeAll();
    },
  };
}
