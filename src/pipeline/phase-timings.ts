/**
 * When each plugin phase and the upstream call of one request ran, for a tracing plugin that turns
 * them into spans after the fact. Made only for routes with such a plugin (`PluginDefinition.
 * tracesPhases`): every other request pays one null check per phase. Times are `performance.now()`
 * milliseconds, as `RequestContext.receivedAt`.
 */
export type TimedPhase = 'rewrite' | 'access' | 'header_filter';

export interface PhaseTiming {
  readonly plugin: string;
  readonly phase: TimedPhase;
  readonly start: number;
  readonly end: number;
  /** The phase threw: a refusal, or a failure. */
  readonly failed: boolean;
}

export interface UpstreamTiming {
  readonly start: number;
  /** When the response head arrived, or the call failed. */
  readonly end: number;
  /** The upstream's status, null when no response came. */
  readonly status: number | null;
  /** Attempts made (1 + retries). */
  readonly tries: number;
}

export class PhaseTimings {
  readonly phases: PhaseTiming[] = [];
  upstream: UpstreamTiming | null = null;

  record(plugin: string, phase: TimedPhase, start: number, failed: boolean): void {
    this.phases.push({ plugin, phase, start, end: performance.now(), failed });
  }
}
