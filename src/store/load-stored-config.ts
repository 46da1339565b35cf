/**
 * The configuration a gateway resumes with when started without `--declarative-config`: the last one
 * saved. A stored document that no longer validates (a plugin removed in this version, a certificate
 * that expired) stops the start with its errors rather than silently serving something else.
 */
import { formatConfigErrors, loadConfigObject } from '../config/index.js';
import type { Config } from '../config/types.js';
import type { PluginSchema } from '../pipeline/plugin.js';
import type { ConfigStore, StoredConfig } from './config-store.js';

/** How long the start spent reading the stored document and validating it (the start's log line reports both). */
export interface LoadTimings {
  readonly readMs: number;
  readonly validateMs: number;
}

export class StoredConfigInvalidError extends Error {
  override readonly name = 'StoredConfigInvalidError';
}

/** The stored configuration, loaded; null when none was saved. Throws when it is unusable. */
export async function loadStoredConfig(
  store: ConfigStore,
  plugins: ReadonlyMap<string, PluginSchema>,
  where: string,
): Promise<{ config: Config; stored: StoredConfig; timings: LoadTimings } | null> {
  const asked = performance.now();
  const stored = await store.load();
  if (stored === null) return null;
  const read = performance.now();
  // Saved state was accepted when it was made, possibly entity by entity.
  const result = loadConfigObject(stored.document, { plugins, entityAtATime: true });
  const timings = { readMs: Math.round(read - asked), validateMs: Math.round(performance.now() - read) };
  if (!result.ok) {
    throw new StoredConfigInvalidError(
      `the stored configuration (${where}) is not valid for this version:\n${formatConfigErrors(result.errors)}\nstart with --declarative-config FILE to replace it`,
    );
  }
  return { config: result.config, stored, timings };
}
