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
