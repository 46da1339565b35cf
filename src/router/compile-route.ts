/**
 * Turns one `Route` into the entries the router indexes and ranks. Sources (Kong/kong @22246ef):
 * - `kong/router/transform.lua` `split_routes_and_services_by_path`: a route whose paths have
 *   different kinds is split, one matcher per prefix length and one for all its regex paths, each
 *   with its own priority. An entry here is one such group.
 * - `transform.lua` `get_expression`: what each attribute means (see the matchers below).
 * - `kong/db/schema/typedefs.lua` `router_path` / `validate_path_with_regexes`: a path starts with
 *   `/` (prefix) or `~/` (regex), has no empty segment, and a prefix path must already be
 *   normalised. We refuse such routes at compile time instead of never matching them.
 */
import { servesPlain, servesTls } from '../config/protocol-families.js';
import { checkRoutePath } from '../config/checks/route.js';
import { compilePcre } from '../config/pcre.js';
import type { Route } from '../config/types.js';
import type { RouteMatch } from './types.js';

/** One host or SNI pattern. `exact`: equal; `suffix`: `*.example.com` (ends with `.example.com`); `prefix`: `example.*`. */
export interface NamePattern {
  readonly kind: 'exact' | 'suffix' | 'prefix';
  readonly value: string;
  /** Host patterns only: `example.com:8080` also requires Kong's `net.dst.port`. */
  readonly port: number | null;
}

export interface HeaderRule {
  readonly name: string;
  /** Plain values, lower-cased: Kong compares `lower(header) == lower(value)`. */
  readonly values: ReadonlySet<string>;
  /** `~*` values: searched, not anchored (Kong's `~` operator), case-insensitively. */
  readonly regexes: readonly RegExp[];
}

/** One route, or one path group of a split route: what the router evaluates and ranks. */
export class RouteEntry {
  readonly route: Route;
  readonly methods: ReadonlySet<string> | null;
  readonly hosts: readonly NamePattern[] | null;
  readonly headers: readonly HeaderRule[] | null;
  readonly snis: readonly NamePattern[] | null;
  /** Prefix paths of this group (all of one length), or null. */
  readonly prefixes: readonly string[] | null;
  /** Regex paths of this group, anchored, in the route's order, or null. */
  readonly regexes: readonly RegExp[] | null;
  // Priority inputs, Kong's `get_priority`:
  readonly weight: number;
  readonly plainHostsOnly: boolean;
  readonly headerCount: number;
  readonly regexPriority: number;
  readonly prefixLength: number;
  /**
   * Kong's runloop (`kong/runloop/handler.lua`) answers `https_redirect_status_code` when the
   * matched route has `https` but not `http` and the request is not https. An http-only route is
   * served over https: Kong never checks that direction.
   */
  readonly httpsOnly: boolean;
  /** The frozen result returned for a protocol mismatch. */
  readonly mismatch: RouteMatch;
  /** Position in the global priority order, 0 = first; set by the router once all entries are sorted. */
  rank = 0;

  // Every field assigned here, so V8 keeps them all in the object (a spread literal does not).
  constructor(init: Omit<RouteEntry, 'rank'>) {
    this.route = init.route;
    this.methods = init.methods;
    this.hosts = init.hosts;
    this.headers = init.headers;
    this.snis = init.snis;
    this.prefixes = init.prefixes;
    this.regexes = init.regexes;
    this.weight = init.weight;
    this.plainHostsOnly = init.plainHostsOnly;
    this.headerCount = init.headerCount;
    this.regexPriority = init.regexPriority;
    this.prefixLength = init.prefixLength;
    this.httpsOnly = init.httpsOnly;
    this.mismatch = init.mismatch;
  }
}

/** A route that cannot be compiled, naming the route and the field. */
export class RouteCompileError extends Error {
  readonly code = 'ERR_ROUTE_INVALID';
  constructor(
    readonly route: Route,
    readonly field: string,
    reason: string,
  ) {
    super(`route ${route.name ?? route.id}: ${field}: ${reason}`);
    this.name = 'RouteCompileError';
  }
}

