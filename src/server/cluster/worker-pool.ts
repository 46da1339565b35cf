/**
 * The primary's side of --workers: forks the proxy workers, gives each the live configuration when
 * it starts, sends every configuration change to all of them and resolves only when each one
 * serves it (so an admin API success means "live in every worker"), replaces a worker that dies,
 * and stops them all gracefully.
 */
import cluster, { type Worker } from 'node:cluster';
import { exportConfig, type DeckDocument } from '../../config/export.js';
import type { Config } from '../../config/types.js';
import type { ServerStats } from '../../admin/info-routes.js';
import type { Logger } from '../../util/logger.js';
import { withGatewayNodeFlags } from '../../runtime/node-flags.js';
import { answerReplayClaims } from '../../state/ipc-replay-cache.js';
import { answerRateTakes } from '../../state/ipc-rate-counters.js';
import type { MemoryRateCounters } from '../../state/rate-counters.js';
import type { MemoryReplayCache } from '../../state/replay-cache.js';
import type { UpstreamHealth } from '../../balancer/health/upstream-health.js';
import { isPortcullisMessage, type FromWorker, type ListenerAddress, type ToWorker } from './messages.js';

export interface WorkerPoolOptions {
  readonly count: number;
  readonly logger: Logger;
  /** The live configuration, sent to a worker when it starts. */
  readonly current: () => Config;
  /** How long a worker may take to apply a change before it is replaced. */
  readonly applyTimeoutMs?: number;
  /** How long stopping waits for workers to drain before killing them. */
  readonly stopTimeoutMs: number;
  /** The node's replay store, whose marks the workers claim through IPC. */
  readonly replayStore: MemoryReplayCache;
  /** The node's rate-limiting counters, which the workers take from through IPC. */
  readonly rateCounters: MemoryRateCounters;
  /** The node's target health: changes go to every worker, a worker's passive findings come here. */
  readonly health?: UpstreamHealth;
}

interface Member {
  readonly worker: Worker;
  /** Received its first configuration: later changes go to it and are awaited. */
  configured: boolean;
  ready: boolean;
  listeners: readonly ListenerAddress[];
}

interface Pending {
  readonly resolve: (message: FromWorker) => void;
}

