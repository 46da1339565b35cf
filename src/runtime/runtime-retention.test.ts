/**
 * A runtime built from the previous one (a change of consumers only keeps its router, pools and
 * TLS) must not keep that previous one alive: each holds a whole configuration, and a run of
 * admin changes would otherwise keep every configuration it made (issue 16's memory figures).
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../config/index.js';
import { pluginDefinitions, pluginSchemas } from '../plugins/index.js';
import { loadDefaultCertificate } from '../server/default-certificate.js';
import { localNodeServices } from '../state/node-services.js';
import { createLeafEntity } from '../store/incremental-change.js';
import { createLogger } from '../util/logger.js';
import { Runtime } from './runtime.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('Runtime.compile from a previous runtime', () => {
  it('lets the previous runtimes and their configurations be collected', async () => {
    const loaded = loadConfig(
      `_format_version: "3.0"
services: [{ name: s, url: "http://127.0.0.1:1", routes: [{ name: r, paths: [/r] }] }]
plugins: [{ name: key-auth }, { name: cors }]
consumers: [{ username: a, keyauth_credentials: [{ key: a-key }] }]
`,
      { plugins: pluginSchemas, env: {} },
    );
    assert.ok(loaded.ok);
    const defaultCertificate = await loadDefaultCertificate({ sslCert: null, sslCertKey: null, prefix: await mkdtemp(join(tmpdir(), 'portcullis-retention-')) });
    const deps = { plugins: pluginDefinitions, logger: createLogger({ level: 'silent' }), defaultCertificate, trustedCaPems: [], node: localNodeServices() };
    let alive = 0;
    const registry = new FinalizationRegistry(() => alive--);
    let runtime = Runtime.compile(loaded.config, deps, null);
    for (let i = 0; i < 30; i++) {
      const created = createLeafEntity(runtime.config, 'consumers', { username: `c${i}` }, pluginSchemas);
      assert.ok(created !== null);
      alive++;
      registry.register(created.config, null);
      runtime = Runtime.compile(created.config, deps, runtime);
    }
    for (let i = 0; i < 10 && alive > 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      gc();
    }
    assert.equal(alive, 1, 'only the current configuration is alive');
  });
});
