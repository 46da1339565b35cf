import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { derivedId, uuidV5 } from './identity.js';

describe('derived ids', () => {
  it('are RFC 9562 version 5 UUIDs (checked against the RFC example)', () => {
    assert.equal(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('depend on kind and identity only', () => {
    assert.equal(derivedId('service', 'name:a'), derivedId('service', 'name:a'));
    assert.notEqual(derivedId('service', 'name:a'), derivedId('route', 'name:a'));
  });
});