/**
 * Regexes go through the config module's PCRE translation (`compilePcre`), so what validated is
 * what runs. Kong prefixes `^` (`path_val_transform`); we wrap the whole pattern so a top-level
 * `a|b` stays anchored in every branch, as the traditional router's anchored (`a`) PCRE flag did.
 */
function compileRegex(route: Route, field: string, pattern: string, anchored: boolean, flags: string): RegExp {
  const compiled = compilePcre(pattern, flags);
  if (!compiled.ok) throw new RouteCompileError(route, field, `invalid regex '${pattern}': ${compiled.message}`);
  return anchored ? new RegExp('^(?:' + compiled.regex.source + ')', compiled.regex.flags) : compiled.regex;
}

/** Kong's `split_host_port`: a port only when everything after the first `:` is a number. */
function splitPort(host: string): [string, number | null] {
  const colon = host.indexOf(':');
  if (colon === -1) return [host, null];
  const port = host.slice(colon + 1);
  return /^\d+$/.test(port) ? [host.slice(0, colon), Number(port)] : [host, null];
}

/** Hosts: `*` leading = postfix match on the rest, `*` trailing = prefix match (transform.lua). */
function hostPattern(raw: string): NamePattern {
  const [host, port] = splitPort(raw.toLowerCase());
  if (host.startsWith('*')) return { kind: 'suffix', value: host.slice(1), port };
  if (host.endsWith('*')) return { kind: 'prefix', value: host.slice(0, -1), port };
  return { kind: 'exact', value: host, port };
}

/** SNIs as `sni_op_transform` / `sni_val_transform`: a trailing FQDN dot is not used for routing. */
function sniPattern(raw: string): NamePattern {
  let sni = raw.toLowerCase();
  if (sni.endsWith('*')) return { kind: 'prefix', value: sni.slice(0, -1), port: null };
  if (sni.length > 1 && sni.endsWith('.')) sni = sni.slice(0, -1);
  if (sni.startsWith('*')) return { kind: 'suffix', value: sni.slice(1), port: null };
  return { kind: 'exact', value: sni, port: null };
}

function headerRules(route: Route): HeaderRule[] | null {
  if (route.headers === null) return null;
  const rules: HeaderRule[] = [];
  for (const [rawName, rawValues] of Object.entries(route.headers)) {
    if (rawValues.length === 0) continue;
    // ngx.req.get_headers() looks `x_foo` up as `x-foo`; Node keeps header names lower-case.
    const name = rawName.toLowerCase().replaceAll('_', '-');
    const values = new Set<string>();
    const regexes: RegExp[] = [];
    for (const value of rawValues) {
      if (!value.startsWith('~*')) {
        values.add(value.toLowerCase());
        continue;
      }
      // Kong lower-cases the pattern and the value; the `i` flag means the same without turning `\D` into `\d`.
      regexes.push(compileRegex(route, `headers.${rawName}`, value.slice(2), false, 'i'));
    }
    rules.push({ name, values, regexes });
  }
  return rules.length === 0 ? null : rules;
}

function nonEmpty<T>(list: readonly T[] | null): list is readonly T[] {
  return list !== null && list.length > 0;
}

/** The route's paths grouped as Kong splits them: all regexes together, prefixes by length. */
function pathGroups(route: Route): Array<{ regexes: RegExp[] } | { prefixes: string[] }> {
  const regexes: RegExp[] = [];
  const byLength = new Map<number, string[]>();
  (route.paths ?? []).forEach((path, index) => {
    const problem = checkRoutePath(path);
    if (problem !== null) throw new RouteCompileError(route, `paths[${index}]`, `'${path}' ${problem}`);
    if (path.startsWith('~')) {
      regexes.push(compileRegex(route, `paths[${index}]`, path.slice(1), true, ''));
      return;
    }
    const group = byLength.get(path.length);
    if (group === undefined) byLength.set(path.length, [path]);
    else if (!group.includes(path)) group.push(path);
  });
  const groups: Array<{ regexes: RegExp[] } | { prefixes: string[] }> = [];
  if (regexes.length > 0) groups.push({ regexes });
  for (const prefixes of byLength.values()) groups.push({ prefixes });
  return groups;
}

