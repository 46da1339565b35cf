/**
 * One active health probe of one target, classified the way lua-resty-healthcheck classifies it
 * (Kong pins 3.1.0; `checker:run_single_check` in `lib/resty/healthcheck.lua`). No health state:
 * the caller counts the outcomes (`target-health.ts`).
 *
 * - `tcp`: a connection within the timeout is a success; it is closed at once.
 * - `http`/`https`: `GET http_path` over a fresh connection with `Connection: close`. Only the
 *   status counts: healthy list → success, unhealthy list → http_failure, neither → ignored. A
 *   response that is not HTTP counts as http_failure with status 0, as Kong's `report_http_status`
 *   does with a bad status line. The body is read and dropped, at most {@link BODY_LIMIT} bytes.
 * - Refused, reset, unreachable, DNS failure, a failed TLS handshake (a certificate that does not
 *   verify included): tcp_failure. Kong reports every failed `sslhandshake` as a TCP failure.
 * - Nothing within the timeout: timeout; except during the TLS handshake, which Kong, whose socket
 *   timeout applies to each step, sees as a failed handshake (tcp_failure "TLS handshake timed out").
 *
 * Unlike Kong, whose socket timeout applies to connect, handshake, send and receive in turn, the
 * timeout here bounds the whole probe. An aborted `signal` resolves tcp_failure "aborted" (the prober
 * was stopped; the caller drops the outcome); `probe` never rejects.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

export type ProbeOutcome =
  | { readonly kind: 'success'; readonly status: number | null } // tcp: status null
  | { readonly kind: 'http_failure'; readonly status: number } // in the unhealthy list, or 0: not HTTP
  | { readonly kind: 'tcp_failure'; readonly error: string } // refused/reset/unreachable, TLS handshake failure
  | { readonly kind: 'timeout' } // no connection / no response head within the timeout
  | { readonly kind: 'ignored'; readonly status: number }; // in neither list

export interface ProbeSettings {
  readonly type: 'tcp' | 'http' | 'https';
  /** IPv4, a name, or an IPv6 address without brackets (in any spelling, e.g. fully expanded). */
  readonly host: string;
  readonly port: number;
  /** The whole probe: connect, TLS handshake and the response head. ≤ 0: {@link FALLBACK_TIMEOUT_MS}. */
  readonly timeoutMs: number;
  readonly httpPath: string;
  /** The Host header sent. An extra header named Host replaces it. */
  readonly hostHeader: string;
  /** Extra headers, name → values, each value on a line of its own. `Connection` is always `close`. */
  readonly headers: Readonly<Record<string, readonly string[]>> | null;
  /** SNI for https; null → the host part of `hostHeader` (see {@link probeServerName}). */
  readonly httpsSni: string | null;
  readonly verifyCertificate: boolean;
  /** Trust anchors for https; undefined: node's default store. */
  readonly ca: readonly string[] | undefined;
  /** Presented over https when the server asks for one. */
  readonly clientCertificate: { readonly cert: string; readonly key: string } | undefined;
  readonly healthyStatuses: readonly number[];
  readonly unhealthyStatuses: readonly number[];
}

/** Response body bytes read (and dropped) before the connection is cut. */
export const BODY_LIMIT = 64 * 1024;

/**
 * Used when `timeoutMs` is 0 (Kong's schema allows `timeout: 0`): ngx_lua then falls back to its
 * `lua_socket_*_timeout` defaults of 60 s rather than timing out at once.
 */
export const FALLBACK_TIMEOUT_MS = 60_000;

const ABORTED: ProbeOutcome = { kind: 'tcp_failure', error: 'aborted' };

/** Probes the target once; never rejects. */
export function probe(settings: ProbeSettings, signal?: AbortSignal): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve(ABORTED);
      return;
    }
    const run = new ProbeRun(settings, signal, resolve);
    if (settings.type === 'tcp') run.tcp();
    else run.http();
  });
}

