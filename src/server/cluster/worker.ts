/**
 * A proxy worker (--workers N > 1): the proxy listeners, sharing their sockets with the other
 * workers through node:cluster, and no admin API. It asks the primary for the configuration,
 * starts serving it, and applies every later change the primary sends, in order, acknowledging
 * each once it is live here. Its metrics are collected by the primary (prom-client's cluster
 * aggregation).
 */
import process from 'node:process';
import { AggregatorRegistry } from 'prom-client';
import { loadConfigObject, formatConfigErrors } from '../../config/index.js';
import type { Config } from '../../config/types.js';
import { GatewayMetrics } from '../../metrics/gateway-metrics.js';
import { pluginSchemas } from '../../plugins/index.js';
import type { Logger } from '../../util/logger.js';
import { startGateway, type Gateway } from '../gateway.js';
import type { GatewaySettings } from '../settings.js';
import { readTrustedCaPems } from '../trusted-ca-pems.js';
import { IpcRateCounters } from '../../state/ipc-rate-counters.js';
import { IpcReplayCache } from '../../state/ipc-replay-cache.js';
import type { NodeServices } from '../../state/node-services.js';
import { UpstreamHealth } from '../../balancer/health/upstream-health.js';
import { readNonceKey } from '../../state/nonce-key.js';
import { nodeRedis } from '../../state/redis/node-redis.js';
import { isPortcullisMessage, type FromWorker, type ToWorker } from './messages.js';

function send(message: FromWorker): void {
  process.send?.(message);
}

/** Sends a question to the primary; throws without the channel, so the asking store fails at once. */
function sendToPrimary(message: FromWorker): void {
  if (process.send === undefined || !process.connected) throw new Error('no IPC channel to the primary');
  process.send(message);
}

function load(document: unknown): Config {
  // The primary accepted it already, possibly entity by entity.
  const loaded = loadConfigObject(document, { plugins: pluginSchemas, entityAtATime: true });
  if (!loaded.ok) throw new Error(`the primary sent a configuration that does not validate:\n${formatConfigErrors(loaded.errors)}`);
  return loaded.config;
}

/** Runs this process as a worker until the primary says stop (or disconnects). */
export async function runWorker(settings: GatewaySettings, logger: Logger, nonceKeyFile: string): Promise<void> {
  let gateway: Gateway | null = null;
  const replayCache = new IpcReplayCache(sendToPrimary);
  const rateCounters = new IpcRateCounters(sendToPrimary);
  const health = new UpstreamHealth();
  const metrics = new GatewayMetrics({ config: () => gateway?.holder.current ?? { version: 0, loadedAt: new Date(0), hash: '' }, targetHealth: () => health.states() });
  // The node's shared Redis: this worker's own client; the primary's cache is the fallback when it is told to be.
  const trustedCaPems = await readTrustedCaPems(settings);
  const redis = settings.redis === null ? null : nodeRedis(settings.redis, { localReplayCache: replayCache, logger, registry: metrics.registry, trustedCaPems });
  const node: NodeServices = {
    replayCache: redis?.replayCache ?? replayCache,
    nonceKey: await readNonceKey(nonceKeyFile),
    health,
    rateCounters,
    clusterRateCounters: redis?.clusterRateCounters ?? null,
    kongMetrics: metrics.kong,
  };

  // A flip this worker's passive checks found goes to the primary, which tells every worker.
  node.health.onChange((change) => {
    if (change.source !== 'remote') send({ type: 'portcullis:health', upstream: change.upstream, target: change.target, healthy: change.healthy });
  });
  let queue: Promise<void> = Promise.resolve();
  // Constructing one installs prom-client's IPC listener that answers the primary's metric requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);

  const configure = async (seq: number, document: unknown): Promise<void> => {
    try {
      const config = load(document);
      if (gateway === null) {
        gateway = await startGateway({ ...settings, adminListen: 'off', statusListen: 'off' }, { logger, config, trustedCaPems, observer: metrics, node, healthChecks: false });
        send({ type: 'portcullis:applied', seq, hash: gateway.holder.current.hash, error: null });
        send({
          type: 'portcullis:ready',
          listeners: gateway.proxyListeners.map((l) => ({ kind: 'proxy', ssl: l.spec.ssl, host: l.address.host, port: l.address.port })),
          nodeFlags: process.execArgv,
        });
        return;
      }
      const runtime = gateway.applyConfig(config);
      send({ type: 'portcullis:applied', seq, hash: runtime.hash, error: null });
    } catch (error) {
      logger.error({ err: error }, gateway === null ? 'worker could not start' : 'worker could not apply the configuration');
      if (gateway === null) {
        send({ type: 'portcullis:failed', error: String(error) });
        process.exit(1);
      }
      send({ type: 'portcullis:applied', seq, hash: null, error: String(error) });
    }
  };

  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('message', onMessage);
      queue = queue.then(async () => {
        await gateway?.close();
        redis?.close();
        resolve();
      });
    };
    const onMessage = (message: unknown): void => {
      if (!isPortcullisMessage<ToWorker>(message)) return;
      switch (message.type) {
        case 'portcullis:config':
          queue = queue.then(() => configure(message.seq, message.document));
          break;
        case 'portcullis:stats':
          send({ type: 'portcullis:stats', seq: message.seq, stats: gateway?.stats() ?? { connections_active: 0, total_requests: 0 } });
          break;
        case 'portcullis:stop':
          stop();
          break;
        case 'portcullis:health':
          node.health.find(message.upstream, message.target)?.set(message.healthy, 'remote');
          break;
        case 'portcullis:replay-answer':
          replayCache.answer(message);
          break;
        case 'portcullis:rate-answer':
          rateCounters.answer(message);
          break;
      }
    };
    process.on('message', onMessage);
    // A signal to the whole process group (Ctrl-C, a service manager) reaches workers directly.
    process.once('SIGTERM', stop).once('SIGINT', stop);
    // Without its primary a worker would serve a configuration nobody can change: drain and go.
    process.once('disconnect', () => {
      replayCache.close();
      rateCounters.close();
      stop();
    });
    send({ type: 'portcullis:hello' });
  });
}
