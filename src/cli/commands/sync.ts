/**
 * `portcullis sync [FILE|-] [--dry-run]`, like `deck gateway sync`: make the gateway's configuration
 * exactly the file's, deleting what the file does not contain. The plan (one line per created,
 * updated or deleted entity) is printed first; `--dry-run` stops there. Entities the file names
 * without an id keep the id the gateway gave them (matched by name), so a sync of a dump is a no-op.
 */
import { formatConfigErrors, loadConfigObject } from '../../config/index.js';
import { exportConfig } from '../../config/export.js';
import { pluginSchemas } from '../../plugins/index.js';
import { diffConfigs, formatChanges, formatSummary } from '../../store/config-diff.js';
import { adoptIds } from '../../store/document-merge.js';
import { readDeckDocument, loadLiveConfig } from '../admin-client-document.js';
import { adminClientFlags, adminClientFrom } from '../admin-client-flags.js';
import { formatHelp, parseFlags, type FlagSpec } from '../flags.js';
import { InvalidConfigError } from '../load-config-file.js';

const flags: Record<string, FlagSpec> = {
  ...adminClientFlags,
  'dry-run': { type: 'boolean', description: 'Print the changes without making them', env: false },
};

export async function syncCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, env);
  if (values['help'] === true || positionals.length > 1) {
    console.log(formatHelp('portcullis sync [FILE|-] [--dry-run]', 'Makes a running gateway\'s configuration equal to a decK file, deleting what the file does not contain.', flags));
    return values['help'] === true ? 0 : 2;
  }
  const path = positionals[0] ?? '-';
  const file = await readDeckDocument(path, env);
  const client = adminClientFrom(values);
  const live = await client.getConfig();
  const base = loadLiveConfig(live.document);
  const loaded = loadConfigObject(adoptIds(file, base), { plugins: pluginSchemas });
  if (!loaded.ok) throw new InvalidConfigError(`${path === '-' ? 'stdin' : path}: invalid configuration\n${formatConfigErrors(loaded.errors)}`);
  const diff = diffConfigs(base, loaded.config);
  for (const line of formatChanges(diff.changes)) console.log(line);
  const summary = formatSummary(diff, { deletes: true });
  if (values['dry-run'] === true) {
    console.log(`dry run: ${summary}`);
    return 0;
  }
  if (diff.changes.length > 0) await client.postConfig(exportConfig(loaded.config, { references: 'id' }), live.hash);
  console.log(summary);
  return 0;
}
