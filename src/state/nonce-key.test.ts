// The DPoP nonce key file: created once (mode 0600, one base64url line), the same key on the next
// start, and refused — naming the file — when its content is not a key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadOrCreateNonceKey, readNonceKey } from './nonce-key.js';

const run = promisify(execFile);

describe('DPoP nonce key file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-nonce-key-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('creates the file with a fresh 32-byte key, mode 0600, one base64url line', async () => {
    const file = join(dir, 'created.key');
    const key = await loadOrCreateNonceKey(file);
    assert.equal(key.length, 32);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^[A-Za-z0-9_-]{43}\n$/);
    assert.deepEqual(Buffer.from(text.trim(), 'base64url'), key);
  });

  it('creates the directories leading to it', async () => {
    const file = join(dir, 'a', 'b', 'nested.key');
    const key = await loadOrCreateNonceKey(file);
    assert.deepEqual(await readNonceKey(file), key);
  });

  it('returns the same key on the next load, and readNonceKey reads it too; another file gets another key', async () => {
    const file = join(dir, 'again.key');
    const first = await loadOrCreateNonceKey(file);
    const before = await readFile(file, 'utf8');
    const second = await loadOrCreateNonceKey(file);
    assert.deepEqual(second, first);
    assert.deepEqual(await readNonceKey(file), first);
    assert.equal(await readFile(file, 'utf8'), before, 'the file is not rewritten');
    assert.notDeepEqual(await loadOrCreateNonceKey(join(dir, 'other.key')), first);
  });

  it('concurrent first loads agree on one key', async () => {
    const file = join(dir, 'race.key');
    const keys = await Promise.all([loadOrCreateNonceKey(file), loadOrCreateNonceKey(file), loadOrCreateNonceKey(file)]);
    for (const key of keys) assert.deepEqual(key, keys[0]);
    assert.deepEqual(await readNonceKey(file), keys[0]);
  });

  it('many concurrent first loads in one process agree on one key, leave only the key file, mode 0600', async () => {
    const sub = await mkdtemp(join(dir, 'race-many-'));
    const file = join(sub, 'nonce.key');
    const keys = await Promise.all(Array.from({ length: 20 }, () => loadOrCreateNonceKey(file)));
    for (const key of keys) assert.deepEqual(key, keys[0]);
    assert.deepEqual(await readNonceKey(file), keys[0]);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(sub), ['nonce.key'], 'no temporary file left behind');
  });

  it('first loads racing in separate processes agree on one key: none reads a file another is still writing', async () => {
    // Each child loads the same fresh files in the same order, all starting at one instant.
    const processes = 6;
    const files = Array.from({ length: 15 }, (_, i) => join(dir, 'race-processes', `${i}.key`));
    const module = new URL('./nonce-key.js', import.meta.url).href;
    const script = [
      `const { loadOrCreateNonceKey } = await import(${JSON.stringify(module)});`,
      'const [startAt, ...files] = process.argv.slice(1);',
      'while (Date.now() < Number(startAt)) await new Promise((resolve) => setTimeout(resolve, 1));',
      'const keys = [];',
      'for (const file of files) keys.push((await loadOrCreateNonceKey(file)).toString("base64url"));',
      'process.stdout.write(JSON.stringify(keys));',
    ].join('\n');
    const startAt = String(Date.now() + 1_000);
    const outputs = await Promise.all(
      Array.from({ length: processes }, () => run(process.execPath, ['--input-type=module', '-e', script, startAt, ...files]).then(({ stdout }) => JSON.parse(stdout) as string[])),
    );
    for (const [i, file] of files.entries()) {
      const expected = (await readNonceKey(file)).toString('base64url');
      assert.deepEqual(
        outputs.map((keys) => keys[i]),
        Array.from({ length: processes }, () => expected),
        file,
      );
    }
    assert.deepEqual((await readdir(join(dir, 'race-processes'))).sort(), files.map((f) => basename(f)).sort(), 'no temporary file left behind');
  });

  it('reads a key given by the operator: surrounding whitespace ignored, longer than 32 bytes accepted', async () => {
    const file = join(dir, 'given.key');
    const key = Buffer.alloc(48, 0xab);
    await writeFile(file, `  ${key.toString('base64url')}\r\n\n`);
    assert.deepEqual(await loadOrCreateNonceKey(file), key);
    assert.deepEqual(await readNonceKey(file), key);
  });

  const bad: Array<[string, string]> = [
    ['empty', ''],
    ['blank', '\n'],
    ['too short (31 bytes)', `${Buffer.alloc(31, 1).toString('base64url')}\n`],
    ['standard base64 with padding', `${Buffer.alloc(32, 0xfb).toString('base64')}\n`],
    ['two lines', `${Buffer.alloc(32, 1).toString('base64url')}\n${Buffer.alloc(32, 2).toString('base64url')}\n`],
    ['a space inside', `${Buffer.alloc(20, 1).toString('base64url')} ${Buffer.alloc(20, 2).toString('base64url')}\n`],
    ['JSON', `{"key":"${Buffer.alloc(32, 1).toString('base64url')}"}\n`],
  ];

  for (const [name, content] of bad) {
    it(`refuses a file that is not a key (${name}), naming the file, and leaves it as it was`, async () => {
      const file = join(dir, `bad-${name.replace(/\W+/g, '-')}.key`);
      await writeFile(file, content, { mode: 0o600 });
      const expected = (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.ok(error.message.startsWith(`${file}: `), error.message);
        assert.match(error.message, /base64url line of at least 32 bytes/);
        return true;
      };
      await assert.rejects(readNonceKey(file), expected);
      await assert.rejects(loadOrCreateNonceKey(file), expected);
      assert.equal(await readFile(file, 'utf8'), content, 'a bad key file is never replaced');
    });
  }

  it('readNonceKey does not create a missing file (the workers only read the primary’s)', async () => {
    const file = join(dir, 'missing.key');
    await assert.rejects(readNonceKey(file), { code: 'ENOENT' });
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });

  it('reports an unreadable path (a directory) instead of replacing it', async () => {
    await assert.rejects(loadOrCreateNonceKey(dir), { code: 'EISDIR' });
  });
});
