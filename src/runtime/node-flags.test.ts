import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { withGatewayNodeFlags, YOUNG_GENERATION_FLAG } from './node-flags.js';

const root = new URL('../../../', import.meta.url);

describe('node flags of the gateway', () => {
  it('adds the young-generation cap unless the operator set one', () => {
    assert.deepEqual(withGatewayNodeFlags(['--enable-source-maps'], ''), ['--enable-source-maps', YOUNG_GENERATION_FLAG]);
    assert.deepEqual(withGatewayNodeFlags(['--max-semi-space-size=32'], ''), ['--max-semi-space-size=32']);
    assert.deepEqual(withGatewayNodeFlags(['--max_semi_space_size', '16'], ''), ['--max_semi_space_size', '16']);
    assert.deepEqual(withGatewayNodeFlags([], '--max-old-space-size=512 --max-semi-space-size=2'), []);
  });

  it('is the flag the bin and npm start launch with', () => {
    const main = readFileSync(new URL('src/cli/main.ts', root), 'utf8');
    assert.equal(main.split('\n')[0], `#!/usr/bin/env -S node ${YOUNG_GENERATION_FLAG}`);
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts['start']!, new RegExp(`^node ${YOUNG_GENERATION_FLAG} `));
  });
});
