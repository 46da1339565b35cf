import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyConfig } from '../config/index.js';
import type { Config } from '../config/types.js';
import { findEntity, KINDS } from './entity-kinds.js';

/** A config whose lists are frozen as a loaded one's are (the indexes are made once per list). */
function configWith(parts: Partial<Record<keyof Config, unknown[]>>): Config {
  const frozen = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Object.freeze(v)]));
  return { ...emptyConfig(), ...frozen };
}

describe('findEntity', () => {
  it('finds by id in any case, else by name field, else nothing', () => {
    const config = configWith({ consumers: [{ id: 'aaaa-1', username: 'alice' }, { id: 'bbbb-2', username: 'Bob' }] });
    assert.equal(findEntity(config, KINDS.consumers, 'AAAA-1')?.['username'], 'alice');
    assert.equal(findEntity(config, KINDS.consumers, 'Bob')?.['id'], 'bbbb-2');
    assert.equal(findEntity(config, KINDS.consumers, 'bob'), null, 'a name is compared as written');
    assert.equal(findEntity(config, KINDS.consumers, 'carol'), null);
  });

  it('finds a certificate by any of its SNIs, in lower case', () => {
    const config = configWith({ certificates: [{ id: 'c1', snis: ['a.example', 'b.example'] }, { id: 'c2', snis: ['c.example'] }] });
    assert.equal(findEntity(config, KINDS.certificates, 'B.Example')?.['id'], 'c1');
    assert.equal(findEntity(config, KINDS.certificates, 'c.example')?.['id'], 'c2');
  });

  it('gives the first entity of the list when two carry the name, also in a list appended to', () => {
    const base = Object.freeze([{ id: 'r1', name: 'same' }]);
    const first = configWith({ routes: [...base] });
    assert.equal(findEntity(first, KINDS.routes, 'same')?.['id'], 'r1');
    const grown = configWith({ routes: [...base, { id: 'r2', name: 'same' }, { id: 'r3', name: 'other' }] });
    assert.equal(findEntity(grown, KINDS.routes, 'same')?.['id'], 'r1');
    assert.equal(findEntity(grown, KINDS.routes, 'other')?.['id'], 'r3');
  });
});
