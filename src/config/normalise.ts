/**
 * Validated drafts → the `Config` everything downstream reads: one flat list per kind, references as
 * ids, defaults applied, names lower-cased where matching ignores case (hosts, SNIs, header names),
 * empty match lists as null. Only called when validation found nothing, so the drafts' raw objects
 * have the shapes of their schemas.
 */
import { isGrpcRoute } from './protocol-families.js';
import { normaliseTarget, normaliseUpstream } from './normalise-upstream.js';
import type {
  SniEntity,
  CaCertificate,
  Certificate,
  Config,
  Consumer,
  ConsumerGroup,
  KeyAuthCredential,
  BasicAuthCredential,
  JwtSecret,
  Acl,
  PluginEntity,
  Protocol,
  Route,
  RouteProtocol,
  Service,
  ServiceProtocol,
} from './types.js';
import type { Drafts, PluginDraft, RouteDraft, ServiceDraft } from './collect.js';
import { splitServiceUrl } from './checks/service.js';
import { sniItems, sniNames } from './checks/certificates.js';
import { derivedSniId } from './identity.js';
import type { PluginCatalog } from './plugin-config.js';
import type { CaCertificateInput } from './schemas/ca-certificate.js';
import type { CertificateInput } from './schemas/certificate.js';
import type { ConsumerInput } from './schemas/consumer.js';
import type { ConsumerGroupInput } from './schemas/consumer-group.js';
import type { AclInput, BasicAuthCredentialInput, JwtSecretInput, KeyAuthCredentialInput } from './schemas/credential.js';
import { storedPassword } from './basic-auth-password.js';
import { FORMAT_VERSION } from './schemas/document.js';
import { DEFAULT_PLUGIN_PROTOCOLS, type PluginEntityInput } from './schemas/plugin.js';
import type { RouteInput } from './schemas/route.js';
import { DEFAULT_PORTS, DEFAULT_SERVICE_PROTOCOL, type ServiceInput } from './schemas/service.js';

function nullIfEmpty<T>(list: readonly T[] | undefined): readonly T[] | null {
  return list === undefined || list.length === 0 ? null : list;
}

function lower(list: readonly string[] | undefined): readonly string[] | undefined {
  return list?.map((s) => s.toLowerCase());
}

function upstreamOf(raw: ServiceInput): Pick<Service, 'protocol' | 'host' | 'port' | 'path'> {
  const parts = raw.url !== undefined ? splitServiceUrl(raw.url) : null;
  const fromUrl = parts !== null && !('error' in parts) ? parts : null;
  const protocol = (fromUrl?.protocol ?? raw.protocol ?? DEFAULT_SERVICE_PROTOCOL) as ServiceProtocol;
  return {
    protocol,
    host: (fromUrl?.host ?? raw.host ?? '').toLowerCase(),
    port: (fromUrl !== null ? fromUrl.port : raw.port) ?? DEFAULT_PORTS[protocol],
    path: (fromUrl !== null ? fromUrl.path : raw.path) ?? null,
  };
}

function service(draft: ServiceDraft): Service {
  const raw = draft.raw as ServiceInput;
  const cert = raw.client_certificate;
  return {
    id: draft.id,
    name: raw.name ?? null,
    ...upstreamOf(raw),
    retries: raw.retries,
    connect_timeout: raw.connect_timeout,
    read_timeout: raw.read_timeout,
    write_timeout: raw.write_timeout,
    enabled: raw.enabled,
    tags: raw.tags,
    tls_verify: raw.tls_verify,
    tls_verify_depth: raw.tls_verify_depth,
    ca_certificates: raw.ca_certificates?.map((id) => id.toLowerCase()) ?? null,
    client_certificate: cert === undefined ? null : (typeof cert === 'string' ? cert : cert.id).toLowerCase(),
  };
}

function route(draft: RouteDraft, order: number): Route {
  const raw = draft.raw as RouteInput;
  const headers = raw.headers === undefined ? [] : Object.entries(raw.headers);
  return {
    id: draft.id,
    name: raw.name ?? null,
    service: draft.serviceId,
    protocols: [...new Set(raw.protocols)] as RouteProtocol[],
    methods: nullIfEmpty(raw.methods),
    hosts: nullIfEmpty(lower(raw.hosts)),
    paths: nullIfEmpty(raw.paths),
    headers: headers.length === 0 ? null : Object.fromEntries(headers.map(([name, values]) => [name.toLowerCase(), values])),
    snis: nullIfEmpty(lower(raw.snis)),
    // Kong's grpc subschema: strip_path defaults to false there (and true is refused).
    strip_path: isGrpcRoute(raw.protocols as RouteProtocol[]) ? false : raw.strip_path,
    preserve_host: raw.preserve_host,
    regex_priority: raw.regex_priority,
    path_handling: raw.path_handling,
    https_redirect_status_code: raw.https_redirect_status_code,
    request_buffering: raw.request_buffering,
    response_buffering: raw.response_buffering,
    tags: raw.tags,
    order,
  };
}

