import cluster from 'node:cluster';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry, Registry } from 'prom-client';
import { adminExposureWarning } from '../../admin/admin-exposure.js';
import { DEFAULT_ADMIN_BODY_LIMIT } from '../../admin/admin-handler.js';
import { emptyConfig } from '../../config/index.js';
import type { Config } from '../../config/types.js';
import { DatabaseMetrics } from '../../metrics/cluster-metrics.js';
import { GatewayMetrics } from '../../metrics/gateway-metrics.js';
import { pluginSchemas } from '../../plugins/index.js';
import { WorkerPool } from '../../server/cluster/worker-pool.js';
import { runWorker } from '../../server/cluster/worker.js';
import { startGateway, type Gateway } from '../../server/gateway.js';
import { formatAddress } from '../../server/listen-spec.js';
import { readTrustedCaPems } from '../../server/trusted-ca-pems.js';
import { defaultSettings, type GatewaySettings } from '../../server/settings.js';
import { loadOrCreateNonceKey } from '../../state/nonce-key.js';
import { loadOrCreateNodeId } from '../../state/node-id.js';
import { MemoryRateCounters, type RateCounters } from '../../state/rate-counters.js';
import { MemoryReplayCache } from '../../state/replay-cache.js';
import { nodeRedis } from '../../state/redis/node-redis.js';
import { REDIS_FLAGS, redisSettings } from '../../state/redis/redis-settings.js';
import { FileConfigStore } from '../../store/file-config-store.js';
import { loadStoredConfig } from '../../store/load-stored-config.js';
import { StoreUnavailableError, type ConfigStore } from '../../store/config-store.js';
import { logThrottle } from '../../util/log-throttle.js';
import { ChangeFollower } from '../../store/postgres/change-follower.js';
import { recentNodes, reportNode } from '../../store/postgres/cluster-nodes.js';
import { postgresPool } from '../../store/postgres/pg-pool.js';
import { PG_FLAGS, postgresSettings } from '../../store/postgres/pg-settings.js';
import { PostgresConfigStore } from '../../store/postgres/postgres-config-store.js';
import { createLogger, type Logger } from '../../util/logger.js';
import { UpstreamHealth } from '../../balancer/health/upstream-health.js';
import { formatHelp, intFlag, listFlag, onOffFlag, parseFlags, stringFlag, type FlagSpec, type FlagValues } from '../flags.js';
import { loadConfigFile } from '../load-config-file.js';

const d = defaultSettings;

