import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CorruptConfigError, type ConfigStore } from './config-store.js';
import { FileConfigStore } from './file-config-store.js';
import { MemoryConfigStore } from './memory-config-store.js';

const doc = (name: string) => ({ _format_version: '3.0', services: [{ name, host: 'example.com' }] });
const fresh = async (): Promise<string> => mkdtemp(join(tmpdir(), 'portcullis-store-'));

/** The contract every ConfigStore keeps, run against each implementation. */
function contract(name: string, make: () => Promise<ConfigStore>): void {
  describe(`${name}: the ConfigStore contract`, () => {
    it('loads null before the first save', async () => {
      assert.equal(await (await make()).load(), null);
    });

    it('loads what was saved last, with its hash', async () => {
      const store = await make();
      await store.save(doc('a'), 'hash-a');
      await store.save(doc('b'), 'hash-b');
      const loaded = await store.load();
      assert.deepEqual(loaded?.document, doc('b'));
      assert.equal(loaded?.hash, 'hash-b');
      assert.ok(!Number.isNaN(Date.parse(loaded?.savedAt ?? '')));
    });

    it('is not changed by later edits of the saved object', async () => {
      const store = await make();
      const saved = doc('a');
      await store.save(saved, 'h');
      saved.services[0]!.name = 'changed';
      assert.equal(((await store.load())?.document.services as Array<{ name: string }>)[0]?.name, 'a');
    });
  });
}

contract('FileConfigStore', async () => new FileConfigStore(await fresh()));
contract('MemoryConfigStore', () => Promise.resolve(new MemoryConfigStore()));

describe('FileConfigStore', () => {
  it('keeps the previous configuration as config.json.bak and leaves no temporary file', async () => {
    const dir = await fresh();
    const store = new FileConfigStore(dir);
    await store.save(doc('a'), 'hash-a');
    await store.save(doc('b'), 'hash-b');
    assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'config.json.bak']);
    assert.match(await readFile(join(dir, 'config.json.bak'), 'utf8'), /hash-a/);
  });

  it('refuses a damaged file and falls back to the backup, saying so', async () => {
    const dir = await fresh();
    const warnings: string[] = [];
    const store = new FileConfigStore(dir, { warn: (m) => warnings.push(m) });
    await store.save(doc('a'), 'hash-a');
    await store.save(doc('b'), 'hash-b');
    const text = await readFile(store.file, 'utf8');
    await writeFile(store.file, text.replace('"b"', '"evil"'));
    const loaded = await store.load();
    assert.equal(loaded?.hash, 'hash-a');
    assert.match(warnings.join('\n'), /does not match its checksum.*using the previous configuration/);
  });

  it('refuses a truncated file with no usable backup with a clear error', async () => {
    const dir = await fresh();
    const store = new FileConfigStore(dir);
    await store.save(doc('a'), 'hash-a');
    await writeFile(store.file, (await readFile(store.file, 'utf8')).slice(0, 40));
    await assert.rejects(store.load(), (error: unknown) => error instanceof CorruptConfigError && /not valid JSON/.test(error.message));
  });

  it('removes temporary files a crash left behind', async () => {
    const dir = await fresh();
    const store = new FileConfigStore(dir);
    await store.save(doc('a'), 'hash-a');
    await writeFile(join(dir, 'config.json.tmp-123-4'), '{"half');
    assert.equal((await store.load())?.hash, 'hash-a');
    assert.deepEqual(await readdir(dir), ['config.json']);
  });
});

describe('FileConfigStore: changes of a few entities appended to the journal', () => {
  const base = { _format_version: '3.0', consumers: [{ id: 'c1', username: 'a' }, { id: 'c2', username: 'b' }] };
  const add = (id: string, username: string) => ({ upserts: [{ section: 'consumers' as const, entity: { id, username } }], deletes: [] });
  const noDocument = (): never => assert.fail('the whole document is not needed');

  it('loads the file with the journal applied, without rewriting the file', async () => {
    const dir = await fresh();
    const store = new FileConfigStore(dir);
    await store.save(base, 'h0');
    const file = await readFile(store.file, 'utf8');
    await store.saveChanges(add('c3', 'c'), 'h1', noDocument);
    await store.saveChanges({ upserts: [{ section: 'consumers', entity: { id: 'c1', username: 'a2' } }], deletes: [{ section: 'consumers', id: 'c2' }] }, 'h2', noDocument);
    assert.equal(await readFile(store.file, 'utf8'), file, 'the file is as it was');
    const loaded = await new FileConfigStore(dir).load();
    assert.equal(loaded?.hash, 'h2');
    assert.deepEqual(loaded?.document.consumers, [{ id: 'c1', username: 'a2' }, { id: 'c3', username: 'c' }]);
  });

  it('ignores a last line cut short, and a journal that follows another file', async () => {
    const dir = await fresh();
    const store = new FileConfigStore(dir);
    await store.save(base, 'h0');
    await store.saveChanges(add('c3', 'c'), 'h1', noDocument);
    await writeFile(store.journalFile, `${await readFile(store.journalFile, 'utf8')}{"hash":"h2","saved_at":`);
    assert.equal((await new FileConfigStore(dir).load())?.hash, 'h1');
    const journal = await readFile(store.journalFile, 'utf8');
    await store.save(base, 'h3');
    assert.deepEqual(await readdir(dir).then((names) => names.filter((n) => n.endsWith('.journal'))), [], 'a whole save removes the journal');
    await writeFile(store.journalFile, journal);
    assert.equal((await new FileConfigStore(dir).load())?.hash, 'h3', 'the old journal does not apply to the new file');
  });

  it('rewrites the file when it knows no file to follow', async () => {
    const dir = await fresh();
    const store = new FileConfigStore(dir);
    await store.saveChanges(add('c3', 'c'), 'h1', () => base);
    assert.deepEqual((await new FileConfigStore(dir).load())?.document, base);
  });
});
