import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { configHash } from '../config/index.js';
import { byId, type Lookup } from '../config/by-id.js';
import { listDigest } from '../config/hash.js';
import type { Config, Consumer, PluginEntity, Route, Service } from '../config/types.js';
import { routePlugins, type PluginDefinition, type PluginInstance, type ResolvedPlugin, type RoutePlugins } from '../pipeline/plugin.js';
import type { NodeServices } from '../state/node-services.js';
import { targetHostHeader } from '../balancer/host-header.js';
import { UpstreamPools } from '../proxy/upstream-pools.js';
import { compileRouter, type Router } from '../router/index.js';
import { compileCertificateHeaders } from './certificate-headers.js';
import { CaNamesPolicy } from './ca-names.js';
import { CertificateRequestPolicy } from './certificate-requests.js';
import { PluginIndex } from './plugin-index.js';
import { TlsContexts, type DefaultCertificate } from './tls-contexts.js';

/** What a Runtime needs from outside: the plugin catalogue, the logger, gateway-wide TLS facts. */
export interface RuntimeDependencies {
  readonly plugins: ReadonlyMap<string, PluginDefinition>;
  readonly logger: Logger;
  readonly defaultCertificate: DefaultCertificate;
  /** Extra CA PEMs trusted on outgoing TLS. */
  readonly trustedCaPems: readonly string[];
  /** `--upstream-http2`: HTTP/2 (by ALPN) to https services as well as grpcs ones. */
  readonly upstreamHttp2?: boolean;
  /** State the node's plugins share (replay store, nonce key). */
  readonly node: NodeServices;
}

/**
 * A configuration compiled for serving: router, plugin instances per route, upstream pools and
 * TLS contexts. Immutable; a new configuration builds a new Runtime next to the old one, and
 * requests in flight finish on the one they started with.
 */
export class Runtime {
  readonly config: Config;
  readonly hash: string;
  readonly version: number;
  readonly loadedAt: Date;
  readonly router: Router;
  readonly pools: UpstreamPools;
  readonly tls: TlsContexts;
  /** Which handshakes ask for a client certificate (tls-handshake-modifier, mtls-auth). */
  readonly certificateRequests: CertificateRequestPolicy;
  /** CA names sent in CertificateRequests (mtls-auth `send_ca_dn`). */
  readonly caNames: CaNamesPolicy;
  /** Client-certificate headers believed only from trusted proxies (lower-case names). */
  readonly certificateHeaders: ReadonlySet<string>;
  readonly #services: Lookup<Service>;
  /** The Host header sent to each service, computed once (`host[:port]`, IPv6 in brackets). */
  readonly #upstreamHosts: ReadonlyMap<string, string>;
  readonly #consumers: Lookup<Consumer>;
  readonly #routePlugins: ReadonlyMap<string, RoutePlugins>;
  readonly #globalPlugins: readonly ResolvedPlugin[];
  /** What a route without its own entry runs: made once, not per request. */
  readonly #globalRoutePlugins: RoutePlugins;
  /** Prefixes of the well-known documents plugins serve (RFC 9728 metadata), empty when none. */
  readonly wellKnownPrefixes: readonly string[];
  /** Plugin instances by entity id plus the config text that built them, for reuse on reload. */
  readonly instances: ReadonlyMap<string, { readonly key: string; readonly instance: PluginInstance }>;

  private constructor(init: {
    config: Config;
    version: number;
    router: Router;
    pools: UpstreamPools;
    tls: TlsContexts;
    certificateRequests: CertificateRequestPolicy;
    resolved: readonly ResolvedPlugin[];
    instances: ReadonlyMap<string, { key: string; instance: PluginInstance }>;
    /** The previous runtime, when this one serves the same routes, services and plugins (see `servesSame`). */
    same: Runtime | null;
  }) {
    this.config = init.config;
    this.hash = configHash(init.config);
    this.version = init.version;
    this.loadedAt = new Date();
    this.router = init.router;
    this.pools = init.pools;
    this.tls = init.tls;
    this.certificateRequests = init.certificateRequests;
    const same = init.same;
    this.caNames = same?.caNames ?? CaNamesPolicy.compile(init.config);
    this.certificateHeaders = same?.certificateHeaders ?? compileCertificateHeaders(init.config);
    this.instances = init.instances;
    this.wellKnownPrefixes = [...new Set(init.resolved.flatMap((p) => (p.instance.wellKnown === undefined ? [] : [p.instance.wellKnown.prefix])))];
    this.#services = byId(init.config.services);
    this.#upstreamHosts = same === null ? new Map(init.config.services.map((s) => [s.id, hostHeaderOf(s)])) : same.#upstreamHosts;
    this.#consumers = byId(init.config.consumers);
    // The per-route plugin lists hold the instances: kept only when every instance was kept.
    if (same !== null && keepsInstances(same, init.resolved)) {
      this.#routePlugins = same.#routePlugins;
      this.#globalPlugins = same.#globalPlugins;
      this.#globalRoutePlugins = same.#globalRoutePlugins;
    } else {
      const index = new PluginIndex(init.resolved, init.config.consumer_groups);
      this.#routePlugins = new Map(init.config.routes.map((r) => [r.id, index.forRoute(r)]));
      this.#globalPlugins = index.globals();
      this.#globalRoutePlugins = routePlugins(this.#globalPlugins, () => this.#globalPlugins);
    }
  }

