/**
 * Route rules beyond the schema, after Kong's `routes.lua`: supported protocols, path syntax and
 * regexes that compile, host wildcards, header names (never `host`), SNIs only on https, and at least
 * one matching attribute.
 */
import type { ErrorList } from '../errors.js';
import { checkRouteHost, checkSni } from '../hosts.js';
import { isRecord, joinPath } from '../paths.js';
import { compilePcre } from '../pcre.js';
import { normalizePath } from '../../util/uri-path.js';
import { type RouteDraft, stringItems } from '../collect.js';
import { ROUTE_PROTOCOLS } from '../schemas/route.js';
import { checkProtocol } from './protocols.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TLS_PROTOCOLS = new Set(['https', 'grpcs', 'wss', 'tls', 'tls_passthrough']);

/** Error message for one `paths` entry, or null. */
export function checkRoutePath(path: string): string | null {
  if (path.startsWith('~')) {
    if (!path.startsWith('~/')) return 'should start with: / (fixed path) or ~/ (regex path)';
    const compiled = compilePcre(path.slice(1));
    return compiled.ok ? null : `invalid regex '${path.slice(1)}': ${compiled.message}`;
  }
  if (!path.startsWith('/')) return 'should start with: / (fixed path) or ~/ (regex path)';
  if (path.includes('//')) return 'must not have empty segments';
  const badEscape = /%(?![0-9a-fA-F]{2})/.exec(path);
  if (badEscape) return `invalid url-encoded value: '${path.slice(badEscape.index, badEscape.index + 3)}'`;
  // Requests are routed on their normalised path, so a prefix that is not normalised never matches.
  const normalized = normalizePath(path);
  if (normalized !== path) return `non-normalized path, consider using '${normalized}' instead`;
  return null;
}

function nonEmpty(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return isRecord(value) && Object.keys(value).length > 0;
}

function checkHeaders(route: RouteDraft, errors: ErrorList): void {
  const headers = route.raw.headers;
  if (!isRecord(headers)) return;
  const base = joinPath(route.path, 'headers');
  const seen = new Map<string, string>();
  for (const [name, values] of Object.entries(headers)) {
    const at = joinPath(base, name);
    const lower = name.toLowerCase();
    if (lower === 'host') errors.add(at, "cannot contain 'host' header, which must be specified in the 'hosts' attribute");
    else if (!HEADER_NAME.test(name)) errors.add(at, 'must be a valid header name');
    const earlier = seen.get(lower);
    if (earlier !== undefined) errors.add(at, `duplicate header name (same as '${earlier}')`);
    seen.set(lower, name);
    if (!Array.isArray(values)) continue;
    values.forEach((value: unknown, i) => {
      if (typeof value !== 'string' || !value.startsWith('~*')) return;
      const compiled = compilePcre(value.slice(2), 'i');
      if (!compiled.ok) errors.add(joinPath(at, i), `invalid regex '${value.slice(2)}': ${compiled.message}`);
    });
  }
}

/** Kong's `mutually_exclusive_subsets` of route protocols (routes.lua), each family in the order it first appears. */
const protocolFamilies: readonly (readonly string[])[] = [['http', 'https'], ['tcp', 'tls', 'udp'], ['tls_passthrough'], ['grpc', 'grpcs'], ['ws', 'wss']];

function exclusiveFamiliesOf(protocols: readonly string[]): Array<readonly string[]> {
  const found: Array<readonly string[]> = [];
  for (const protocol of protocols) {
    const family = protocolFamilies.find((f) => f.includes(protocol));
    if (family !== undefined && !found.includes(family)) found.push(family);
  }
  return found;
}

/**
 * Kong's grpc subschema (routes_subschemas.lua): no methods; strip_path defaults to false and may
 * not be true (the loader reads what was written: see `writtenStripPath`); at least one matcher.
 */
function checkGrpcRoute(route: RouteDraft, tls: boolean, errors: ErrorList): void {
  const { raw, path } = route;
  if (nonEmpty(raw.methods)) errors.add(joinPath(path, 'methods'), "cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'");
  if (route.writtenStripPath === true) errors.add(joinPath(path, 'strip_path'), "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'");
  const matchers = tls ? ['hosts', 'headers', 'paths', 'snis'] : ['hosts', 'headers', 'paths'];
  if (!matchers.some((field) => nonEmpty(raw[field]))) {
    errors.add(path, `must set one of ${matchers.map((f) => `'${f}'`).join(', ')} when 'protocols' is '${tls ? 'grpcs' : 'grpc'}'`);
  }
}

/** Adds the errors of one route. */
export function checkRoute(route: RouteDraft, errors: ErrorList): void {
  const { raw, path } = route;
  const protocols = stringItems(raw, 'protocols');
  for (const [protocol, i] of protocols) {
    const message = checkProtocol(protocol, ROUTE_PROTOCOLS);
    if (message !== null) errors.add(joinPath(joinPath(path, 'protocols'), i), message);
  }
  const families = exclusiveFamiliesOf(protocols.map(([p]) => p));
  if (families.length > 1) {
    errors.add(joinPath(path, 'protocols'), `these sets are mutually exclusive: ${families.map((f) => `(${f.map((p) => `'${p}'`).join(', ')})`).join(', ')}`);
  }

  for (const [p, i] of stringItems(raw, 'paths')) {
    const message = checkRoutePath(p);
    if (message !== null) errors.add(joinPath(joinPath(path, 'paths'), i), message);
  }
  for (const [host, i] of stringItems(raw, 'hosts')) {
    const message = checkRouteHost(host.toLowerCase());
    if (message !== null) errors.add(joinPath(joinPath(path, 'hosts'), i), message);
  }
  for (const [sni, i] of stringItems(raw, 'snis')) {
    const message = checkSni(sni.toLowerCase(), false);
    if (message !== null) errors.add(joinPath(joinPath(path, 'snis'), i), message);
  }
  checkHeaders(route, errors);

  // Kong: SNIs only mean something when the route can be reached over TLS.
  const onlyPlain = protocols.length > 0 && protocols.every(([p]) => !TLS_PROTOCOLS.has(p));
  if (onlyPlain && nonEmpty(raw.snis)) {
    errors.add(joinPath(path, 'snis'), "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'");
  }
  const grpc = protocols.length > 0 && protocols.every(([p]) => p === 'grpc' || p === 'grpcs');
  if (grpc) {
    checkGrpcRoute(route, protocols.some(([p]) => p === 'grpcs'), errors);
    return;
  }
  const onlyTls = protocols.length > 0 && protocols.every(([p]) => TLS_PROTOCOLS.has(p));
  const matchers = onlyTls ? ['methods', 'hosts', 'headers', 'paths', 'snis'] : ['methods', 'hosts', 'headers', 'paths'];
  if (!matchers.some((field) => nonEmpty(raw[field]))) {
    const list = matchers.map((f) => `'${f}'`).join(', ');
    errors.add(path, `must set one of ${list} when 'protocols' is '${onlyTls ? 'https' : 'http'}'`);
  }
}
