/** What the gateway does with health: which targets the live configuration has, and the log line of every change. */
import type { Logger } from 'pino';
import type { Config } from '../../config/types.js';
import type { TargetChange } from './upstream-health.js';

/** Upstream name → target addresses of a configuration (the health worth keeping). */
export function liveTargets(config: Config): Map<string, Set<string>> {
  const names = new Map(config.upstreams.map((u) => [u.id, u.name]));
  const live = new Map<string, Set<string>>();
  for (const target of config.targets) {
    const name = names.get(target.upstream);
    if (name === undefined) continue;
    let set = live.get(name);
    if (set === undefined) live.set(name, (set = new Set()));
    set.add(target.target);
  }
  return live;
}

/** One line per change: a target going down is a warning, coming back is information. */
export function logHealthChange(logger: Logger, change: TargetChange): void {
  const fields = { upstream: change.upstream, target: change.target, healthy: change.healthy, source: change.source, outcome: change.outcome };
  if (change.healthy) logger.info(fields, 'upstream target healthy');
  else logger.warn(fields, 'upstream target unhealthy');
}
