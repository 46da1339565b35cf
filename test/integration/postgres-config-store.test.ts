/**
 * The configuration store on a real PostgreSQL server, as two nodes use it: a saved configuration
 * loads back identical (order included) on another store, a change writes only the entities it
 * touches, a save from a node that missed another node's commit is refused with nothing written
 * (two saves from the same version: one wins), every commit is in the change log and notified; a
 * change of a few entities (`saveChanges`) writes those rows only, and another node reads only
 * them (`loadChanges`) into the same document a whole load gives; a database without the
 * per-entity log (migration 001 not run) makes `loadChanges` say "load everything".
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { configHash, loadConfig } from '../../src/config/index.js';
import { exportConfig, type DeckDocument } from '../../src/config/export.js';
import { pluginSchemas } from '../../src/plugins/index.js';
import { withDocumentChanges } from '../../src/store/document-changes.js';
import type { EntityChanges } from '../../src/store/config-store.js';
import { bootstrap } from '../../src/store/postgres/migrate.js';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { postgresPool } from '../../src/store/postgres/pg-pool.js';
import { postgresSettings } from '../../src/store/postgres/pg-settings.js';
import { CONFIG_CHANNEL, ConfigConflictError, PostgresConfigStore } from '../../src/store/postgres/postgres-config-store.js';
import { startPostgresServer, type PostgresServer } from '../helpers/postgres-server.js';

const FILE = `_format_version: "3.0"
services:
  - name: orders
    url: http://orders.internal:8080/v1
    routes:
      - name: orders-read
        paths: [/orders]
        methods: [GET]
      - name: orders-write
        paths: [/orders]
        methods: [POST]
    plugins:
      - name: key-auth
      - name: rate-limiting
        config: { minute: 100 }
  - name: billing
    url: http://billing.internal:8080
    routes:
      - name: billing
        paths: [/billing]
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
    acls: [{ group: gold }]
  - username: bob
upstreams:
  - name: orders.internal
    targets: [{ target: 10.0.0.1:8080 }, { target: 10.0.0.2:8080 }]
`;

/** The canonical document of a decK file (what the config manager saves), with its hash. */
function canonical(text: string): { document: DeckDocument; hash: string } {
  const loaded = loadConfig(text, { plugins: pluginSchemas, env: {} });
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
  return { document: exportConfig(loaded.config, { references: 'id', children: 'flat' }), hash: configHash(loaded.config) };
}

const sections = (document: DeckDocument): Record<string, unknown[]> => document as Record<string, unknown[]>;

