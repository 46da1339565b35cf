import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { minimumNodeMajor, unsupportedRuntime } from './runtime-support.js';

const main = fileURLToPath(new URL('./main.js', import.meta.url));

describe('runtime support', () => {
  it('takes the LTS lines from 24 on and refuses the end-of-life ones', () => {
    assert.equal(unsupportedRuntime('v24.11.0'), null);
    assert.equal(unsupportedRuntime('v26.12.1'), null);
    assert.match(unsupportedRuntime('v20.20.2') ?? '', /^Node\.js v20\.20\.2 is not supported: run on Node\.js 24 LTS or later/);
    assert.notEqual(unsupportedRuntime('v22.19.0'), null);
    assert.notEqual(unsupportedRuntime('garbage'), null);
  });

  it('the tests themselves run on a supported runtime (the pinned one)', () => {
    assert.ok(Number(process.versions.node.split('.')[0]) >= minimumNodeMajor, process.version);
  });

  it('the CLI starts no command on an old system node, and says how to use the pinned one', (t) => {
    const old = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' });
    if (old.status !== 0 || unsupportedRuntime(old.stdout.trim()) === null) return t.skip('no end-of-life node at /usr/bin/node here');
    const run = spawnSync('/usr/bin/node', [main, 'validate', '/nonexistent.yaml'], { encoding: 'utf8' });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^portcullis: Node\.js v\d+\.\d+\.\d+ is not supported: run on Node\.js 24 LTS or later\. The package pins one: 'npx portcullis/);
    const version = spawnSync('/usr/bin/node', [main, 'version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, 'version and --help still answer');
  });
});