/** Classifies a response status by the two lists (the healthy list wins, as in Kong). */
export function classifyStatus(status: number, settings: Pick<ProbeSettings, 'healthyStatuses' | 'unhealthyStatuses'>): ProbeOutcome {
  if (settings.healthyStatuses.includes(status)) return { kind: 'success', status };
  if (settings.unhealthyStatuses.includes(status) || status === 0) return { kind: 'http_failure', status };
  return { kind: 'ignored', status };
}

/**
 * The SNI of an https probe, '' for none. lua-resty-healthcheck 3.1.0 uses `https_sni`, else the
 * probe's Host (the upstream's `host_header`, else the target's name): that is `httpsSni`, else the
 * host part of `hostHeader`, which the caller builds from the same two. An IP is never sent
 * (RFC 6066 §3; Kong's schema refuses one in `https_sni`); the certificate is then checked against
 * the target's address.
 */
export function probeServerName(settings: Pick<ProbeSettings, 'httpsSni' | 'hostHeader'>): string {
  const name = settings.httpsSni ?? hostPart(settings.hostHeader);
  return name.includes(':') || net.isIP(name) !== 0 ? '' : name;
}

/** `name`, `name:port`, `[v6]`, `[v6]:port` → the name or address; a bare IPv6 stays as it is. */
function hostPart(hostHeader: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(hostHeader);
  if (bracketed !== null) return bracketed[1]!;
  const named = /^([^:]*)(?::\d*)?$/.exec(hostHeader);
  return named === null ? hostHeader : named[1]!;
}

/**
 * The request head as node's flat raw list, in lua-resty-healthcheck's order (Host, Connection,
 * then the extras). A flat list, not an object, so that node sends every value as a line of its own
 * (it would join repeated Cookie values) and adds nothing. Kong would send a second Host or
 * Connection line if the extras had one; here the extra Host replaces the default and an extra
 * Connection is dropped (the probe's connection is one-shot either way).
 */
export function probeRequestHeaders(settings: Pick<ProbeSettings, 'hostHeader' | 'headers'>): string[] {
  const extras = Object.entries(settings.headers ?? {});
  const head: string[] = [];
  if (!extras.some(([name, values]) => name.toLowerCase() === 'host' && values.length > 0)) head.push('Host', settings.hostHeader);
  head.push('Connection', 'close');
  for (const [name, values] of extras) {
    if (name.toLowerCase() === 'connection') continue;
    for (const value of values) head.push(name, value);
  }
  return head;
}

/**
 * TLS contexts by settings object. Building one from `ca` parses every anchor (node's ~260 default
 * roots plus `--trusted-certificate`: ~10 ms of CPU), so a context is made once per target's settings
 * (the checker keeps one settings object per target) instead of once per probe. Not health state:
 * derived from the settings alone, and dropped with them.
 */
const secureContexts = new WeakMap<ProbeSettings, tls.SecureContext>();

function secureContextFor(settings: ProbeSettings): tls.SecureContext {
  let context = secureContexts.get(settings);
  if (context === undefined) {
    context = tls.createSecureContext({
      ...(settings.ca === undefined ? {} : { ca: [...settings.ca] }),
      ...(settings.clientCertificate === undefined ? {} : { cert: settings.clientCertificate.cert, key: settings.clientCertificate.key }),
    });
    secureContexts.set(settings, context);
  }
  return context;
}

/**
 * One probe in flight. Settles once; the deadline timer and the abort listener live until the
 * connection has closed (or the deadline has passed), so a body still being drained after the head
 * settled the outcome is bounded in time as well as in size.
 */
class ProbeRun {
  readonly #settings: ProbeSettings;
  readonly #signal: AbortSignal | undefined;
  readonly #resolve: (outcome: ProbeOutcome) => void;
  readonly #timer: NodeJS.Timeout;
  readonly #onAbort = (): void => this.#stop(ABORTED);
  #settled = false;
  #finished = false;
  #destroy: () => void = () => undefined;
  /** What the connection is doing, for classifying an expired deadline. */
  #phase: 'connect' | 'handshake' | 'exchange' = 'connect';

