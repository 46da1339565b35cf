import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { StoreUnavailableError } from '../store/config-store.js';
import { clusterNodes } from './clustering-routes.js';

describe('GET /clustering/nodes', () => {
  it('lists this node alone with the file store', async () => {
    const body = await clusterNodes(null, { id: 'node-1', configHash: 'abc' });
    assert.equal(body.data.length, 1);
    assert.deepEqual({ ...body.data[0], last_seen: 0 }, { id: 'node-1', hostname: hostname(), config_hash: 'abc', last_seen: 0 });
  });

  it('says the database is unavailable when the nodes cannot be read', async () => {
    await assert.rejects(clusterNodes({ nodes: () => Promise.reject(new Error('connect ECONNREFUSED')) }, { id: 'n', configHash: 'h' }), StoreUnavailableError);
  });
});
