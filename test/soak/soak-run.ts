// The load-and-soak run shared by `npm run soak` (test/soak/soak.ts, minutes) and `npm test`
// (test/soak/soak.test.ts, seconds). Nothing is mocked: the development IdP over HTTPS issuing
// certificate-bound tokens by tls_client_auth, the echo upstream, and a real gateway process
// (`portcullis start --workers 1`) running the tutorial's pipeline (tls-handshake-modifier +
// openid-connect, bearer, proof_of_possession_mtls: strict), all on 127.0.0.1.
//
// Part A, steady load: keep-alive connections with the tutorial client certificate, paced to a
// fixed rate, each request with the current token; a new token is fetched from the IdP every
// `churnSeconds` (never later than just before the current one expires, as a client refreshes its
// token). The gateway's RSS and open fds are read from /proc/PID after the warm-up, every
// `sampleEverySeconds` and at the end.
// Part B, flood: a few valid clients at a steady pace, first alone, then while a separate process
// floods the gateway with distinct invalid tokens and new TLS handshakes (flood.ts), then alone again.
//
// `runSoak` measures; `soakChecks` holds the assertions (`soakFailures`: the messages of those that
// failed); `formatSoakReport` makes the Markdown report.
import { fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Pool } from 'undici';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import type { FloodConfig, FloodMessage, FloodResult } from './flood.js';
import { cpuSeconds, fdBreakdown, fdCount, metricIncreaseBy, metricSum, rssBytes, scrapeMetrics, type FdBreakdown, type Metrics } from './proc.js';

export interface SoakLimits {
  /** RSS is flat when end ≤ start × rssFactor + rssSlackMiB. */
  rssFactor: number;
  rssSlackMiB: number;
  /**
   * Open fds may end at most this many above where they started: under the steady load, those other
   * than upstream connections (the gateway's pool opens and closes those with the load's concurrency,
   * and they may not exceed `connections`); after the flood, all of them, once settled.
   */
  fdSlack: number;
  /** Valid clients' p99 during the flood stays under this. */
  validP99Ms: number;
  /** The flood must really happen: at least this many requests per second. */
  minFloodRequestsPerSecond: number;
}

export interface SoakOptions {
  /** Shown in the report's title. */
  label: string;
  /** Load at full rate before the start sample, so JIT, caches and pools are warm. */
  warmupSeconds: number;
  steadySeconds: number;
  /** Target requests per second of the steady load (paced; what was achieved is reported). */
  rate: number;
  /** Keep-alive connections of the steady load (undici Pool), each one request at a time. */
  connections: number;
  /** The IdP's access token lifetime. */
  tokenTtlSeconds: number;
  /** A new token every this many seconds… */
  churnSeconds: number;
  /** …or this long before the current one expires, whichever is sooner. */
  refreshBeforeExpirySeconds: number;
  sampleEverySeconds: number;
  /** Part B: valid clients (one keep-alive connection each) and the pause between two requests of one. */
  validClients: number;
  validIntervalMs: number;
  baselineSeconds: number;
  floodSeconds: number;
  afterFloodSeconds: number;
  floodTokenConnections: number;
  floodHandshakeConcurrency: number;
  limits: SoakLimits;
  /** Progress lines (phase changes, samples). */
  progress?: (line: string) => void;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface LoadCounts {
  requests: number;
  ok: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  latencyMs: LatencySummary;
  /** The first few failures, as seen by the client. */
  failureSamples: string[];
}

export interface Sample {
  /** Seconds since the start sample. */
  t: number;
  rssBytes: number;
  fds: FdBreakdown;
  heapUsedBytes: number | null;
  openConnections: number | null;
}

export interface TokenSummary {
  fetched: number;
  fetchFailures: string[];
  /** Every token differs from every other one. */
  allDistinct: boolean;
  /** Every token's cnf.x5t#S256 is the tutorial client certificate's thumbprint. */
  allBound: boolean;
  /** Tokens that carried at least one steady-load request. */
  usedDuringSteady: number;
  /** Seconds between two fetches. */
  refreshIntervals: number[];
  /** Requests per token during the steady load. */
  usesPerToken: number[];
  /** The first token, sent again at the end when long expired: 401 proves the churn was needed. */
  firstTokenAtEnd: { status: number; wwwAuthenticate: string; ageSeconds: number } | null;
}

export interface SoakResult {
  options: SoakOptions;
  gatewayPid: number;
  steady: {
    warmup: LoadCounts;
    run: LoadCounts;
    durationSeconds: number;
    achievedRate: number;
    samples: Sample[];
    gatewayCpuSeconds: number;
    /** 2xx answers the gateway counted on the route during the steady run (its own metrics). */
    gatewayCounted2xx: number;
    /** The clients' 2xx between the two scrapes of the gateway's metrics, at the least and at the most. */
    clientOkBetweenScrapes: { min: number; max: number };
  };
  tokens: TokenSummary;
  flood: {
    valid: { before: LoadCounts; during: LoadCounts; after: LoadCounts };
    result: FloodResult;
    fdsBefore: FdBreakdown;
    fdsPeak: number;
    /** Fds once the flood's connections are gone (polled until within the slack, or a few seconds). */
    fdsAfter: FdBreakdown;
    /** RSS when the flood starts, and after it once its connections are gone; same limit as the steady load's. */
    rssBefore: number;
    rssAfter: number;
    heapUsedBefore: number | null;
    heapUsedAfter: number | null;
    gatewayCpuSeconds: number;
    /** New TLS handshakes the gateway counted during the flood. */
    handshakes: number;
    /** openid-connect failure reasons the gateway counted during the flood. */
    reasons: Record<string, number>;
    /** Times the gateway fetched the IdP's keys during the flood (random kids must not turn into an IdP flood). */
    keyFetches: number;
  };
  gatewayExitCode: number | null;
  /** Log lines the gateway wrote (the access log is off), by message. */
  gatewayLogMessages: Record<string, number>;
  gatewayErrorLogLines: string[];
}

const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Counting and timing requests.

function countedRange(between: { min: number; max: number }, inFlight: number): { min: number; max: number } {
  return { min: between.min - inFlight, max: between.max + inFlight };
}

class Recorder {
  requests = 0;
  ok = 0;
  readonly statuses: Record<string, number> = {};
  readonly errors: Record<string, number> = {};
  readonly latencies: number[] = [];
  readonly failureSamples: string[] = [];

