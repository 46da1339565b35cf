/**
 * The V8 flag the gateway runs with: a 4 MiB cap on each semi-space of the young generation.
 *
 * Why: since Node 22, V8 grows the young generation up to 64 MiB on a machine with this much
 * memory. A proxy keeps some objects of every request alive for about a second (undici's
 * connection timers among them), so each scavenge of that space copies and promotes ~1.5 MiB and
 * stops the event loop for ~4.7 ms; requests that arrive then wait for it, which is the p99. With
 * 4 MiB semi-spaces the scavenges are more frequent and ~0.7 ms each, the promoted total is the
 * same, and the throughput is within the noise (docs/performance.md, "Tail latency").
 *
 * The flag cannot be set from inside a running process (V8 sizes the heap at start), so every way
 * Portcullis is launched passes it: the `portcullis` bin's shebang, `npm start`, the forked proxy
 * workers (here) and the production recipe of docs/runtime.md. A flag given by the operator wins.
 */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=4';

/** `execArgv` with the young-generation cap added, unless it already sets one (or NODE_OPTIONS does). */
export function withGatewayNodeFlags(execArgv: readonly string[], nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const sets = (arg: string): boolean => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(arg);
  if (execArgv.some(sets) || nodeOptions.split(/\s+/).some(sets)) return [...execArgv];
  return [...execArgv, YOUNG_GENERATION_FLAG];
}
