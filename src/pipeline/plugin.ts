import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { Config, ConfigError, PluginEntity } from '../config/types.js';
import type { NodeServices } from '../state/node-services.js';
import type { HeaderMap, RequestContext } from './context.js';
import type { ClientUrlParts } from './client-url.js';
import type { GatewayResponse } from './respond.js';
import type { LogEntry } from './log-entry.js';
import type { CredentialCarriers } from './log-record.js';

/** Scopes a plugin may be attached to, as Kong's `no_consumer`/`no_route`/`no_service` flags. */
export interface PluginScopes {
  readonly global: boolean;
  readonly service: boolean;
  readonly route: boolean;
  readonly consumer: boolean;
  /**
   * Kong Enterprise's consumer-group scope (absent: refused, as Kong's `no_consumer_group`). Kong
   * allows it for rate-limiting, request-/response-transformer, proxy-cache, ip-restriction and
   * request-termination (the `consumer_group` property of their schemas).
   */
  readonly consumerGroup?: boolean;
}

/** How a configuration is being checked (see `LoadObjectOptions.entityAtATime`). */
export interface CheckContext {
  /**
   * The configuration comes from changes of one entity at a time (admin API writes, the saved state
   * they built): rules that tie a plugin to another plugin being present are not enforced, since tools
   * such as decK create and delete plugins one by one, in any order.
   */
  readonly entityAtATime: boolean;
}

/**
 * What the config layer needs to know about a plugin: its name, its config schema (defaults live
 * there) and any cross-entity checks. Lives in `src/plugins/<name>/schema.ts`, so validation can
 * run without loading a handler.
 */
export interface PluginSchema {
  readonly name: string;
  /** JSON schema (TypeBox) of `config`, with defaults. */
  readonly configSchema: TSchema;
  readonly scopes: PluginScopes;
  /** Protocols a plugin runs on by default (Kong's `protocols` default). */
  readonly defaultProtocols: readonly string[];
  /**
   * Kong's deprecated shorthand fields (`shorthand_fields`): a flat field still accepted in `config`
   * and moved to its place in the current schema before validation (a dump writes the new form).
   */
  readonly shorthands?: readonly ShorthandField[];
  /** Checks that need the whole configuration (e.g. another plugin on the same route). */
  checkConfig?(plugin: PluginEntity, index: number, config: Config, context: CheckContext): ConfigError[];
}

/** A deprecated flat config field and the path of the field that replaced it. */
export interface ShorthandField {
  readonly name: string;
  readonly path: readonly string[];
}

/** The certificate phase: runs during the TLS handshake, before any request exists. */
export interface CertificatePhase {
  readonly sni: string | null;
  /** Ask the client for a certificate (without requiring it). */
  requestClientCertificate(): void;
}

/** Response metadata seen by `headerFilter` before it is sent to the client. */
export interface ResponseHead {
  status: number;
  readonly headers: HeaderMap;
}

/**
 * One configured plugin, built once per configuration load. Phases are optional; each may be
 * async and may throw a `GatewayError` to refuse the request.
 */
export interface PluginInstance {
  rewrite?(ctx: RequestContext): void | Promise<void>;
  access?(ctx: RequestContext): void | Promise<void>;
  headerFilter?(ctx: RequestContext, response: ResponseHead): void;
  /**
   * After the response (or the gateway's own answer) went out; runs for refused requests too, as
   * Kong's log phase does. `entry` has the request's measured facts and its log record, built on
   * first use.
   */
  log?(ctx: RequestContext, entry: LogEntry): void;
  /**
   * Headers and query arguments this plugin reads a credential from (lower-case), which a log
   * record must never show (key-auth's key_names).
   */
  readonly credentialCarriers?: CredentialCarriers;
  /** Releases timers or connections when the configuration that built it is retired. */
  close?(): void | Promise<void>;
  /** A document served at a well-known URL derived from a resource path of the plugin's routes (RFC 8615). */
  readonly wellKnown?: WellKnownEndpoint;
  /** Auth-params added to every challenge the plugin's route sends (RFC 9728 §5.1 `resource_metadata`); null adds none. */
  challengeParams?(ctx: RequestContext): Readonly<Record<string, string>> | null;
}

