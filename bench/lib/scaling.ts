/**
 * The cores of the `--workers` scaling rows (scenario 9), from BENCH_CPUS: `<gateway>/<load>`, two
 * taskset CPU lists such as `0-3/4-7`. Unset, the machine is split in halves (2 cores: `0/1`, as
 * every other row). Worker counts are 1, 2, 4… up to the gateway's cores, and the core count itself.
 */
import { cpus } from 'node:os';

export interface ScalingPlan {
  readonly gatewayCpus: string;
  readonly loadCpus: string;
  readonly gatewayCores: number;
  readonly loadCores: number;
  readonly workerCounts: readonly number[];
  /** Why there is only one row, when there is. */
  readonly why: string | null;
}

/** The number of CPUs in a taskset list (`0-3,6`). Throws on anything else. */
export function countCpus(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) throw new TypeError(`BENCH_CPUS: "${list}" is not a CPU list such as 0-3,6`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) throw new TypeError(`BENCH_CPUS: "${part}" ends before it starts`);
    n += last - first + 1;
  }
  return n;
}

export function workerCounts(cores: number): number[] {
  const counts: number[] = [];
  for (let n = 1; n <= cores; n *= 2) counts.push(n);
  if (counts[counts.length - 1] !== cores) counts.push(cores);
  return counts;
}

export function scalingPlan(setting: string | undefined, machineCpus = cpus().length): ScalingPlan {
  let gatewayCpus: string;
  let loadCpus: string;
  if (setting !== undefined && setting !== '') {
    const [g, l, ...rest] = setting.split('/');
    if (g === undefined || l === undefined || rest.length > 0) throw new TypeError(`BENCH_CPUS: "${setting}" is not <gateway cpus>/<load cpus>, such as 0-3/4-7`);
    gatewayCpus = g.trim();
    loadCpus = l.trim();
  } else {
    const half = Math.max(1, Math.floor(machineCpus / 2));
    gatewayCpus = half === 1 ? '0' : `0-${half - 1}`;
    loadCpus = machineCpus - half <= 1 ? String(Math.min(half, machineCpus - 1)) : `${half}-${machineCpus - 1}`;
  }
  const gatewayCores = countCpus(gatewayCpus);
  const loadCores = countCpus(loadCpus);
  const counts = workerCounts(gatewayCores);
  const why =
    counts.length > 1
      ? null
      : `${machineCpus} cores: the gateway has ${gatewayCores} (CPU ${gatewayCpus}) and the load the rest (CPU ${loadCpus}); a second worker would share the first one's core and measure the scheduler, not scaling. On a bigger machine the rows go on to 2, 4… workers (BENCH_CPUS=<gateway>/<load>, e.g. 0-3/4-7).`;
  return { gatewayCpus, loadCpus, gatewayCores, loadCores, workerCounts: counts, why };
}
