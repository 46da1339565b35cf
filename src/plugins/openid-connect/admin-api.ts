/**
 * Kong's openid-connect admin endpoints: `GET /openid-connect/issuers`,
 * `GET /openid-connect/issuers/{id}` and `DELETE /openid-connect/issuers/{id}` (forget the cached
 * discovery document and keys; the next request rediscovers).
 */
import type { PluginAdminApi } from '../../pipeline/plugin.js';
import { findIssuer, listIssuers, type Issuer } from './issuer-registry.js';

function describeIssuer(issuer: Issuer): Record<string, unknown> {
  const snapshot = issuer.current;
  return {
    id: issuer.id,
    issuer: issuer.settings.issuer,
    configuration: snapshot?.metadata ?? null,
    keys: snapshot?.keys.keys.map((k) => k.jwk) ?? [],
    created_at: Math.floor(issuer.createdAt / 1000),
    updated_at: Math.floor(issuer.updatedAt / 1000),
    status: snapshot === null ? 'unavailable' : issuer.lastError === null ? 'ok' : 'stale',
    last_error: issuer.lastError,
  };
}

export const openIdConnectAdminApi: PluginAdminApi = {
  prefix: '/openid-connect/',
  handle(request) {
    const path = request.path.replace(/\/+$/, '');
    if (path === '/openid-connect/issuers') {
      if (request.method !== 'GET') return Promise.resolve({ status: 405, body: { message: 'Method not allowed' } });
      return Promise.resolve({ status: 200, body: { data: listIssuers().map(describeIssuer), next: null } });
    }
    const match = /^\/openid-connect\/issuers\/([^/]+)$/.exec(path);
    if (match === null) return Promise.resolve(null);
    const issuer = findIssuer(decodeURIComponent(match[1]!));
    if (issuer === undefined) return Promise.resolve({ status: 404, body: { message: 'Not found' } });
    if (request.method === 'GET') return Promise.resolve({ status: 200, body: describeIssuer(issuer) });
    if (request.method === 'DELETE') {
      issuer.drop();
      return Promise.resolve({ status: 204, body: null });
    }
    return Promise.resolve({ status: 405, body: { message: 'Method not allowed' } });
  },
};