/**
 * A well-known document about a resource (RFC 9728 §3.1 inserts the well-known suffix between the
 * host and the resource's path): a GET of `<prefix><path>` is answered, before any routing of its
 * own, by the plugin on the route that `<path>` matches.
 */
export interface WellKnownEndpoint {
  /** e.g. `/.well-known/oauth-protected-resource` */
  readonly prefix: string;
  /**
   * The answer for `resourcePath` (the request path after the prefix, `/` when none), or null when
   * this plugin has no document there (the request is then routed as any other).
   */
  serve(request: WellKnownRequest): GatewayResponse | null;
}

export interface WellKnownRequest {
  readonly client: ClientUrlParts;
  readonly resourcePath: string;
  /** The plugins of the route `resourcePath` matched (the document may describe them). */
  readonly routePlugins: readonly ResolvedPlugin[];
}

/** Services a plugin may use while building its instance. */
export interface PluginEnvironment {
  readonly config: Config;
  readonly logger: Logger;
  /** Extra CA PEMs trusted on outgoing TLS (`--trusted-certificate`), e.g. for an IdP. */
  readonly trustedCaPems: readonly string[];
  /** State shared by the node's workers (replay store, nonce key). */
  readonly node: NodeServices;
}

/** A plugin's own admin endpoints (Kong's `/openid-connect/issuers`, …), under its own prefix. */
export interface PluginAdminApi {
  /** Path prefix this API owns, e.g. `/openid-connect/`. */
  readonly prefix: string;
  /** Answers a request under `prefix`; null means "no such endpoint" (404). */
  handle(request: { method: string; path: string; query: URLSearchParams }): Promise<{ status: number; body: unknown } | null>;
}

/** A plugin: its schema plus the handler factory. Higher `priority` runs first, as Kong. */
export interface PluginDefinition<C = Record<string, unknown>> {
  readonly schema: PluginSchema;
  readonly priority: number;
  /** Builds the per-instance state; `config` is already validated and defaulted. */
  create(config: C, entity: PluginEntity, env: PluginEnvironment): PluginInstance;
  /** Whether, for this entity, the TLS handshake should ask for a client certificate. */
  readonly requestsClientCertificate?: boolean;
  /** Admin endpoints the plugin serves on the admin listener. */
  readonly adminApi?: PluginAdminApi;
  /** The plugin reads `ctx.timings` (a tracer): the route's requests record their phases' times. */
  readonly tracesPhases?: boolean;
}

/** A configured plugin ready to run: its entity, its definition and its built instance. */
export interface ResolvedPlugin {
  readonly entity: PluginEntity;
  readonly definition: PluginDefinition;
  readonly instance: PluginInstance;
  readonly priority: number;
}

/** The plugins that apply to one route, resolved once per configuration. */
export interface RoutePlugins {
  /** Plugins that apply before a consumer is known, highest priority first. */
  readonly base: readonly ResolvedPlugin[];
  /** The list once `consumerId` is known (consumer- and consumer-group-scoped instances win where they exist). */
  withConsumer(consumerId: string): readonly ResolvedPlugin[];
  /** A plugin of `base` traces phases (`PluginDefinition.tracesPhases`): the route's requests record their phase times. */
  readonly tracesPhases: boolean;
}

/** A route's plugins, with what is known of them once per configuration. */
export function routePlugins(base: readonly ResolvedPlugin[], withConsumer: (consumerId: string) => readonly ResolvedPlugin[]): RoutePlugins {
  return { base, withConsumer, tracesPhases: base.some((plugin) => plugin.definition.tracesPhases === true) };
}