function plugin(draft: PluginDraft, catalog: PluginCatalog): PluginEntity {
  const raw = draft.raw as PluginEntityInput;
  const own = catalog.get(raw.name)?.defaultProtocols ?? [];
  const protocols = raw.protocols ?? (own.length > 0 ? own : DEFAULT_PLUGIN_PROTOCOLS);
  return {
    id: draft.id,
    name: raw.name,
    instance_name: raw.instance_name ?? null,
    config: raw.config,
    enabled: raw.enabled,
    protocols: [...protocols] as Protocol[],
    tags: raw.tags,
    service: draft.serviceId,
    route: draft.routeId,
    consumer: draft.consumerId,
    consumer_group: draft.consumerGroupId,
  };
}

/** Each group with its members (deduplicated: decK may state one both ways), in consumer order. */
function consumerGroups(drafts: Drafts): ConsumerGroup[] {
  const position = new Map(drafts.consumers.map((c, i) => [c.id, i]));
  return drafts.consumerGroups.map((d): ConsumerGroup => {
    const raw = d.raw as ConsumerGroupInput;
    const members = new Set(drafts.memberships.filter((m) => m.groupId === d.id && m.consumerId !== null).map((m) => m.consumerId as string));
    const consumers = [...members].sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
    return { id: d.id, name: raw.name, tags: raw.tags, consumers };
  });
}

/** Builds the (not yet frozen) Config from validated drafts. */
export function normalise(drafts: Drafts, catalog: PluginCatalog): Config {
  return {
    _format_version: FORMAT_VERSION,
    services: drafts.services.map(service),
    routes: drafts.routes.map((r, i) => route(r, i)),
    plugins: drafts.plugins.map((p) => plugin(p, catalog)),
    consumers: drafts.consumers.map((d): Consumer => {
      const raw = d.raw as ConsumerInput;
      return { id: d.id, username: raw.username ?? null, custom_id: raw.custom_id ?? null, tags: raw.tags };
    }),
    consumer_groups: consumerGroups(drafts),
    ca_certificates: drafts.caCertificates.map((d): CaCertificate => {
      const raw = d.raw as CaCertificateInput;
      return { id: d.id, cert: raw.cert, cert_digest: d.digest ?? '', tags: raw.tags };
    }),
    certificates: drafts.certificates.map((d): Certificate => {
      const raw = d.raw as CertificateInput;
      return {
        id: d.id,
        cert: raw.cert,
        key: raw.key,
        cert_alt: raw.cert_alt ?? null,
        key_alt: raw.key_alt ?? null,
        snis: sniNames(d.raw).map(([name]) => name),
        sni_entities: sniItems(d.raw).map((sni): SniEntity => ({ id: sni.id ?? derivedSniId(sni.name), name: sni.name, tags: sni.tags })),
        tags: raw.tags,
      };
    }),
    upstreams: drafts.upstreams.map(normaliseUpstream),
    targets: drafts.targets.map(normaliseTarget),
    keyauth_credentials: drafts.credentials.keyauth_credentials.map((d): KeyAuthCredential => {
      const raw = d.raw as KeyAuthCredentialInput;
      return { id: d.id, consumer: d.consumerId ?? '', key: raw.key, tags: raw.tags };
    }),
    basicauth_credentials: drafts.credentials.basicauth_credentials.map((d): BasicAuthCredential => {
      const raw = d.raw as BasicAuthCredentialInput;
      const consumer = d.consumerId ?? '';
      // The password is hashed here, once, and only its hash goes on (see basic-auth-password.ts).
      return { id: d.id, consumer, username: raw.username, password: storedPassword(consumer, raw.password), tags: raw.tags };
    }),
    jwt_secrets: drafts.credentials.jwt_secrets.map((d): JwtSecret => {
      const raw = d.raw as JwtSecretInput;
      return {
        id: d.id,
        consumer: d.consumerId ?? '',
        key: raw.key,
        secret: raw.secret ?? null,
        rsa_public_key: raw.rsa_public_key ?? null,
        algorithm: raw.algorithm,
        tags: raw.tags,
      };
    }),
    acls: drafts.credentials.acls.map((d): Acl => {
      const raw = d.raw as AclInput;
      return { id: d.id, consumer: d.consumerId ?? '', group: raw.group, tags: raw.tags };
    }),
  };
}