export const startFlags: Record<string, FlagSpec> = {
  'proxy-listen': { type: 'string', description: 'Proxy listeners, Kong syntax', defaultText: d.proxyListen },
  'admin-listen': { type: 'string', description: 'Admin API listeners', defaultText: d.adminListen },
  'status-listen': { type: 'string', description: 'Status listeners (/status, /status/ready, /metrics; no token), Kong syntax', defaultText: d.statusListen },
  'declarative-config': { type: 'string', short: 'c', description: 'decK file (YAML/JSON) to load at start' },
  prefix: { type: 'string', short: 'p', description: 'Directory for durable state', defaultText: d.prefix },
  'ssl-cert': { type: 'string', description: 'Default server certificate (PEM)' },
  'ssl-cert-key': { type: 'string', description: 'Key of --ssl-cert (PEM)' },
  'trusted-certificate': { type: 'string', multiple: true, description: 'Extra CA PEM file(s) trusted on outgoing TLS; repeat or comma-separate' },
  'upstream-http2': { type: 'string', description: 'on|off: offer HTTP/2 to https services too (grpc/grpcs always use it)', defaultText: 'off' },
  'log-level': { type: 'string', description: 'fatal|error|warn|info|debug|trace|silent', defaultText: d.logLevel },
  'access-log': { type: 'string', description: 'on|off: one JSON line per request', defaultText: 'on' },
  'max-header-size': { type: 'string', description: 'Largest request head, bytes', defaultText: String(d.limits.maxHeaderSize) },
  'headers-timeout': { type: 'string', description: 'Time to receive a request head, ms', defaultText: String(d.limits.headersTimeoutMs) },
  'request-timeout': { type: 'string', description: 'Time to receive a whole request, ms', defaultText: String(d.limits.requestTimeoutMs) },
  'keep-alive-timeout': { type: 'string', description: 'Idle keep-alive connection timeout, ms', defaultText: String(d.limits.keepAliveTimeoutMs) },
  'max-connections': { type: 'string', description: 'Concurrent client connections per listener', defaultText: String(d.limits.maxConnections) },
  'max-buffered-body-size': { type: 'string', description: 'Largest request body a plugin may read into memory, bytes', defaultText: String(d.limits.maxBufferedBodySize) },
  'websocket-idle-timeout': { type: 'string', description: 'Longest silence in a WebSocket tunnel, ms', defaultText: "the service's read_timeout" },
  'websocket-max-duration': { type: 'string', description: 'Longest life of a WebSocket tunnel, ms; 0: none', defaultText: '0' },
  'http2-max-concurrent-streams': { type: 'string', description: 'Streams one HTTP/2 client connection may have open at once', defaultText: String(d.limits.http2MaxConcurrentStreams) },
  'drain-timeout': { type: 'string', description: 'Graceful shutdown wait for in-flight requests, ms', defaultText: String(d.drainTimeoutMs) },
  'admin-token': { type: 'string', description: 'Require this bearer token on every admin request' },
  'admin-max-body-size': { type: 'string', description: 'Largest admin request body, bytes', defaultText: String(DEFAULT_ADMIN_BODY_LIMIT) },
  'admin-private-keys': { type: 'string', description: 'hidden|shown: certificate keys in admin answers (shown: always, as Kong, for decK)', defaultText: 'hidden' },
  'trusted-ips': { type: 'string', multiple: true, description: 'CIDRs of proxies whose forwarded headers are trusted; repeat or comma-separate' },
  workers: { type: 'string', description: 'Proxy worker processes; 1 runs everything in one process', defaultText: 'number of CPU cores' },
  'dpop-nonce-key-file': { type: 'string', description: 'DPoP nonce key (one base64url line); share it between nodes', defaultText: '<prefix>/dpop-nonce.key' },
  'replay-cache-entries': { type: 'string', description: 'DPoP proofs the node remembers for replay detection', defaultText: String(d.replayCacheEntries) },
  'node-id': { type: 'string', description: "The node's name in /clustering/nodes and the change log", defaultText: '<prefix>/node.id, made on first start' },
  database: { type: 'string', description: "off|postgres: where the configuration lives (off: the prefix; postgres: shared by every node on the database, made by 'portcullis migrations bootstrap')", defaultText: d.database },
  'db-update-frequency': { type: 'string', description: 'With postgres: seconds between checks for changes not notified', defaultText: String(d.dbUpdateFrequencyMs / 1000) },
  ...PG_FLAGS,
  ...REDIS_FLAGS,
};

export const startUsage = 'portcullis start [options]';

export const startDescription = 'Starts the gateway: proxy listeners, the admin API, and the configuration given.';

/**
 * The primary of a node with workers compiles plugin instances (its admin API validates and
 * serves them) but proxies nothing, so its instances never count; the workers have the node's
 * Redis. Not null, so the primary does not warn that `cluster` lacks --redis-url.
 */
const PRIMARY_SERVES_NO_PROXY: RateCounters = { take: () => Promise.reject(new Error('the primary process serves no proxy requests')) };

const logLevels = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

function privateKeysFlag(value: string | undefined): boolean {
  if (value === undefined || value === 'hidden') return false;
  if (value === 'shown') return true;
  throw new TypeError(`--admin-private-keys: '${value}' is not hidden or shown`);
}