  record(status: number, ms: number, failure: () => string): void {
    this.requests++;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    this.latencies.push(ms);
    if (status === 200) this.ok++;
    else this.#sample(failure());
  }

  fail(error: unknown): void {
    this.requests++;
    const e = error as { code?: unknown; message?: unknown };
    const code = typeof e.code === 'string' ? e.code : 'error';
    this.errors[code] = (this.errors[code] ?? 0) + 1;
    this.#sample(`${code}: ${String(e.message)}`);
  }

  #sample(text: string): void {
    if (this.failureSamples.length < 5) this.failureSamples.push(text);
  }

  summary(): LoadCounts {
    return { requests: this.requests, ok: this.ok, statuses: { ...this.statuses }, errors: { ...this.errors }, latencyMs: summarize(this.latencies), failureSamples: [...this.failureSamples] };
  }
}

function summarize(values: number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]! };
}

/** GET `path` with the token on `dispatcher`, into `recorder`. */
async function getWithToken(dispatcher: Pool | Client, path: string, token: string, recorder: Recorder): Promise<void> {
  const started = performance.now();
  try {
    const res = await dispatcher.request({ path, method: 'GET', headers: { authorization: `Bearer ${token}` } });
    const text = await res.body.text();
    recorder.record(res.statusCode, performance.now() - started, () => `${res.statusCode} ${String(res.headers['www-authenticate'] ?? '')} ${text.slice(0, 160)}`);
  } catch (error) {
    recorder.fail(error);
  }
}

/**
 * `lanes` loops, each calling `once` every `intervalMs` (spread evenly), until `running()` is false.
 * A lane that falls behind goes on at once without bursting to catch up, so the rate is at most the target.
 */
async function pacedLanes(lanes: number, intervalMs: number, running: () => boolean, once: (lane: number) => Promise<void>): Promise<void> {
  const lane = async (index: number): Promise<void> => {
    let next = performance.now() + (index * intervalMs) / lanes;
    while (running()) {
      const wait = next - performance.now();
      if (wait >= 1) await sleep(wait);
      if (!running()) break;
      await once(index);
      next += intervalMs;
      const now = performance.now();
      if (next < now) next = now;
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i)));
}

// ---------------------------------------------------------------------------------------------
// Token churn: what a client does with tokens that expire.

interface IssuedToken {
  readonly token: string;
  readonly fetchedAt: number;
  /** `exp`, epoch seconds. */
  readonly exp: number;
  readonly thumbprint: unknown;
  steadyUses: number;
}

