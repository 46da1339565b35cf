/**
 * h2load (Debian's nghttp2-client) as the HTTP/2 load generator: a few connections, many streams
 * each. It has no client-certificate option either, so it runs under the same LD_PRELOAD shim as
 * wrk (peers/wrk-client-cert.c hooks OpenSSL's SSL_new, which h2load calls too). h2load reports a
 * mean and no percentiles: p50 is its mean, p99/p99.9 are NaN (shown as —).
 */
import { runLoadTool, type LoadOptions, type Sample } from './wrk.js';

export interface H2LoadOptions extends LoadOptions {
  /** Concurrent streams per connection (`-m`). */
  readonly streams: number;
}

export async function runH2load(options: H2LoadOptions): Promise<Sample> {
  const args = ['-c', options.cpus, 'h2load', `-t${options.threads ?? 1}`, `-c${options.connections}`, `-m${options.streams}`, `-D${options.seconds}`];
  for (const h of options.headers ?? []) args.push('-H', h);
  args.push(options.url);
  const { out, cpu } = await runLoadTool('h2load', args, options);
  return { ...parseH2load(out), cpu };
}

/** Reads h2load's summary: `finished in …, N req/s`, the request counts, the status classes, the mean time for request. */
export function parseH2load(out: string): Omit<Sample, 'cpu'> {
  const rps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0);
  const counts = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const mean = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(out);
  const toMs = (value: string, unit: string): number => Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);
  const done = Number(counts?.[3] ?? 0);
  const non2xx = status === null ? 0 : Number(status[2]) + Number(status[3]) + Number(status[4]);
  return {
    rps,
    requests: done,
    p50: mean === null ? NaN : toMs(mean[1]!, mean[2]!),
    p99: NaN,
    p999: NaN,
    // errored: the stream never got an answer; timeout: none within the time.
    errors: Number(counts?.[6] ?? 0) + Number(counts?.[7] ?? 0),
    non2xx,
  };
}