/** Builds the settings from parsed flags (already merged with PORTCULLIS_* variables). */
export function settingsFromFlags(values: FlagValues): GatewaySettings {
  const logLevel = stringFlag(values, 'log-level') ?? d.logLevel;
  if (!logLevels.has(logLevel)) throw new TypeError(`--log-level: '${logLevel}' is not one of ${[...logLevels].join(', ')}`);
  return {
    proxyListen: stringFlag(values, 'proxy-listen') ?? d.proxyListen,
    adminListen: stringFlag(values, 'admin-listen') ?? d.adminListen,
    statusListen: stringFlag(values, 'status-listen') ?? d.statusListen,
    prefix: stringFlag(values, 'prefix') ?? d.prefix,
    declarativeConfig: stringFlag(values, 'declarative-config') ?? null,
    sslCert: stringFlag(values, 'ssl-cert') ?? null,
    sslCertKey: stringFlag(values, 'ssl-cert-key') ?? null,
    trustedCertificates: listFlag(values, 'trusted-certificate'),
    upstreamHttp2: onOffFlag(values, 'upstream-http2', false),
    logLevel: logLevel as GatewaySettings['logLevel'],
    accessLog: onOffFlag(values, 'access-log', true),
    limits: {
      maxHeaderSize: intFlag(values, 'max-header-size', d.limits.maxHeaderSize),
      headersTimeoutMs: intFlag(values, 'headers-timeout', d.limits.headersTimeoutMs),
      requestTimeoutMs: intFlag(values, 'request-timeout', d.limits.requestTimeoutMs),
      keepAliveTimeoutMs: intFlag(values, 'keep-alive-timeout', d.limits.keepAliveTimeoutMs),
      maxConnections: intFlag(values, 'max-connections', d.limits.maxConnections),
      maxBufferedBodySize: intFlag(values, 'max-buffered-body-size', d.limits.maxBufferedBodySize),
      http2MaxConcurrentStreams: positiveFlag(values, 'http2-max-concurrent-streams', d.limits.http2MaxConcurrentStreams),
      websocketIdleTimeoutMs: stringFlag(values, 'websocket-idle-timeout') === undefined ? null : intFlag(values, 'websocket-idle-timeout', 0),
      websocketMaxDurationMs: intFlag(values, 'websocket-max-duration', d.limits.websocketMaxDurationMs),
    },
    drainTimeoutMs: intFlag(values, 'drain-timeout', d.drainTimeoutMs),
    adminToken: stringFlag(values, 'admin-token') ?? null,
    trustedIps: listFlag(values, 'trusted-ips'),
    workers: workerCount(values),
    dpopNonceKeyFile: stringFlag(values, 'dpop-nonce-key-file') ?? null,
    replayCacheEntries: positiveFlag(values, 'replay-cache-entries', d.replayCacheEntries),
    ...databaseSettings(values),
    nodeId: stringFlag(values, 'node-id') ?? null,
    redis: redisSettings(values),
  };
}

function databaseSettings(values: FlagValues): Pick<GatewaySettings, 'database' | 'postgres' | 'dbUpdateFrequencyMs'> {
  const database = stringFlag(values, 'database') ?? d.database;
  if (database !== 'off' && database !== 'postgres') throw new TypeError(`--database: '${database}' is not off or postgres`);
  if (database === 'postgres' && stringFlag(values, 'declarative-config') !== undefined) {
    throw new TypeError("--declarative-config is for --database off; load a file into PostgreSQL with 'portcullis sync FILE' against a running node");
  }
  const seconds = Number(stringFlag(values, 'db-update-frequency') ?? d.dbUpdateFrequencyMs / 1000);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new TypeError('--db-update-frequency: must be a positive number of seconds');
  return { database, postgres: database === 'postgres' ? postgresSettings(values) : null, dbUpdateFrequencyMs: Math.round(seconds * 1000) };
}

function workerCount(values: FlagValues): number {
  return positiveFlag(values, 'workers', availableParallelism());
}

