/** Service rules JSON schema cannot say: `url` versus its parts, supported protocols, host syntax. */
import type { ErrorList } from '../errors.js';
import { checkUpstreamHost } from '../hosts.js';
import { joinPath } from '../paths.js';
import { type ServiceDraft, stringField } from '../collect.js';
import { SERVICE_PROTOCOLS } from '../schemas/service.js';
import { checkProtocol } from './protocols.js';

export interface UrlParts {
  readonly protocol: string;
  readonly host: string;
  readonly port: number | null;
  readonly path: string | null;
}

const URL_PARTS = ['protocol', 'host', 'port', 'path'] as const;

/**
 * Splits a service `url` as Kong does: `http://host:8080/base` → http, host, 8080, `/base`; no path
 * gives null (not `/`). The path is kept as written: WHATWG parsing would resolve `..` and re-encode.
 */
export function splitServiceUrl(url: string): UrlParts | { error: string } {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url);
  if (scheme?.[1] === undefined) return { error: 'must be a URL such as http://example.com/path' };
  const protocol = scheme[1].toLowerCase();
  const unsupported = checkProtocol(protocol, SERVICE_PROTOCOLS);
  if (unsupported !== null) return { error: unsupported };
  if (!URL.canParse(url)) return { error: 'must be a valid URL' };
  const parsed = new URL(url);
  if (parsed.hostname === '') return { error: 'must name a host' };
  if (parsed.username !== '' || parsed.password !== '') return { error: 'must not contain credentials' };
  if (parsed.search !== '' || parsed.hash !== '' || /[?#]/.test(url)) return { error: 'must not have a query string or fragment' };
  const afterAuthority = url.slice(scheme[0].length);
  const slash = afterAuthority.indexOf('/');
  return {
    protocol,
    host: parsed.hostname,
    port: parsed.port === '' ? null : Number(parsed.port),
    path: slash < 0 ? null : afterAuthority.slice(slash),
  };
}

function isGrpc(protocol: string): boolean {
  return protocol === 'grpc' || protocol === 'grpcs';
}

/** Adds the errors of one service. */
export function checkService(service: ServiceDraft, errors: ErrorList): void {
  const { raw, path } = service;
  const url = stringField(raw, 'url');
  if (url !== undefined) {
    for (const part of URL_PARTS) {
      if (raw[part] !== undefined) errors.add(joinPath(path, part), "cannot be set together with 'url'");
    }
    const parts = splitServiceUrl(url);
    if ('error' in parts) errors.add(joinPath(path, 'url'), parts.error);
    else if (parts.path !== null && isGrpc(parts.protocol)) errors.add(joinPath(path, 'url'), `must not have a path when the protocol is '${parts.protocol}'`);
    else if (parts.path !== null && /\/\//.test(parts.path)) errors.add(joinPath(path, 'url'), 'path must not have empty segments');
    return;
  }
  if (raw.url === undefined && raw.host === undefined) {
    errors.add(joinPath(path, 'host'), "required field missing (set 'url', or 'host' with 'protocol', 'port', 'path')");
  }
  const protocol = stringField(raw, 'protocol');
  const protocolError = protocol === undefined ? null : checkProtocol(protocol, SERVICE_PROTOCOLS);
  if (protocolError !== null) errors.add(joinPath(path, 'protocol'), protocolError);
  const host = stringField(raw, 'host');
  const hostError = host === undefined ? null : checkUpstreamHost(host);
  if (hostError !== null) errors.add(joinPath(path, 'host'), hostError);
  const servicePath = stringField(raw, 'path');
  // Kong's services.lua: grpc and grpcs services have no path ("value must be null").
  if (servicePath !== undefined && protocol !== undefined && isGrpc(protocol)) errors.add(joinPath(path, 'path'), 'value must be null');
  else if (servicePath !== undefined && !servicePath.startsWith('/')) errors.add(joinPath(path, 'path'), "must start with '/'");
  else if (servicePath?.includes('//')) errors.add(joinPath(path, 'path'), 'must not have empty segments');
}