class TokenChurn {
  readonly issued: IssuedToken[] = [];
  readonly failures: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly idp: TestIdp,
    private readonly churnMs: number,
    private readonly refreshBeforeExpiryMs: number,
  ) {}

  get current(): IssuedToken {
    const token = this.issued[this.issued.length - 1];
    if (token === undefined) throw new Error('no token yet');
    return token;
  }

  async start(): Promise<void> {
    await this.#refresh();
    if (this.issued.length === 0) throw new Error(`the IdP issued no token: ${this.failures.join('; ')}`);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #refresh(): Promise<void> {
    let delay = 1000;
    try {
      const res = await this.idp.requestToken();
      if (res.status !== 200 || res.access_token === undefined) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(res.body)}`);
      const claims = JSON.parse(Buffer.from(res.access_token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown; cnf?: Record<string, unknown> };
      if (typeof claims.exp !== 'number') throw new Error('token without exp');
      const fetchedAt = Date.now();
      this.issued.push({ token: res.access_token, fetchedAt, exp: claims.exp, thumbprint: claims.cnf?.['x5t#S256'], steadyUses: 0 });
      delay = Math.min(this.churnMs, claims.exp * 1000 - this.refreshBeforeExpiryMs - fetchedAt);
    } catch (error) {
      this.failures.push(error instanceof Error ? error.message : String(error));
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#refresh(), Math.max(delay, 100));
  }
}

// ---------------------------------------------------------------------------------------------
// The flood process.

interface FloodProcess {
  run(config: FloodConfig): Promise<FloodResult>;
  kill(): void;
}

/** Forks flood.js and waits until it is ready (so its start-up does not fall into any measured window). */
async function startFloodProcess(): Promise<FloodProcess> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./flood.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: FloodMessage[] = [];
  const waiters: Array<() => void> = [];
  child.on('message', (m: FloodMessage) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = async (type: FloodMessage['type']): Promise<FloodMessage> => {
    for (;;) {
      const found = messages.find((m) => m.type === type || m.type === 'failed');
      if (found !== undefined) return found;
      const more = new Promise<void>((resolve) => waiters.push(resolve));
      const gone = await Promise.race([more.then(() => false), exited.then(() => true)]);
      if (gone && !messages.some((m) => m.type === type || m.type === 'failed')) throw new Error(`the flood process exited (${child.exitCode}) before '${type}'`);
    }
  };
  await next('ready');
  return {
    async run(config) {
      child.send({ type: 'start', config });
      const m = await next('result');
      if (m.type !== 'result') throw new Error(`the flood failed: ${m.type === 'failed' ? m.error : m.type}`);
      return m.result;
    },
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The run.

const tutorialConfig = (echoUrl: string, issuer: string): string => `_format_version: "3.0"
services:
  - name: example-service
    url: ${echoUrl}/anything
    routes:
      - name: example-route
        paths: ["/anything"]
plugins:
  - name: tls-handshake-modifier
    route: example-route
    config:
      tls_client_certificate: REQUEST
  - name: openid-connect
    route: example-route
    config:
      issuer: ${issuer}
      auth_methods: [bearer]
      proof_of_possession_mtls: strict
      proof_of_possession_auth_methods_validation: true
`;

type Ports = Parameters<typeof fdBreakdown>[1];

async function sampleGateway(pid: number, ports: Ports, adminUrl: string, t: number): Promise<Sample> {
  // /proc first: the scrape's own admin connection must not be among the fds counted.
  const rss = rssBytes(pid);
  const fds = fdBreakdown(pid, ports);
  let metrics: Metrics | null = null;
  try {
    metrics = await scrapeMetrics(adminUrl);
  } catch {
    // The samples that matter come from /proc; metrics are extra.
  }
  return {
    t,
    rssBytes: rss,
    fds,
    heapUsedBytes: metrics === null ? null : metricSum(metrics, 'nodejs_heap_size_used_bytes'),
    openConnections: metrics === null ? null : metricSum(metrics, 'portcullis_open_connections'),
  };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const say = options.progress ?? (() => undefined);
  const path = '/anything';
  let idp: TestIdp | undefined;
  let echo: EchoServer | undefined;
  let gateway: GatewayProcess | undefined;
  let churn: TokenChurn | undefined;
  let floodProcess: FloodProcess | undefined;
  const dispatchers: Array<Pool | Client> = [];
  try {
    idp = await startTestIdp({ accessTokenTtlSeconds: options.tokenTtlSeconds });
    echo = await startEchoServer({ host: '127.0.0.1', port: 0 });
    const pki = idp.pki;
    gateway = await startGatewayProcess({
      config: tutorialConfig(echo.url, idp.issuer),
      args: ['--trusted-certificate', idp.caPath, '--ssl-cert', pki.serverCert.certPath, '--ssl-cert-key', pki.serverCert.keyPath, '--access-log', 'off'],
    });
    const pid = gateway.child.pid;
    if (pid === undefined) throw new Error('the gateway process has no pid');
    const gw = gateway;
    const origin = gateway.httpsUrl;
    say(`gateway pid ${pid} on ${origin}, IdP ${idp.issuer} (tokens live ${options.tokenTtlSeconds} s)`);
    const [certPem, keyPem] = await Promise.all([readFile(pki.client.certPath, 'utf8'), readFile(pki.client.keyPath, 'utf8')]);
    // The gateway's certificate is verified against the test root CA (it names 127.0.0.1).
    const tls = { ca: pki.ca.certPem, cert: certPem, key: keyPem };
    const ports: Ports = { listeners: gateway.listeners.map((l) => l.port), upstream: echo.port, idp: idp.idp.port };

    churn = new TokenChurn(idp, options.churnSeconds * 1000, options.refreshBeforeExpirySeconds * 1000);
    await churn.start();
    const tokens = churn;

    // ---- Part A: steady load with token churn.
    const pool = new Pool(origin, { connections: options.connections, pipelining: 1, connect: tls, headersTimeout: 10_000, bodyTimeout: 10_000 });
    dispatchers.push(pool);
    const warmup = new Recorder();
    const steady = new Recorder();
    let phase: 'warmup' | 'steady' = 'warmup';
    let loading = true;
    const lanes = pacedLanes(options.connections, (options.connections * 1000) / options.rate, () => loading, async () => {
      const token = tokens.current;
      const recorder = phase === 'warmup' ? warmup : steady;
      if (phase === 'steady') token.steadyUses++;
      await getWithToken(pool, path, token.token, recorder);
    });
    say(`warm-up ${options.warmupSeconds} s at ${options.rate} req/s on ${options.connections} connections`);
    await sleep(options.warmupSeconds * 1000);

    phase = 'steady';
    // The clients' 2xx so far, whatever the phase: the gateway's counter is read at some moment
    // between a scrape's request and its answer, so the clients' count is taken at both ends.
    const clientOk = (): number => warmup.ok + steady.ok;
    const okAtStart = { sent: clientOk(), answered: 0 };
    const metricsAtStart = await scrapeMetrics(gw.adminUrl);
    okAtStart.answered = clientOk();
    const cpuAtStart = cpuSeconds(pid);
    const startedAt = performance.now();
    const samples: Sample[] = [await sampleGateway(pid, ports, gw.adminUrl, 0)];
    const sampleLine = (s: Sample): string => `t=${s.t.toFixed(0)} s rss=${(s.rssBytes / MiB).toFixed(1)} MiB fds=${s.fds.total} (upstream ${s.fds.upstream}) heap=${s.heapUsedBytes === null ? '?' : (s.heapUsedBytes / MiB).toFixed(1)} MiB`;
    say(`steady ${options.steadySeconds} s; ${sampleLine(samples[0]!)}`);
    const endAt = startedAt + options.steadySeconds * 1000;
    for (let k = 1; ; k++) {
      const at = startedAt + k * options.sampleEverySeconds * 1000;
      if (at >= endAt) break;
      await sleep(at - performance.now());
      const sample = await sampleGateway(pid, ports, gw.adminUrl, (performance.now() - startedAt) / 1000);
      samples.push(sample);
      say(`${sampleLine(sample)} requests=${steady.requests} non-200=${steady.requests - steady.ok} tokens=${tokens.issued.length}`);
    }
    await sleep(Math.max(0, endAt - performance.now()));
    // The end sample while the load still runs, so it compares with the start sample under the same load.
    samples.push(await sampleGateway(pid, ports, gw.adminUrl, (performance.now() - startedAt) / 1000));
    const steadySeconds = (performance.now() - startedAt) / 1000;
    const steadyCpu = cpuSeconds(pid) - cpuAtStart;
    const okAtEnd = { sent: clientOk(), answered: 0 };
    const metricsAtEnd = await scrapeMetrics(gw.adminUrl);
    okAtEnd.answered = clientOk();
    loading = false;
    await lanes;
    dispatchers.splice(dispatchers.indexOf(pool), 1);
    await pool.close();
    say(`steady done: ${sampleLine(samples[samples.length - 1]!)} requests=${steady.requests} non-200=${steady.requests - steady.ok}`);
    const routeOk = (labels: string): boolean => labels.includes('route="example-route"') && labels.includes('status_class="2xx"');
    const gatewayCounted2xx = metricSum(metricsAtEnd, 'portcullis_http_requests_total', routeOk) - metricSum(metricsAtStart, 'portcullis_http_requests_total', routeOk);

    // ---- Part B: valid clients before, during and after a flood.
    floodProcess = await startFloodProcess();
    // The flood's JWTs copy a real token's header (alg, typ, the IdP's kid) and claims (cnf included).
    const [encodedHeader, encodedClaims] = tokens.current.token.split('.') as [string, string];
    const decode = (segment: string): Record<string, unknown> => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
    const valid = { before: new Recorder(), during: new Recorder(), after: new Recorder() };
    let validPhase: keyof typeof valid = 'before';
    let validRunning = true;
    const validClients = Array.from({ length: options.validClients }, () => {
      const client = new Client(origin, { connect: tls, headersTimeout: 10_000, bodyTimeout: 10_000 });
      dispatchers.push(client);
      return client;
    });
    const validLoops = pacedLanes(options.validClients, options.validIntervalMs, () => validRunning, (i) =>
      getWithToken(validClients[i]!, path, tokens.current.token, valid[validPhase]),
    );
    say(`valid clients: ${options.validClients} × one request every ${options.validIntervalMs} ms; ${options.baselineSeconds} s before the flood`);
    await sleep(options.baselineSeconds * 1000);
    const fdsBefore = fdBreakdown(pid, ports);
    const rssBefore = rssBytes(pid);
    const logsBeforeFlood = gw.logs.length;
    const metricsBeforeFlood = await scrapeMetrics(gw.adminUrl);
    const cpuBeforeFlood = cpuSeconds(pid);
    validPhase = 'during';
    say(`flood ${options.floodSeconds} s: ${options.floodTokenConnections} keep-alive connections of invalid tokens + ${options.floodHandshakeConcurrency} loops of new TLS connections`);
    let fdsPeak = fdsBefore.total;
    let flooding = true;
    const peakWatch = (async () => {
      while (flooding) {
        fdsPeak = Math.max(fdsPeak, fdCount(pid));
        await sleep(250);
      }
    })();
    const floodResult = await floodProcess
      .run({
        origin,
        path,
        caPem: pki.ca.certPem,
        certPem,
        keyPem,
        header: decode(encodedHeader),
        claims: decode(encodedClaims),
        durationMs: options.floodSeconds * 1000,
        tokenConnections: options.floodTokenConnections,
        handshakeConcurrency: options.floodHandshakeConcurrency,
      })
      .finally(() => (flooding = false));
    await peakWatch;
    const floodCpu = cpuSeconds(pid) - cpuBeforeFlood;
    const metricsAfterFlood = await scrapeMetrics(gw.adminUrl);
    const keyFetches = gw.logs.slice(logsBeforeFlood).filter((l) => l['msg'] === 'issuer discovered and keys loaded').length;
    validPhase = 'after';
    say(`flood done: ${floodResult.invalidTokens.requests + floodResult.handshakes.requests} requests; ${options.afterFloodSeconds} s after it`);
    await sleep(options.afterFloodSeconds * 1000);
    // The flood's connections are closed by now on the client side; give the gateway a few seconds to see it.
    let fdsAfter = fdBreakdown(pid, ports);
    for (let waited = 0; fdsAfter.total > fdsBefore.total + options.limits.fdSlack && waited < 10_000; waited += 250) {
      await sleep(250);
      fdsAfter = fdBreakdown(pid, ports);
    }
    const rssAfter = rssBytes(pid);
    const heapUsedAfter = await scrapeMetrics(gw.adminUrl).then(
      (m) => metricSum(m, 'nodejs_heap_size_used_bytes'),
      () => null,
    );
    validRunning = false;
    await validLoops;

    // The first token, long expired: the churn was not for show.
    let firstTokenAtEnd: TokenSummary['firstTokenAtEnd'] = null;
    const first = tokens.issued[0]!;
    {
      const client = new Client(origin, { connect: tls });
      dispatchers.push(client);
      const res = await client.request({ path, method: 'GET', headers: { authorization: `Bearer ${first.token}` } });
      await res.body.dump();
      firstTokenAtEnd = { status: res.statusCode, wwwAuthenticate: String(res.headers['www-authenticate'] ?? ''), ageSeconds: (Date.now() - first.fetchedAt) / 1000 };
    }
    tokens.stop();
    await Promise.all(dispatchers.splice(0).map((d) => d.close()));

    const issued = tokens.issued;
    const result: SoakResult = {
      options,
      gatewayPid: pid,
      steady: {
        warmup: warmup.summary(),
        run: steady.summary(),
        durationSeconds: steadySeconds,
        achievedRate: steady.requests / steadySeconds,
        samples,
        gatewayCpuSeconds: steadyCpu,
        gatewayCounted2xx,
        clientOkBetweenScrapes: { min: okAtEnd.sent - okAtStart.answered, max: okAtEnd.answered - okAtStart.sent },
      },
      tokens: {
        fetched: issued.length,
        fetchFailures: [...tokens.failures],
        allDistinct: new Set(issued.map((t) => t.token)).size === issued.length,
        allBound: issued.every((t) => t.thumbprint === pki.client.thumbprint),
        usedDuringSteady: issued.filter((t) => t.steadyUses > 0).length,
        refreshIntervals: issued.slice(1).map((t, i) => (t.fetchedAt - issued[i]!.fetchedAt) / 1000),
        usesPerToken: issued.filter((t) => t.steadyUses > 0).map((t) => t.steadyUses),
        firstTokenAtEnd,
      },
      flood: {
        valid: { before: valid.before.summary(), during: valid.during.summary(), after: valid.after.summary() },
        result: floodResult,
        fdsBefore,
        fdsPeak,
        fdsAfter,
        rssBefore,
        rssAfter,
        heapUsedBefore: metricSum(metricsBeforeFlood, 'nodejs_heap_size_used_bytes'),
        heapUsedAfter,
        gatewayCpuSeconds: floodCpu,
        handshakes: metricSum(metricsAfterFlood, 'portcullis_tls_handshakes_total') - metricSum(metricsBeforeFlood, 'portcullis_tls_handshakes_total'),
        reasons: metricIncreaseBy(metricsBeforeFlood, metricsAfterFlood, 'portcullis_auth_outcomes_total', 'reason', (l) => !l.includes('outcome="success"')),
        keyFetches,
      },
      gatewayExitCode: null,
      gatewayLogMessages: {},
      gatewayErrorLogLines: [],
    };
    result.gatewayExitCode = await gateway.stop();
    for (const line of gateway.logs) {
      const msg = String(line['msg']);
      result.gatewayLogMessages[msg] = (result.gatewayLogMessages[msg] ?? 0) + 1;
    }
    result.gatewayErrorLogLines = gateway.logs
      .filter((l) => typeof l['level'] === 'number' && l['level'] >= 50)
      .slice(0, 5)
      .map((l) => JSON.stringify(l).slice(0, 300));
    return result;
  } finally {
    churn?.stop();
    floodProcess?.kill();
    await Promise.allSettled(dispatchers.map((d) => d.destroy()));
    if (gateway !== undefined && gateway.child.exitCode === null) await gateway.stop('SIGKILL');
    await echo?.close();
    await idp?.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The assertions, and the report.

/** The bound RSS must stay under at the end of the steady load. */
export const rssLimit = (startBytes: number, limits: SoakLimits): number => startBytes * limits.rssFactor + limits.rssSlackMiB * MiB;

/** openid-connect's `rediscovery_lifetime` default (the tutorial's configuration leaves it): the cooldown between two key refetches. */
const rediscoverySeconds = 30;

const nonOk = (c: LoadCounts): number => c.requests - c.ok;
const withoutUpstream = (f: FdBreakdown): number => f.total - f.upstream;

export interface SoakCheck {
  id:
    | 'warmup'
    | 'steady'
    | 'counted'
    | 'rss'
    | 'fds'
    | 'token-fetches'
    | 'tokens-distinct'
    | 'tokens-bound'
    | 'churn'
    | 'first-token'
    | 'valid-before'
    | 'valid-during'
    | 'valid-after'
    | 'valid-p99'
    | 'flood-tokens'
    | 'flood-handshakes'
    | 'handshakes-counted'
    | 'key-fetches'
    | 'fds-after-flood'
    | 'rss-after-flood'
    | 'exit'
    | 'error-logs';
  ok: boolean;
  /** What was seen, for a failure message. */
  message: string;
}

/** Every property the soak asserts, with whether it held. */
export function soakChecks(r: SoakResult): SoakCheck[] {
  const checks: SoakCheck[] = [];
  const { limits } = r.options;
  const check = (id: SoakCheck['id'], ok: boolean, message: string): void => {
    checks.push({ id, ok, message });
  };
  const s = r.steady;
  const start = s.samples[0]!;
  const end = s.samples[s.samples.length - 1]!;
  const describe = (c: LoadCounts): string =>
    `${nonOk(c)} of ${c.requests} not 200 (statuses ${JSON.stringify(c.statuses)}, errors ${JSON.stringify(c.errors)}; first: ${c.failureSamples.join(' | ') || '–'})`;
  check('warmup', s.warmup.requests > 0 && nonOk(s.warmup) === 0, `warm-up: ${describe(s.warmup)}`);
  check('steady', s.run.requests > 0 && nonOk(s.run) === 0, `steady load: ${describe(s.run)}`);
  // The gateway counts an answer as it sends it, the client as it receives it: at any moment the two
  // differ by at most the requests in flight, one per connection.
  const counted = countedRange(s.clientOkBetweenScrapes, r.options.connections);
  check(
    'counted',
    s.gatewayCounted2xx >= counted.min && s.gatewayCounted2xx <= counted.max,
    `the gateway counted ${s.gatewayCounted2xx} 2xx on the route between its two scrapes, the clients got ${counted.min}–${counted.max} then (their 2xx between the scrapes, ± ${r.options.connections} in flight)`,
  );
  check(
    'rss',
    end.rssBytes <= rssLimit(start.rssBytes, limits),
    `gateway RSS not flat: ${mib(start.rssBytes)} MiB after warm-up, ${mib(end.rssBytes)} MiB at the end (limit ${mib(rssLimit(start.rssBytes, limits))} MiB)`,
  );
  check(
    'fds',
    withoutUpstream(end.fds) <= withoutUpstream(start.fds) + limits.fdSlack && end.fds.upstream <= r.options.connections,
    `gateway fds under steady load: ${start.fds.total} → ${end.fds.total}, without upstream connections ${withoutUpstream(start.fds)} → ${withoutUpstream(end.fds)} ` +
      `(slack ${limits.fdSlack}), upstream connections ${start.fds.upstream} → ${end.fds.upstream} (at most ${r.options.connections})`,
  );
  const t = r.tokens;
  check('token-fetches', t.fetchFailures.length === 0, `token fetches failed: ${t.fetchFailures.join('; ')}`);
  check('tokens-distinct', t.allDistinct, 'the IdP issued the same token twice');
  check('tokens-bound', t.allBound, 'a token is not bound to the tutorial client certificate');
  check('churn', t.usedDuringSteady >= expectedTokens(r), `token churn: ${t.usedDuringSteady} tokens carried steady-load requests, expected at least ${expectedTokens(r)}`);
  // (Only once it has expired: a very short run may end before.)
  check(
    'first-token',
    t.firstTokenAtEnd !== null && (t.firstTokenAtEnd.status === 401 || t.firstTokenAtEnd.ageSeconds <= r.options.tokenTtlSeconds + 1),
    `the first token, ${t.firstTokenAtEnd?.ageSeconds.toFixed(0)} s old (tokens live ${r.options.tokenTtlSeconds} s), got ${t.firstTokenAtEnd?.status} instead of 401`,
  );
  const f = r.flood;
  check('valid-before', f.valid.before.requests > 0 && nonOk(f.valid.before) === 0, `valid clients before the flood: ${describe(f.valid.before)}`);
  check('valid-during', f.valid.during.requests >= 10 && nonOk(f.valid.during) === 0, `valid clients during the flood (at least 10 requests): ${describe(f.valid.during)}`);
  check('valid-after', f.valid.after.requests > 0 && nonOk(f.valid.after) === 0, `valid clients after the flood: ${describe(f.valid.after)}`);
  check('valid-p99', f.valid.during.latencyMs.p99 < limits.validP99Ms, `valid clients' p99 during the flood ${ms(f.valid.during.latencyMs.p99)} ms ≥ ${limits.validP99Ms} ms`);
  const floodSeconds = f.result.durationMs / 1000;
  for (const [id, name, counts] of [
    ['flood-tokens', 'invalid-token flood', f.result.invalidTokens],
    ['flood-handshakes', 'handshake flood', f.result.handshakes],
  ] as const) {
    const only401 = Object.keys(counts.statuses).every((status) => status === '401') && Object.keys(counts.errors).length === 0;
    const rate = counts.requests / floodSeconds;
    check(
      id,
      only401 && rate >= limits.minFloodRequestsPerSecond,
      `${name}: ${counts.requests} requests (${rate.toFixed(0)}/s, minimum ${limits.minFloodRequestsPerSecond}/s), statuses ${JSON.stringify(counts.statuses)}, no answer ${JSON.stringify(counts.errors)}; all must be 401`,
    );
  }
  check('handshakes-counted', f.handshakes >= f.result.handshakes.requests, `the gateway counted ${f.handshakes} TLS handshakes, the handshake flood made ${f.result.handshakes.requests}`);
  check('key-fetches', f.keyFetches <= maxKeyFetches(r), `the gateway fetched the IdP's keys ${f.keyFetches} times during the flood (at most ${maxKeyFetches(r)})`);
  check(
    'fds-after-flood',
    f.fdsAfter.total <= f.fdsBefore.total + limits.fdSlack,
    `gateway fds after the flood: ${f.fdsBefore.total} → ${f.fdsAfter.total} (slack ${limits.fdSlack}, peak ${f.fdsPeak}; after: ${JSON.stringify(f.fdsAfter)})`,
  );
  check(
    'rss-after-flood',
    f.rssAfter <= rssLimit(f.rssBefore, limits),
    `gateway RSS after ${f.result.invalidTokens.tokens + f.result.handshakes.tokens} distinct invalid tokens: ${mib(f.rssBefore)} → ${mib(f.rssAfter)} MiB (limit ${mib(rssLimit(f.rssBefore, limits))} MiB)`,
  );
  check('exit', r.gatewayExitCode === 0, `the gateway exited with ${r.gatewayExitCode} on SIGTERM`);
  check('error-logs', r.gatewayErrorLogLines.length === 0, `the gateway logged errors: ${r.gatewayErrorLogLines.join('\n')}`);
  return checks;
}