function positiveFlag(values: FlagValues, name: string, fallback: number): number {
  const n = intFlag(values, name, fallback);
  if (n < 1) throw new TypeError(`--${name}: must be at least 1, got ${n}`);
  return n;
}

/** Where the node's DPoP nonce key lives. */
export function nonceKeyFile(settings: GatewaySettings): string {
  return settings.dpopNonceKeyFile ?? join(settings.prefix, 'dpop-nonce.key');
}

/** Options of `start` that are not gateway settings. */
export interface RunOptions {
  readonly adminMaxBodyBytes?: number;
  /** `--admin-private-keys shown`: certificate keys in every admin answer, as Kong. */
  readonly adminShowPrivateKeys?: boolean;
}

/**
 * The configuration to start with: `--declarative-config` wins (as Kong's DB-less), else the one
 * saved in the prefix, else an empty one.
 */
async function initialConfig(settings: GatewaySettings, env: NodeJS.ProcessEnv, store: ConfigStore, where: string, logger: Logger, localCopy: FileConfigStore | null): Promise<{ config: Config; fromFile: boolean; fromLocalCopy: boolean }> {
  if (settings.declarativeConfig !== null) return { config: await loadConfigFile(settings.declarativeConfig, env), fromFile: true, fromLocalCopy: false };
  let fromLocalCopy = false;
  const stored = await loadStoredConfig(store, pluginSchemas, where).catch(async (error: unknown) => {
    if (!(error instanceof StoreUnavailableError) || localCopy === null) throw error;
    // The database is down: serve what this node last had, and catch up when it is back.
    const copy = await loadStoredConfig(localCopy, pluginSchemas, localCopy.file);
    if (copy === null) throw new StoreUnavailableError(`${error.message}; and this node has no local copy of a configuration in its prefix yet`, { cause: error });
    logger.warn({ err: error, file: localCopy.file, saved_at: copy.stored.savedAt }, 'the database cannot be reached: starting from the local copy of the last configuration this node saw');
    process.stderr.write(`portcullis: the database cannot be reached; starting from the local copy saved at ${copy.stored.savedAt}\n`);
    fromLocalCopy = true;
    return copy;
  });
  if (stored === null) return { config: emptyConfig(), fromFile: false, fromLocalCopy };
  logger.info(
    { from: fromLocalCopy && localCopy !== null ? localCopy.file : where, saved_at: stored.stored.savedAt, configuration_hash: stored.stored.hash, read_ms: stored.timings.readMs, validate_ms: stored.timings.validateMs },
    'configuration loaded',
  );
  return { config: stored.config, fromFile: false, fromLocalCopy };
}

/**
 * The node's configuration store: the prefix's file, or PostgreSQL with what follows its changes
 * (and the prefix's file as the local copy of the last configuration the node saw).
 */
function configStore(settings: GatewaySettings, nodeId: string, logger: Logger): { store: ConfigStore; where: string; localCopy: FileConfigStore | null; postgres: { store: PostgresConfigStore; pool: ReturnType<typeof postgresPool> } | null } {
  const file = new FileConfigStore(settings.prefix, {
    warn: (message) => {
      logger.warn(message);
      process.stderr.write(`portcullis: ${message}\n`);
    },
  });
  if (settings.postgres !== null) {
    const pool = postgresPool(settings.postgres);
    const where = `PostgreSQL database '${settings.postgres.database}' at ${settings.postgres.host}:${settings.postgres.port}`;
    const failed = logThrottle(10_000);
    const localCopy = {
      store: file,
      failed: (error: unknown) => {
        if (failed()) logger.warn({ err: error, file: file.file }, 'could not write the local copy of the configuration');
      },
    };
    const store = new PostgresConfigStore(pool, nodeId, where, localCopy);
    return { store, where, localCopy: file, postgres: { store, pool } };
  }
  return { store: file, where: file.file, localCopy: null, postgres: null };
}