/** The entries of one route: one per path group, or one when the route has no paths. */
export function compileRoute(route: Route): RouteEntry[] {
  const methods = nonEmpty(route.methods) ? new Set(route.methods) : null;
  const hosts = nonEmpty(route.hosts) ? route.hosts.map(hostPattern) : null;
  const headers = headerRules(route);
  const snis = nonEmpty(route.snis) ? route.snis.map(sniPattern) : null;
  const groups = pathGroups(route);
  // get_priority: one point per attribute present (sources/destinations do not exist for http).
  const weight =
    (methods !== null ? 1 : 0) + (hosts !== null ? 1 : 0) + (headers !== null ? 1 : 0) + (snis !== null ? 1 : 0) + (groups.length > 0 ? 1 : 0);
  const base = {
    route,
    methods,
    hosts,
    headers,
    snis,
    weight,
    // Kong: `plain_host_only` needs hosts, none with a `*`; a route without hosts does not get the bit.
    plainHostsOnly: hosts !== null && hosts.every((h) => h.kind === 'exact'),
    headerCount: Math.min(headers?.length ?? 0, 255),
    // grpcs counts as https, grpc as http (Kong's router).
    httpsOnly: servesTls(route.protocols) && !servesPlain(route.protocols),
    mismatch: Object.freeze({ kind: 'protocol-mismatch', route }) as RouteMatch,
  };
  if (groups.length === 0) return [new RouteEntry({ ...base, prefixes: null, regexes: null, regexPriority: 0, prefixLength: 0 })];
  return groups.map((group) =>
    'regexes' in group
      ? new RouteEntry({ ...base, prefixes: null, regexes: group.regexes, regexPriority: route.regex_priority, prefixLength: 0 })
      : new RouteEntry({ ...base, prefixes: group.prefixes, regexes: null, regexPriority: 0, prefixLength: group.prefixes[0]?.length ?? 0 }),
  );
}

/**
 * Kong's priority, most significant first (transform.lua `get_priority` bit layout, and
 * developer.konghq.com /gateway/routing/traditional/ "Determining priority for traditional
 * compatible mode"): match weight; plain hosts only; header count; regex paths before prefix paths;
 * `regex_priority` (regex groups); prefix length (prefix groups). Kong breaks the remaining ties by
 * route id (ATC BTreeMap order, i.e. arbitrary); we use `order` (Kong's traditional `created_at`),
 * then id so that the order is total.
 *
 * We follow the documented layout, not Kong OSS's arithmetic: `get_priority` shifts plain Lua
 * numbers with LuaJIT's 32-bit `bit.lshift` (`lshift_uint64` rebinds its cdata to the number), so
 * the weight lands at bit 29 instead of 61 and the header count at bit 20. Checked with LuaJIT 2.1:
 * a hosts-only route outranks a methods+headers+paths route, and `regex_priority: -1` outranks 5.
 */
export function compareEntries(a: RouteEntry, b: RouteEntry): number {
  return (
    b.weight - a.weight ||
    Number(b.plainHostsOnly) - Number(a.plainHostsOnly) ||
    b.headerCount - a.headerCount ||
    Number(b.regexes !== null) - Number(a.regexes !== null) ||
    b.regexPriority - a.regexPriority ||
    b.prefixLength - a.prefixLength ||
    a.route.order - b.route.order ||
    (a.route.id < b.route.id ? -1 : a.route.id > b.route.id ? 1 : 0)
  );
}