/** Messages of the checks that failed; empty when all held. */
export function soakFailures(r: SoakResult): string[] {
  return soakChecks(r)
    .filter((c) => !c.ok)
    .map((c) => c.message);
}

const expectedTokens = (r: SoakResult): number => Math.max(2, Math.floor(r.steady.durationSeconds / r.options.churnSeconds));
const maxKeyFetches = (r: SoakResult): number => Math.ceil(r.flood.result.durationMs / 1000 / rediscoverySeconds) + 1;

const mib = (bytes: number | null): string => (bytes === null ? '–' : (bytes / MiB).toFixed(1));
const ms = (v: number): string => (Number.isNaN(v) ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const counts = (record: Record<string, number>): string =>
  Object.keys(record).length === 0
    ? '–'
    : Object.entries(record)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
const fds = (f: FdBreakdown): string => `${f.total} (${f.clients} clients, ${f.upstream} upstream, ${f.idp} IdP, ${f.listening} listening, ${f.other} other)`;

/** The Markdown report: figures, limits and verdicts. */
export function formatSoakReport(r: SoakResult, checks: SoakCheck[] = soakChecks(r)): string {
  const o = r.options;
  const s = r.steady;
  const start = s.samples[0]!;
  const end = s.samples[s.samples.length - 1]!;
  const f = r.flood;
  const t = r.tokens;
  const floodSeconds = f.result.durationMs / 1000;
  const lines: string[] = [];
  const row = (...cells: string[]): number => lines.push(`| ${cells.join(' | ')} |`);
  const mark = (...ids: Array<SoakCheck['id']>): string => (checks.filter((c) => ids.includes(c.id)).every((c) => c.ok) ? 'ok' : '**FAIL**');
  const intervals = t.refreshIntervals;
  const failed = checks.filter((c) => !c.ok);

  lines.push(`## Soak report (${o.label})`, '');
  lines.push(
    `Gateway pid ${r.gatewayPid} (\`portcullis start --workers 1 --access-log off\`) with the tutorial pipeline (tls-handshake-modifier + openid-connect, ` +
      `proof_of_possession_mtls: strict), the development IdP (${o.tokenTtlSeconds} s tokens, tls_client_auth), the echo upstream; loopback only.`,
    '',
  );
  lines.push('### A. Steady load with token churn', '');
  row('measure', 'value', 'limit', '');
  row('---', '---', '---', '---');
  row('duration', `${s.durationSeconds.toFixed(1)} s after ${o.warmupSeconds} s of warm-up`, '', '');
  row('rate', `${s.achievedRate.toFixed(0)} req/s (target ${o.rate}, ${o.connections} keep-alive connections with the client certificate)`, '', '');
  row('requests', `${s.run.requests} (warm-up ${s.warmup.requests})`, '', '');
  row('not 200', `${nonOk(s.run)} (warm-up ${nonOk(s.warmup)}); no answer: ${counts(s.run.errors)}`, '0', mark('steady', 'warmup'));
  const counted = countedRange(s.clientOkBetweenScrapes, o.connections);
  row('2xx counted by the gateway (metrics)', String(s.gatewayCounted2xx), `${counted.min}–${counted.max} (the clients' 2xx between the scrapes ± ${o.connections} in flight)`, mark('counted'));
  row('latency p50 / p99 / max', `${ms(s.run.latencyMs.p50)} / ${ms(s.run.latencyMs.p99)} / ${ms(s.run.latencyMs.max)} ms`, '', '');
  row('gateway CPU', `${s.gatewayCpuSeconds.toFixed(1)} s (${((100 * s.gatewayCpuSeconds) / s.durationSeconds).toFixed(0)} % of one core)`, '', '');
  row('RSS start → end', `${mib(start.rssBytes)} → ${mib(end.rssBytes)} MiB (series max ${mib(Math.max(...s.samples.map((x) => x.rssBytes)))})`, `≤ start × ${o.limits.rssFactor} + ${o.limits.rssSlackMiB} MiB = ${mib(rssLimit(start.rssBytes, o.limits))}`, mark('rss'));
  row('V8 heap used start → end', `${mib(start.heapUsedBytes)} → ${mib(end.heapUsedBytes)} MiB`, '', '');
  row('open fds start', fds(start.fds), '', '');
  row('open fds end', fds(end.fds), `without upstream ≤ ${withoutUpstream(start.fds)} + ${o.limits.fdSlack}; upstream ≤ ${o.connections}`, mark('fds'));
  row(
    'tokens',
    `${t.fetched} fetched (all distinct: ${t.allDistinct}, all bound to the client certificate: ${t.allBound}, failures: ${t.fetchFailures.length}); ` +
      `${t.usedDuringSteady} carried the steady load (${t.usesPerToken.join(', ')} requests); a new one every ${intervals.length === 0 ? '–' : `${Math.min(...intervals).toFixed(1)}–${Math.max(...intervals).toFixed(1)}`} s ` +
      `(every ${o.churnSeconds} s, or ${o.refreshBeforeExpirySeconds} s before the current one expires if sooner)`,
    `≥ ${expectedTokens(r)} used`,
    mark('token-fetches', 'tokens-distinct', 'tokens-bound', 'churn'),
  );
  row(
    'the first token again at the end',
    t.firstTokenAtEnd === null ? '–' : `${t.firstTokenAtEnd.status} after ${t.firstTokenAtEnd.ageSeconds.toFixed(0)} s (\`${t.firstTokenAtEnd.wwwAuthenticate}\`)`,
    `401 once older than ${o.tokenTtlSeconds} s`,
    mark('first-token'),
  );
  lines.push('', `Every ${o.sampleEverySeconds} s:`, '');
  lines.push(`| t (s) | ${s.samples.map((x) => x.t.toFixed(0)).join(' | ')} |`);
  lines.push(`|---|${s.samples.map(() => '---').join('|')}|`);
  lines.push(`| RSS (MiB) | ${s.samples.map((x) => mib(x.rssBytes)).join(' | ')} |`);
  lines.push(`| V8 heap used (MiB) | ${s.samples.map((x) => mib(x.heapUsedBytes)).join(' | ')} |`);
  lines.push(`| open fds | ${s.samples.map((x) => String(x.fds.total)).join(' | ')} |`);
  lines.push(`| of which upstream | ${s.samples.map((x) => String(x.fds.upstream)).join(' | ')} |`);
  lines.push(`| client connections (metrics) | ${s.samples.map((x) => (x.openConnections === null ? '–' : String(x.openConnections))).join(' | ')} |`);

  lines.push('', '### B. Flood of invalid tokens and new TLS handshakes', '');
  row('valid clients', 'requests', 'not 200', 'p50 (ms)', 'p99 (ms)', 'max (ms)');
  row('---', '---', '---', '---', '---', '---');
  for (const phase of ['before', 'during', 'after'] as const) {
    const c = f.valid[phase];
    row(`${phase} the flood`, String(c.requests), String(nonOk(c)), ms(c.latencyMs.p50), ms(c.latencyMs.p99), ms(c.latencyMs.max));
  }
  lines.push(
    '',
    `${o.validClients} valid clients, a keep-alive connection each, one request every ${o.validIntervalMs} ms each. Limits: all 200, p99 during the flood < ${o.limits.validP99Ms} ms: ${mark('valid-before', 'valid-during', 'valid-after', 'valid-p99')}.`,
    '',
  );
  row('flood', 'requests', 'req/s', 'statuses', 'no answer', '');
  row('---', '---', '---', '---', '---', '---');
  const inv = f.result.invalidTokens;
  const hs = f.result.handshakes;
  row(`distinct invalid JWTs (bad signature / random kid), ${o.floodTokenConnections} keep-alive connections`, String(inv.requests), (inv.requests / floodSeconds).toFixed(0), counts(inv.statuses), counts(inv.errors), mark('flood-tokens'));
  row(
    `a new TLS connection per request, ${o.floodHandshakeConcurrency} at a time, ${hs.withCertificate} with the client certificate`,
    String(hs.requests),
    (hs.requests / floodSeconds).toFixed(0),
    counts(hs.statuses),
    counts(hs.errors),
    mark('flood-handshakes'),
  );
  lines.push('');
  row('measure', 'value', 'limit', '');
  row('---', '---', '---', '---');
  row('flood duration', `${floodSeconds.toFixed(1)} s (flood process CPU ${f.result.cpuSeconds.toFixed(1)} s)`, '', '');
  row('gateway CPU during the flood', `${f.gatewayCpuSeconds.toFixed(1)} s (${((100 * f.gatewayCpuSeconds) / floodSeconds).toFixed(0)} % of one core)`, '', '');
  row('refusal reasons (gateway metrics)', counts(f.reasons), '', '');
  row('TLS handshakes (gateway metrics)', String(f.handshakes), `≥ ${hs.requests}`, mark('handshakes-counted'));
  row('IdP key fetches during the flood', String(f.keyFetches), `≤ ${maxKeyFetches(r)} (one per ${rediscoverySeconds} s)`, mark('key-fetches'));
  row('open fds before', fds(f.fdsBefore), '', '');
  row('open fds peak', String(f.fdsPeak), '', '');
  row('open fds after', fds(f.fdsAfter), `≤ ${f.fdsBefore.total} + ${o.limits.fdSlack}`, mark('fds-after-flood'));
  row('RSS before → after', `${mib(f.rssBefore)} → ${mib(f.rssAfter)} MiB`, `≤ before × ${o.limits.rssFactor} + ${o.limits.rssSlackMiB} MiB = ${mib(rssLimit(f.rssBefore, o.limits))}`, mark('rss-after-flood'));
  row('V8 heap used before → after', `${mib(f.heapUsedBefore)} → ${mib(f.heapUsedAfter)} MiB`, '', '');
  lines.push('');
  row('gateway', 'value', 'limit', '');
  row('---', '---', '---', '---');
  row('exit code on SIGTERM', String(r.gatewayExitCode), '0', mark('exit'));
  row('log lines', counts(r.gatewayLogMessages), 'no error lines', mark('error-logs'));
  lines.push('', failed.length === 0 ? `**All ${checks.length} checks passed.**` : `**${failed.length} of ${checks.length} checks failed:**\n\n${failed.map((c) => `- ${c.message}`).join('\n')}`);
  return lines.join('\n');
}