export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #members = new Map<number, Member>();
  readonly #pending = new Map<string, Pending>();
  #seq = 0;
  #stopping = false;
  #recentDeaths: number[] = [];
  #readyWaiters: Array<() => void> = [];
  #failure: Error | null = null;
  #started = false;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    // Every change of the node's health reaches every serving worker, the one that found it included.
    options.health?.onChange((change) => {
      for (const member of this.#members.values()) if (member.ready) this.#answer(member, { type: 'portcullis:health', upstream: change.upstream, target: change.target, healthy: change.healthy });
    });
  }

  /** Forks the workers and resolves with the proxy listeners once every one serves. */
  async start(): Promise<readonly ListenerAddress[]> {
    // Workers accept from the shared listening socket themselves. With round-robin the primary
    // accepts and hands each connection over IPC: one more hop per connection, and a connection
    // handed to a worker that just died hangs forever (Node waits for an answer that never comes).
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    for (let i = 0; i < this.#options.count; i++) this.#fork();
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.#failure !== null) return reject(this.#failure);
        const members = [...this.#members.values()];
        if (members.length >= this.#options.count && members.every((m) => m.ready)) return resolve();
        this.#readyWaiters.push(check);
      };
      check();
    });
    this.#started = true;
    return [...this.#members.values()][0]?.listeners ?? [];
  }

  /** Makes `config` live in every worker; resolves when all acknowledged. A worker that cannot is replaced. */
  async propagate(config: Config): Promise<void> {
    const document = exportConfig(config, { references: 'id' });
    const targets = [...this.#members.values()].filter((m) => m.configured && !m.worker.isDead());
    await Promise.all(targets.map((m) => this.#configure(m, document)));
  }

  /** Connections and requests summed over the workers that answer within a second. */
  async stats(): Promise<ServerStats> {
    const answers = await Promise.all(
      [...this.#members.values()].filter((m) => m.ready).map((m) => this.#ask(m.worker, (seq) => ({ type: 'portcullis:stats', seq }), 1000)),
    );
    const total: ServerStats = { connections_active: 0, total_requests: 0 };
    for (const answer of answers) {
      if (answer?.type !== 'portcullis:stats') continue;
      total.connections_active += answer.stats.connections_active;
      total.total_requests += answer.stats.total_requests;
    }
    return total;
  }

  /**
   * Null when the proxy serves: every worker started once and at least one is alive with its
   * configuration (a replacement starting beside the others leaves the node ready). Otherwise why not.
   */
  notReady(): string | null {
    if (this.#stopping) return 'draining';
    if (!this.#started) return 'proxy workers are starting';
    for (const m of this.#members.values()) if (m.ready && !m.worker.isDead()) return null;
    return 'no proxy worker is serving';
  }

  /** Process ids of the live workers (tests, status). */
  pids(): number[] {
    return [...this.#members.values()].filter((m) => !m.worker.isDead()).map((m) => m.worker.process.pid!);
  }

  /** Drains every worker; kills the ones still running after the stop timeout. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#members.values()].map(
      (m) => new Promise<void>((resolve) => {
        if (m.worker.isDead()) return resolve();
        m.worker.once('exit', () => resolve());
        try {
          m.worker.send({ type: 'portcullis:stop' } satisfies ToWorker);
        } catch {
          m.worker.kill('SIGKILL');
        }
      }),
    );
    const timer = setTimeout(() => {
      for (const m of this.#members.values()) if (!m.worker.isDead()) m.worker.kill('SIGKILL');
    }, this.#options.stopTimeoutMs + 5000);
    await Promise.all(exits);
    clearTimeout(timer);
  }

  #fork(): void {
    // The workers serve the proxy: they run with the gateway's young-generation cap even when the
    // primary was started without it (runtime/node-flags.ts).
    cluster.setupPrimary({ execArgv: withGatewayNodeFlags(process.execArgv) });
    const worker = cluster.fork();
    const member: Member = { worker, configured: false, ready: false, listeners: [] };
    this.#members.set(worker.id, member);
    worker.on('message', (message: unknown) => this.#onMessage(member, message));
    worker.once('exit', (code, signal) => this.#onExit(member, code, signal));
  }

  #onMessage(member: Member, message: unknown): void {
    if (!isPortcullisMessage<FromWorker>(message)) return;
    switch (message.type) {
      case 'portcullis:hello':
        // The worker listens for messages now: its first configuration is the live one.
        void this.#configure(member, exportConfig(this.#options.current(), { references: 'id' }));
        break;
      case 'portcullis:ready':
        // What the node already knows to be down, before the worker takes traffic for it.
        for (const down of this.#options.health?.unhealthy() ?? []) this.#answer(member, { type: 'portcullis:health', ...down, healthy: false });
        member.ready = true;
        member.listeners = message.listeners;
        this.#options.logger.info({ worker: member.worker.id, worker_pid: member.worker.process.pid, node_flags: message.nodeFlags }, 'worker serving');
        this.#wakeReadyWaiters();
        break;
      case 'portcullis:failed':
        this.#options.logger.error({ worker: member.worker.id, error: message.error }, 'worker failed to start');
        if (!member.ready && this.#members.size > 0 && [...this.#members.values()].every((m) => !m.ready)) {
          this.#failure = new Error(`a worker failed to start: ${message.error}`);
          this.#wakeReadyWaiters();
        }
        break;
      case 'portcullis:health':
        this.#options.health?.find(message.upstream, message.target)?.set(message.healthy, 'passive');
        break;
      case 'portcullis:replay-claim':
        this.#answer(member, answerReplayClaims(this.#options.replayStore, message));
        break;
      case 'portcullis:rate-take':
        this.#answer(member, answerRateTakes(this.#options.rateCounters, message));
        break;
      case 'portcullis:applied':
      case 'portcullis:stats': {
        const key = `${member.worker.id}:${message.seq}`;
        this.#pending.get(key)?.resolve(message);
        this.#pending.delete(key);
        break;
      }
    }
  }

  #answer(member: Member, message: ToWorker): void {
    if (member.worker.isDead() || !member.worker.isConnected()) return;
    try {
      member.worker.send(message);
    } catch (error) {
      // The worker is going away; its claim fails closed there.
      this.#options.logger.debug({ err: error, worker: member.worker.id }, 'could not answer a worker');
    }
  }

  async #configure(member: Member, document: DeckDocument): Promise<void> {
    member.configured = true;
    const answer = await this.#ask(member.worker, (seq) => ({ type: 'portcullis:config', seq, document }), this.#options.applyTimeoutMs ?? 30_000);
    if (answer?.type === 'portcullis:applied' && answer.error === null) return;
    if (member.worker.isDead() || this.#stopping) return;
    // Same code, same document: a worker that cannot apply what the primary compiled is broken.
    this.#options.logger.error({ worker: member.worker.id, error: answer?.type === 'portcullis:applied' ? answer.error : 'no answer' }, 'worker did not apply the configuration; replacing it');
    member.worker.kill('SIGKILL');
  }

  /** Sends a request and waits for the answer with the same seq; null on timeout or exit. */
  #ask(worker: Worker, build: (seq: number) => ToWorker, timeoutMs: number): Promise<FromWorker | null> {
    const seq = ++this.#seq;
    const key = `${worker.id}:${seq}`;
    return new Promise((resolve) => {
      const done = (answer: FromWorker | null): void => {
        clearTimeout(timer);
        worker.off('exit', onExit);
        this.#pending.delete(key);
        resolve(answer);
      };
      const onExit = (): void => done(null);
      const timer = setTimeout(() => done(null), timeoutMs);
      worker.once('exit', onExit);
      this.#pending.set(key, { resolve: done });
      try {
        worker.send(build(seq));
      } catch {
        done(null);
      }
    });
  }

  #onExit(member: Member, code: number | null, signal: string | null): void {
    this.#members.delete(member.worker.id);
    if (this.#stopping) return;
    const now = Date.now();
    this.#recentDeaths = [...this.#recentDeaths.filter((t) => now - t < 10_000), now];
    // A crash loop (say, a port taken) must not fork as fast as it can: back off, up to 5 s.
    const delay = Math.min(5000, 100 * 2 ** (this.#recentDeaths.length - 1));
    this.#options.logger.error({ worker: member.worker.id, worker_pid: member.worker.process.pid, code, signal, restart_in_ms: delay }, 'worker exited; starting a replacement');
    setTimeout(() => {
      if (!this.#stopping) this.#fork();
    }, delay).unref();
  }

  #wakeReadyWaiters(): void {
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const w of waiters) w();
  }
}