/** A started gateway: in one process, or a primary with its proxy workers. */
export interface RunningGateway {
  /** This process's gateway (with workers: the admin API and store, no proxy listeners). */
  readonly gateway: Gateway;
  /** Graceful stop of everything, workers first. */
  close(): Promise<void>;
  /** Processes serving the proxy. */
  workerPids(): number[];
}

/** Starts a gateway from settings (with --workers > 1, as the primary of that many workers). */
export async function runGateway(settings: GatewaySettings, env: NodeJS.ProcessEnv, options: RunOptions = {}): Promise<RunningGateway> {
  const logger = createLogger({ level: settings.logLevel });
  const nodeId = await loadOrCreateNodeId(settings.prefix, settings.nodeId);
  const { store, where, localCopy, postgres } = configStore(settings, nodeId, logger);
  const { config, fromFile, fromLocalCopy } = await initialConfig(settings, env, store, where, logger, localCopy).catch(async (error: unknown) => {
    await postgres?.pool.end();
    throw error;
  });
  // Before any worker is forked: they read the key the primary made sure exists.
  const nonceKey = await loadOrCreateNonceKey(nonceKeyFile(settings));
  const replayStore = new MemoryReplayCache(settings.replayCacheEntries);
  const rateCounters = new MemoryRateCounters();
  const health = new UpstreamHealth();
  const exposure = adminExposureWarning(settings.adminListen, settings.adminToken);
  if (exposure !== null) {
    logger.warn(exposure);
    process.stderr.write(`\n*** ${exposure} ***\n\n`);
  }
  let started: Gateway | null = null;
  const metrics = new GatewayMetrics({
    config: () => started?.holder.current ?? { version: 0, loadedAt: new Date(0), hash: '' },
    targetHealth: () => health.states(),
  });
  // With workers, this process keeps the admin API and the store; the workers serve the proxy.
  const pool =
    settings.workers > 1
      ? new WorkerPool({ count: settings.workers, logger, current: () => started!.holder.current.config, stopTimeoutMs: settings.drainTimeoutMs, replayStore, rateCounters, health })
      : null;
  const workerMetrics = pool === null ? null : new AggregatorRegistry();
  // Made once the gateway exists (it refreshes the gateway's configuration); /status reads it from then on.
  let follower: ChangeFollower | null = null;
  // One process: its Redis client serves the proxy here. With workers, each worker has its own.
  const trustedCaPems = await readTrustedCaPems(settings);
  const redis = pool === null && settings.redis !== null ? nodeRedis(settings.redis, { localReplayCache: replayStore, logger, registry: metrics.registry, trustedCaPems }) : null;
  // The node's cluster facts live in this process; with workers they are served beside the workers' metrics.
  const primaryRegistry = workerMetrics === null ? metrics.registry : new Registry();
  const databaseMetrics = new DatabaseMetrics(primaryRegistry, {
    loadedAt: () => started?.holder.current.loadedAt ?? new Date(),
    database: postgres === null ? null : { reachable: () => follower?.reachable ?? false, lastChangeSeenAt: () => follower?.lastChangeSeenAt ?? null },
  });
  const gateway = await startGateway({ ...settings, nodeId, ...(pool === null ? {} : { proxyListen: 'off' }) }, {
    logger,
    config,
    trustedCaPems,
    observer: metrics,
    store,
    node: { replayCache: redis?.replayCache ?? replayStore, nonceKey, health, rateCounters, clusterRateCounters: redis?.clusterRateCounters ?? (pool !== null && settings.redis !== null ? PRIMARY_SERVES_NO_PROXY : null), kongMetrics: metrics.kong },
    ...(postgres === null ? {} : { databaseReachable: () => follower?.reachable ?? true, databaseEverReached: () => !fromLocalCopy || (follower?.everReached ?? false) }),
    admin: {
      metrics: workerMetrics === null ? metrics : { scrape: async () => ({ contentType: workerMetrics.contentType, body: `${await workerMetrics.clusterMetrics()}\n${await primaryRegistry.metrics()}` }) },
      maxBodyBytes: options.adminMaxBodyBytes,
      showPrivateKeys: options.adminShowPrivateKeys,
      // Nodes that reported within three version checks (at least a minute) are the cluster.
      ...(postgres === null ? {} : { cluster: { nodes: () => recentNodes(postgres.pool, Math.max(60_000, 3 * settings.dbUpdateFrequencyMs)) } }),
    },
    ...(pool === null ? {} : { workers: { propagate: (c: Config) => pool.propagate(c), stats: () => pool.stats(), notReady: () => pool.notReady() } }),
  });
  started = gateway;
  follower =
    postgres === null || settings.postgres === null
      ? null
      : new ChangeFollower({
          settings: settings.postgres,
          pool: postgres.pool,
          store: postgres.store,
          refresh: () => gateway.configManager.refresh(),
          report: () => reportNode(postgres.pool, nodeId, gateway.holder.current.hash),
          logger,
          pollMs: settings.dbUpdateFrequencyMs,
          observer: databaseMetrics.observer,
        });
  await follower?.start();
  let proxyListeners: Array<{ kind: string; ssl: boolean; host: string; port: number }> = gateway.proxyListeners.map((l) => ({ kind: 'proxy', ssl: l.spec.ssl, ...l.address }));
  const close = async (): Promise<void> => {
    await follower?.stop();
    await pool?.stop();
    await gateway.close();
    redis?.close();
    await postgres?.pool.end();
  };
  try {
    if (pool !== null) proxyListeners = [...(await pool.start())];
    // The file given at start becomes the stored configuration, so a restart without -c resumes it.
    if (fromFile) await gateway.configManager.saveCurrent();
  } catch (error) {
    await close();
    throw error;
  }
  const listeners = [
    ...proxyListeners,
    ...gateway.adminListeners.map((l) => ({ kind: 'admin', ssl: l.spec.ssl, ...l.address })),
    ...gateway.statusListeners.map((l) => ({ kind: 'status', ssl: l.spec.ssl, ...l.address })),
  ];
  logger.info({ listeners, workers: pool?.pids() ?? null, config_version: gateway.holder.current.version, configuration_hash: gateway.holder.current.hash }, 'portcullis ready');
  for (const l of listeners) {
    process.stderr.write(`portcullis: ${l.kind} listening on ${l.ssl ? 'https' : 'http'}://${formatAddress(l.host, l.port)}\n`);
  }
  if (pool !== null) process.stderr.write(`portcullis: ${settings.workers} proxy workers (pids ${pool.pids().join(', ')})\n`);
  return { gateway, close, workerPids: () => pool?.pids() ?? [process.pid] };
}

/** Stops the gateway gracefully on the first SIGTERM/SIGINT; a second one exits at once. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`portcullis: ${signal} received, draining\n`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`portcullis: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

export async function startCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseFlags(argv, startFlags, env);
  if (values['help'] === true) {
    console.log(formatHelp(startUsage, startDescription, startFlags));
    return 0;
  }
  const settings = settingsFromFlags(values);
  if (settings.workers > 1 && cluster.isWorker) {
    process.title = `portcullis worker ${cluster.worker?.id ?? ''}`.trim();
    await runWorker(settings, createLogger({ level: settings.logLevel }), nonceKeyFile(settings));
    // The IPC channel would keep this process alive: drained and closed, it leaves.
    cluster.worker?.disconnect();
    setTimeout(() => process.exit(0), 1000).unref();
    return 0;
  }
  if (settings.workers > 1) process.title = 'portcullis primary';
  const running = await runGateway(settings, env, {
    adminMaxBodyBytes: intFlag(values, 'admin-max-body-size', DEFAULT_ADMIN_BODY_LIMIT),
    adminShowPrivateKeys: privateKeysFlag(stringFlag(values, 'admin-private-keys')),
  });
  stopOnSignals(() => running.close());
  return -1; // keep running
}