  constructor(settings: ProbeSettings, signal: AbortSignal | undefined, resolve: (outcome: ProbeOutcome) => void) {
    this.#settings = settings;
    this.#signal = signal;
    this.#resolve = resolve;
    const ms = Number.isFinite(settings.timeoutMs) && settings.timeoutMs > 0 ? settings.timeoutMs : FALLBACK_TIMEOUT_MS;
    this.#timer = setTimeout(() => this.#stop(this.#phase === 'handshake' ? { kind: 'tcp_failure', error: 'TLS handshake timed out' } : { kind: 'timeout' }), ms);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  tcp(): void {
    let socket: net.Socket;
    try {
      socket = net.connect({ host: this.#settings.host, port: this.#settings.port });
    } catch (err) {
      this.#stop({ kind: 'tcp_failure', error: describeError(err) });
      return;
    }
    this.#destroy = () => socket.destroy();
    socket.once('connect', () => {
      this.#settle({ kind: 'success', status: null });
      socket.destroy();
    });
    socket.once('error', (err) => this.#settle({ kind: 'tcp_failure', error: describeError(err) }));
    socket.once('close', () => this.#finish());
  }

  /**
   * node:http(s) `request` with `agent: false`: a private agent, a fresh socket, no pool, so nothing
   * outlives the probe and the TLS options (servername, rejectUnauthorized, the context) apply to
   * this connection alone. undici's one-shot `Client` would do too, but node:http exposes the socket
   * (the handshake phase above), takes a raw ordered header list and has no timers of its own.
   */
  http(): void {
    const s = this.#settings;
    const secure = s.type === 'https';
    let req: http.ClientRequest;
    try {
      // node's https agent hands every option to tls.connect, secureContext included (its type omits it).
      const options: https.RequestOptions & Pick<tls.ConnectionOptions, 'secureContext'> = {
        host: s.host,
        port: s.port,
        method: 'GET',
        path: s.httpPath,
        headers: probeRequestHeaders(s),
        setHost: false,
        agent: false,
      };
      if (secure) {
        // '' (not undefined): node's https agent would otherwise take the SNI from the host.
        options.servername = probeServerName(s);
        options.rejectUnauthorized = s.verifyCertificate;
        options.secureContext = secureContextFor(s);
      }
      req = (secure ? https : http).request(options);
    } catch (err) {
      // An invalid header, path or TLS material: nothing was sent.
      this.#stop({ kind: 'tcp_failure', error: `invalid probe: ${describeError(err)}` });
      return;
    }
    this.#destroy = () => req.destroy();
    req.once('socket', (socket) => {
      socket.once('connect', () => (this.#phase = secure ? 'handshake' : 'exchange'));
      if (secure) socket.once('secureConnect', () => (this.#phase = 'exchange'));
    });
    req.on('error', (err) => this.#settle(responseError(err)));
    req.once('response', (res) => {
      this.#settle(classifyStatus(res.statusCode ?? 0, s));
      let seen = 0;
      res.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > BODY_LIMIT) req.destroy();
      });
      res.on('error', () => undefined);
    });
    req.once('close', () => this.#finish());
    req.end();
  }

  #settle(outcome: ProbeOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(outcome);
  }

  /** Deadline or abort: settles (if not yet), cuts the connection and lets go of timer and signal. */
  #stop(outcome: ProbeOutcome): void {
    this.#settle(outcome);
    this.#destroy();
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}

/** An error before the response head: not HTTP (node's parser, `HPE_*`) → http_failure 0, else tcp_failure. */
function responseError(err: unknown): ProbeOutcome {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('HPE_')) return { kind: 'http_failure', status: 0 };
  return { kind: 'tcp_failure', error: describeError(err) };
}

/** A short text for the health endpoint: the message, with the code when the message lacks it. */
function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(describeError).join('; ');
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (err.message === '') return code ?? err.name;
  return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}