describe('PostgresConfigStore', () => {
  let server: PostgresServer;
  let pools: pg.Pool[];
  let nodeA: PostgresConfigStore;
  let nodeB: PostgresConfigStore;

  before(async () => {
    server = await startPostgresServer();
    const settings = postgresSettings({ 'pg-host': server.host, 'pg-port': String(server.port), 'pg-user': server.user, 'pg-password': server.password, 'pg-database': server.database });
    pools = [postgresPool(settings), postgresPool(settings)];
    await bootstrap(pools[0]!, settings);
    nodeA = new PostgresConfigStore(pools[0]!, 'node-a');
    nodeB = new PostgresConfigStore(pools[1]!, 'node-b');
  });
  after(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    await server.stop();
  });

  it('has nothing before the first save; what one node saves, another loads identical, in order', async () => {
    assert.equal(await nodeA.load(), null);
    const { document, hash } = canonical(FILE);
    const stats = await nodeA.saveWithStats(document, hash);
    assert.deepEqual(stats, { version: 1, inserted: 14, updated: 0, deleted: 0 });
    const loaded = await nodeB.load();
    assert.ok(loaded !== null);
    assert.deepEqual(loaded.document, document);
    assert.equal(loaded.hash, hash);
    assert.equal(loaded.version, 1);
  });

  it('writes only what a change touches', async () => {
    const { document } = canonical(FILE);
    const withCarol = structuredClone(document);
    sections(withCarol)['consumers']!.push({ id: '7c1e1d0e-2f7b-4c55-9b7e-3f9d2a0c0a01', username: 'carol', custom_id: null, tags: [] });
    assert.deepEqual(await nodeA.saveWithStats(withCarol, 'hash-2'), { version: 2, inserted: 1, updated: 0, deleted: 0 });
    const loaded = await nodeB.load();
    assert.deepEqual(loaded?.document, withCarol);
    const changed = structuredClone(withCarol);
    sections(changed)['routes']!.pop();
    (sections(changed)['services']![1] as { read_timeout: number }).read_timeout = 30000;
    assert.deepEqual(await nodeB.saveWithStats(changed, 'hash-3'), { version: 3, inserted: 0, updated: 1, deleted: 1 });
  });

  it("refuses a save from a node that missed another node's commit, writing nothing", async () => {
    // nodeA last saw version 2; nodeB committed 3.
    const before = (await server.query<{ n: string }>('SELECT count(*) AS n FROM consumers')).rows[0]?.n;
    const stale = structuredClone((await new PostgresConfigStore(pools[0]!, 'probe').load())!.document);
    sections(stale)['consumers']!.push({ id: '7c1e1d0e-2f7b-4c55-9b7e-3f9d2a0c0a02', username: 'dave', custom_id: null, tags: [] });
    await assert.rejects(nodeA.save(stale, 'hash-x'), ConfigConflictError);
    assert.equal((await server.query<{ n: string }>('SELECT count(*) AS n FROM consumers')).rows[0]?.n, before);
    await nodeA.load();
    assert.equal((await nodeA.saveWithStats(stale, 'hash-4')).version, 4, 'after reloading, the same change goes in');
  });

  it('lets one of two saves from the same version win, and notifies every commit, all in the change log', async () => {
    await nodeB.load();
    const listener = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: server.database });
    await listener.connect();
    const notified: string[] = [];
    listener.on('notification', (n) => notified.push(String(n.payload)));
    await listener.query(`LISTEN ${CONFIG_CHANNEL}`);
    try {
      const base = (await nodeA.load())!.document;
      const results = await Promise.allSettled([nodeA.save(base, 'hash-a'), nodeB.save(base, 'hash-b')]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      assert.ok(results.some((r) => r.status === 'rejected' && r.reason instanceof ConfigConflictError));
      for (let i = 0; i < 50 && notified.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(notified, ['5']);
    } finally {
      await listener.end();
    }
    const log = await server.query<{ version: string; node_id: string }>('SELECT version, node_id FROM config_changes ORDER BY version');
    assert.deepEqual(log.rows.map((r) => Number(r.version)), [1, 2, 3, 4, 5]);
    assert.deepEqual(log.rows.slice(0, 4).map((r) => r.node_id), ['node-a', 'node-a', 'node-b', 'node-a']);
  });

  it('writes only the entities of a change of a few, and another node reads only those, into the same document', async () => {
    await nodeA.load();
    const before = (await nodeB.load())!;
    const carol = before.document['consumers'] as Array<{ id: string; username: string }>;
    const consumer = carol.find((c) => c.username === 'carol')!;
    const changes: EntityChanges = {
      upserts: [
        { section: 'consumers', entity: { id: '7c1e1d0e-2f7b-4c55-9b7e-3f9d2a0c0a03', username: 'erin', custom_id: null, tags: [] } },
        { section: 'keyauth_credentials', entity: { id: '7c1e1d0e-2f7b-4c55-9b7e-3f9d2a0c0a04', key: 'erin-key', consumer: '7c1e1d0e-2f7b-4c55-9b7e-3f9d2a0c0a03', tags: [] } },
      ],
      deletes: [{ section: 'consumers', id: consumer.id }],
    };
    const expected = withDocumentChanges(before.document, [changes]);
    await nodeA.saveChanges(changes, 'hash-changes', () => expected);
    const logged = await server.query<{ section: string; id: string; deleted: boolean }>('SELECT section, id, deleted FROM config_change_entities WHERE version = $1 ORDER BY section, id', [nodeA.version]);
    assert.deepEqual(logged.rows, [
      { section: 'consumers', id: consumer.id, deleted: true },
      { section: 'consumers', id: '7c1e1d0e-2f7b-4c55-9b7e-3f9d2a0c0a03', deleted: false },
      { section: 'keyauth_credentials', id: '7c1e1d0e-2f7b-4c55-9b7e-3f9d2a0c0a04', deleted: false },
    ]);
    const read = await nodeB.loadChanges();
    assert.ok(read !== null);
    assert.equal(read.hash, 'hash-changes');
    assert.equal(nodeB.version, nodeA.version);
    assert.deepEqual(withDocumentChanges(before.document, [read.changes]), expected);
    assert.deepEqual((await new PostgresConfigStore(pools[1]!, 'probe').load())?.document, expected, 'a whole load gives the same document');
    assert.deepEqual(await nodeB.loadChanges(), { hash: 'hash-changes', changes: { upserts: [], deletes: [] } }, 'nothing new: no changes');
  });

  it('has loadChanges say "load everything" for a change too large to log, or a store that is ahead of the database', async () => {
    const base = (await nodeA.load())!;
    const many = structuredClone(base.document);
    sections(many)['consumers']!.push(...Array.from({ length: 10_001 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, username: `bulk-${i}`, custom_id: null, tags: [] })));
    await nodeA.save(many, 'hash-bulk');
    assert.equal((await server.query<{ entities: number | null }>('SELECT entities FROM config_changes WHERE version = $1', [nodeA.version])).rows[0]?.entities, null);
    assert.equal(await nodeB.loadChanges(), null);
    await nodeB.load();
    assert.deepEqual(await nodeB.loadChanges(), { hash: 'hash-bulk', changes: { upserts: [], deletes: [] } });
  });
});

describe('PostgresConfigStore on a database without the per-entity change log (000_base only)', () => {
  let server: PostgresServer;
  let pool: pg.Pool;

  before(async () => {
    server = await startPostgresServer();
    const settings = postgresSettings({ 'pg-host': server.host, 'pg-port': String(server.port), 'pg-user': server.user, 'pg-password': server.password, 'pg-database': server.database });
    pool = postgresPool(settings);
    await bootstrap(pool, settings, MIGRATIONS.filter((m) => m.name === '000_base'));
  });
  after(async () => {
    await pool.end();
    await server.stop();
  });

  it('saves changes as before and has followers load everything', async () => {
    const writer = new PostgresConfigStore(pool, 'node-a');
    const reader = new PostgresConfigStore(pool, 'node-b');
    const { document, hash } = canonical(FILE);
    await writer.save(document, hash);
    await reader.load();
    const changes: EntityChanges = { upserts: [{ section: 'consumers', entity: { id: '7c1e1d0e-2f7b-4c55-9b7e-3f9d2a0c0a05', username: 'frank', custom_id: null, tags: [] } }], deletes: [] };
    await writer.saveChanges(changes, 'hash-frank', () => withDocumentChanges(document, [changes]));
    assert.equal(await reader.loadChanges(), null);
    assert.deepEqual((await reader.load())?.document, withDocumentChanges(document, [changes]));
  });
});