  /** Compiles a validated configuration; `previous` lends warm pools and unchanged plugin instances. */
  static compile(config: Config, deps: RuntimeDependencies, previous: Runtime | null): Runtime {
    const services = new Map(config.services.map((s) => [s.id, s]));
    // Kong leaves routes of a disabled service out of the router entirely.
    const routable = config.routes.filter((r) => r.service === null || services.get(r.service)?.enabled !== false);
    const instances = new Map<string, { key: string; instance: PluginInstance }>();
    const resolved: ResolvedPlugin[] = [];
    const referenced = referencedEntitiesKey(config);
    for (const entity of config.plugins) {
      if (!entity.enabled) continue;
      const definition = deps.plugins.get(entity.name);
      if (definition === undefined) throw new Error(`plugin '${entity.name}' has no handler`);
      const built = reuseOrCreate(entity, definition, config, deps, previous, referenced);
      instances.set(entity.id, built);
      resolved.push({ entity, definition, instance: built.instance, priority: definition.priority });
    }
    // A change of consumers or their credentials only (an admin creating a consumer) leaves the
    // router, the upstream pools and TLS as they were: with 10,000 routes, rebuilding them is most
    // of a change's cost.
    const same = previous !== null && servesSame(previous.config, config) ? previous : null;
    return new Runtime({
      config,
      version: (previous?.version ?? 0) + 1,
      router: same?.router ?? compileRouter(routable),
      pools: same?.pools ?? UpstreamPools.create(config, { trustedCaPems: [...deps.trustedCaPems], httpsOverHttp2: deps.upstreamHttp2 === true }, previous?.pools, deps.node.health),
      tls: same?.tls ?? new TlsContexts(config.certificates, deps.defaultCertificate),
      certificateRequests: same?.certificateRequests ?? CertificateRequestPolicy.compile(config, deps.plugins),
      resolved,
      instances,
      same,
    });
  }

  service(id: string | null): Service | null {
    return id === null ? null : (this.#services.get(id) ?? null);
  }

  /** The Host header for a service's upstream when `preserve_host` is off. */
  upstreamHost(service: Service): string {
    return this.#upstreamHosts.get(service.id) ?? hostHeaderOf(service);
  }

  consumer(id: string): Consumer | null {
    return this.#consumers.get(id) ?? null;
  }

  pluginsFor(route: Route): RoutePlugins {
    return this.#routePlugins.get(route.id) ?? this.#globalRoutePlugins;
  }

  /** Global plugins, for requests that matched no route. */
  get globalPlugins(): readonly ResolvedPlugin[] {
    return this.#globalPlugins;
  }

  /** Releases what this runtime owns and the next one did not take over. */
  async close(next: Runtime | null): Promise<void> {
    const kept = new Set(next === null ? [] : [...next.instances.values()].map((i) => i.instance));
    const closing: Array<Promise<void>> = [];
    for (const { instance } of this.instances.values()) {
      // An async wrapper turns a synchronous throw into a rejection that allSettled absorbs.
      if (!kept.has(instance)) closing.push((async () => instance.close?.())());
    }
    await Promise.allSettled(closing);
    // A successor serving the same routes took these very pools over.
    if (next?.pools !== this.pools) await this.pools.close();
  }
}

function reuseOrCreate(
  entity: PluginEntity,
  definition: PluginDefinition,
  config: Config,
  deps: RuntimeDependencies,
  previous: Runtime | null,
  referenced: string,
): { key: string; instance: PluginInstance } {
  // Caches (JWKS, introspection results…) survive a reload when nothing the instance was built
  // from changed: its own config, and the entities plugins look up while building (consumers, CA
  // certificates, the consumers' credentials and groups). Issuer discovery and keys are shared by issuer URL and survive even a rebuild.
  const key = JSON.stringify([entity.name, entity.config, referenced]);
  const old = previous?.instances.get(entity.id);
  if (old !== undefined && old.key === key) return old;
  const instance = definition.create(entity.config, entity, { config, logger: deps.logger.child({ plugin: entity.name }), trustedCaPems: deps.trustedCaPems, node: deps.node });
  return { key, instance };
}

/**
 * A digest of the entities a plugin instance may capture when it is built, from the digests the
 * configuration hash keeps per list (computed once per list, not per plugin or per reload).
 */
function referencedEntitiesKey(config: Config): string {
  const lists = [config.consumers, config.ca_certificates, config.keyauth_credentials, config.basicauth_credentials, config.jwt_secrets, config.acls, config.consumer_groups];
  return createHash('sha256').update(lists.map(listDigest).join(',')).digest('base64url');
}

/**
 * What the router, upstream pools, TLS contexts and certificate policies are built from: when none
 * of it changed (the very same frozen lists), a new configuration can keep them.
 */
const SERVED_LISTS = ['services', 'routes', 'plugins', 'consumer_groups', 'ca_certificates', 'certificates', 'upstreams', 'targets'] as const;

/**
 * Whether `resolved` are all `previous`'s very instances. A function of its own, not an arrow in the
 * constructor: a closure there sharing the constructor's context with the one kept in
 * #globalRoutePlugins would keep `previous` alive, and with it every runtime before it.
 */
function keepsInstances(previous: Runtime, resolved: readonly ResolvedPlugin[]): boolean {
  return resolved.every((p) => previous.instances.get(p.entity.id)?.instance === p.instance);
}

function servesSame(previous: Config, next: Config): boolean {
  return SERVED_LISTS.every((list) => previous[list] === next[list]);
}

function hostHeaderOf(service: Service): string {
  return targetHostHeader(null, service.host, service.port, service.protocol);
}
