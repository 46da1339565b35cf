import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { AdminError, ERROR_CODES, fieldsOf, pathSegments, relativeTo } from './admin-error.js';

describe('admin errors', () => {
  it('nests field errors the way the document is nested', () => {
    assert.deepEqual(
      fieldsOf([
        { path: 'services[0].routes[1].paths[0]', message: 'bad path' },
        { path: 'config.minute', message: 'must be an integer' },
        { path: 'config', message: 'needs minute or hour' },
        { path: 'headers["x-h"]', message: 'empty' },
        { path: '', message: 'whole thing' },
      ]),
      {
        services: { '0': { routes: { '1': { paths: { '0': 'bad path' } } } } },
        config: { minute: 'must be an integer', '@entity': ['needs minute or hour'] },
        headers: { 'x-h': 'empty' },
        '@entity': 'whole thing',
      },
    );
    assert.deepEqual(pathSegments('plugins[2].config["a.b"]'), ['plugins', 2, 'config', 'a.b']);
  });

  it("re-roots errors at an entity's path", () => {
    assert.deepEqual(relativeTo([{ path: 'services[3].retries', message: 'm' }, { path: 'routes[0].service', message: 'n' }], 'services[3]'), [
      { path: 'retries', message: 'm' },
      { path: 'routes[0].service', message: 'n' },
    ]);
  });

  it('adds a request id to 5xx bodies only', () => {
    assert.equal(new AdminError('internal error', 'x').toBody('rid').request_id, 'rid');
    assert.equal(new AdminError('not found', 'x').toBody('rid').request_id, undefined);
  });

  it('documents every error code in the README', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const [name, { code, status }] of Object.entries(ERROR_CODES)) {
      assert.match(readme, new RegExp(`\\| ${code} \\| ${status} \\| ${name} \\|`), `README lacks code ${code} (${name})`);
    }
  });
});
