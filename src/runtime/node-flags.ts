/**
 * The V8 flag the gateway runs with: a 16 MiB cap on each semi-space of the young generation, the
 * size Node 20 used.
 *
 * Why: since Node 22, V8 grows the young generation up to 64 MiB on a machine with this much
 * memory. A proxy keeps some objects of every request alive for about a second (undici's
 * connection timers among them), so each scavenge of that space copied and promoted ~1.5 MiB and
 * stopped the event loop for ~4.7 ms; requests that arrive then wait for it. Measured
 * (docs/performance.md, "Tail latency"): 16 MiB semi-spaces pause 1.6 ms per scavenge with the
 * tutorial pipeline's throughput unchanged; 4 MiB pause 0.7 ms but cost s3 about a tenth of its
 * req/s (more scavenges, each copying the same middle-lived objects).
 *
 * The flag cannot be set from inside a running process (V8 sizes the heap at start), so every way
 * Portcullis is launched passes it: the `portcullis` bin's shebang, `npm start`, the forked proxy
 * workers (here) and the production recipe of docs/runtime.md. For the workers a flag the operator
 * gave (command line or NODE_OPTIONS) wins; the bin's shebang wins over NODE_OPTIONS, so another
 * value there is given as `node --max-semi-space-size=N node_modules/.bin/portcullis …`.
 */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=16';

/** `execArgv` with the young-generation cap added, unless it already sets one (or NODE_OPTIONS does). */
export function withGatewayNodeFlags(execArgv: readonly string[], nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const sets = (arg: string): boolean => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(arg);
  if (execArgv.some(sets) || nodeOptions.split(/\s+/).some(sets)) return [...execArgv];
  return [...execArgv, YOUNG_GENERATION_FLAG];
}
