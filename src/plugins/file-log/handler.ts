/**
 * Kong's file-log (priority 9, log phase): one JSON record (Kong's serializer, credentials
 * redacted) and a newline per request, appended to `path` (opened for append, created 0644 as
 * Kong's O_CREAT|O_APPEND). Writing is asynchronous and bounded (append-file.ts): a request never
 * waits for, nor fails on, the disk.
 */
import type { PluginDefinition } from '../../pipeline/plugin.js';
import { AppendFile } from './append-file.js';
import { fileLogSchema, type FileLogConfig } from './schema.js';

export const fileLog: PluginDefinition<FileLogConfig> = {
  schema: fileLogSchema,
  priority: 9,
  create(config, _entity, env) {
    const file = new AppendFile({ path: config.path, reopen: config.reopen, logger: env.logger, dropped: (count, reason) => env.node.kongMetrics.logEntriesDropped('file-log', reason, count) });
    return {
      log(_ctx, entry) {
        file.append(`${entry.json()}\n`);
      },
      close: () => file.close(),
    };
  },
};
