/**
 * `portcullis apply [FILE|-]`, the equivalent of `deck gateway apply`: create or update the file's
 * entities (matched by id, else by name) and leave everything else as it is.
 *
 * Done on the client side, like decK: read the gateway's configuration, merge the file into it
 * (`mergeForApply`), validate the merged whole locally (so `route: example-route` resolves against the
 * gateway, and errors carry the file's own paths), then replace the configuration with
 * `If-Match`, so a change made by someone else in between is never overwritten: the apply starts
 * over from the new state (up to three times).
 */
import { loadConfigObject } from '../../config/index.js';
import { exportConfig } from '../../config/export.js';
import { pluginSchemas } from '../../plugins/index.js';
import { diffConfigs, type ConfigDiff } from '../../store/config-diff.js';
import { adoptIds, entitiesOf, keepRouteOrder, mergeForApply, relabelErrors } from '../../store/document-merge.js';
import { SECTIONS } from '../../store/entity-keys.js';
import { formatConfigErrors } from '../../config/index.js';
import type { AdminClient } from '../admin-client.js';
import { AdminClientError } from '../admin-client.js';
import { readDeckDocument, loadLiveConfig } from '../admin-client-document.js';
import { adminClientFlags, adminClientFrom } from '../admin-client-flags.js';
import { formatHelp, parseFlags } from '../flags.js';
import { InvalidConfigError } from '../load-config-file.js';

const ATTEMPTS = 3;

/** `created 2, updated 1, unchanged 3`, counting the file's entities only. */
function summary(diff: ConfigDiff, fileEntities: number): string {
  const created = diff.changes.filter((c) => c.action === 'create').length;
  const updated = diff.changes.filter((c) => c.action === 'update').length;
  return `created ${created}, updated ${updated}, unchanged ${Math.max(0, fileEntities - created - updated)}`;
}

async function applyOnce(client: AdminClient, file: Record<string, unknown>, name: string): Promise<string> {
  const live = await client.getConfig();
  const base = loadLiveConfig(live.document);
  const merged = mergeForApply(adoptIds(file, base) as Record<string, unknown>, live.document);
  const loaded = loadConfigObject(merged.document, { plugins: pluginSchemas });
  if (!loaded.ok) throw new InvalidConfigError(`${name}: invalid configuration\n${formatConfigErrors(relabelErrors(loaded.errors, merged))}`);
  const next = keepRouteOrder(loaded.config, base);
  const diff = diffConfigs(base, next);
  const count = SECTIONS.reduce((n, s) => n + entitiesOf(file)[s].length, 0);
  if (diff.changes.length > 0) await client.postConfig(exportConfig(next, { references: 'id' }), live.hash);
  return summary(diff, count);
}

/**
 * What `portcullis apply` does with a rendered, parsed decK document: merge it into the gateway's
 * configuration and replace that with `If-Match`, starting over when someone else changed it
 * meanwhile. Returns the summary line (`created 2, updated 0, unchanged 0`); errors name `name`.
 * The quickstart applies the tutorial's steps through this too.
 */
export async function applyDocument(client: AdminClient, document: Record<string, unknown>, name: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await applyOnce(client, document, name);
    } catch (error) {
      // 412: the configuration changed between reading and writing it; merge again.
      if (!(error instanceof AdminClientError && error.status === 412) || attempt === ATTEMPTS) throw error;
    }
  }
}

export async function applyCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(argv, adminClientFlags, env);
  if (values['help'] === true || positionals.length > 1) {
    console.log(formatHelp('portcullis apply [FILE|-]', 'Creates or updates the entities of a decK file on a running gateway; deletes nothing.', adminClientFlags));
    return values['help'] === true ? 0 : 2;
  }
  const path = positionals[0] ?? '-';
  const file = await readDeckDocument(path, env);
  console.log(await applyDocument(adminClientFrom(values), file, path === '-' ? 'stdin' : path));
  return 0;
}
