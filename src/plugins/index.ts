import type { PluginDefinition, PluginSchema } from '../pipeline/plugin.js';
import { requestTermination } from './request-termination/handler.js';
import { tlsHandshakeModifier } from './tls-handshake-modifier/handler.js';
import { mtlsAuth } from './mtls-auth/handler.js';
import { headerCertAuth } from './header-cert-auth/handler.js';
import { openIdConnect } from './openid-connect/handler.js';
import { protectedResourceMetadata } from './protected-resource-metadata/handler.js';
import { keyAuth } from './key-auth/handler.js';
import { basicAuth } from './basic-auth/handler.js';
import { jwt } from './jwt/handler.js';
import { acl } from './acl/handler.js';
import { rateLimiting } from './rate-limiting/handler.js';
import { ipRestriction } from './ip-restriction/handler.js';
import { cors } from './cors/handler.js';
import { openTelemetry } from './opentelemetry/handler.js';
import { prometheus } from './prometheus/handler.js';
import { fileLog } from './file-log/handler.js';
import { httpLog } from './http-log/handler.js';
import { correlationId } from './correlation-id/handler.js';
import { requestSizeLimiting } from './request-size-limiting/handler.js';
import { requestTransformer } from './request-transformer/handler.js';
import { responseTransformer } from './response-transformer/handler.js';

/** Every plugin Portcullis implements, by Kong name. */
export const pluginDefinitions: ReadonlyMap<string, PluginDefinition> = new Map<string, PluginDefinition>(
  [
    requestTermination as unknown as PluginDefinition,
    tlsHandshakeModifier as unknown as PluginDefinition,
    mtlsAuth as unknown as PluginDefinition,
    headerCertAuth as unknown as PluginDefinition,
    openIdConnect as unknown as PluginDefinition,
    protectedResourceMetadata as unknown as PluginDefinition,
    keyAuth as unknown as PluginDefinition,
    basicAuth as unknown as PluginDefinition,
    jwt as unknown as PluginDefinition,
    acl as unknown as PluginDefinition,
    rateLimiting as unknown as PluginDefinition,
    ipRestriction as unknown as PluginDefinition,
    cors as unknown as PluginDefinition,
    openTelemetry as unknown as PluginDefinition,
    prometheus as unknown as PluginDefinition,
    fileLog as unknown as PluginDefinition,
    httpLog as unknown as PluginDefinition,
    correlationId as unknown as PluginDefinition,
    requestSizeLimiting as unknown as PluginDefinition,
    requestTransformer as unknown as PluginDefinition,
    responseTransformer as unknown as PluginDefinition,
  ].map((definition) => [definition.schema.name, definition]),
);

/** The schemas alone, for validation without handlers (what `loadConfig` takes). */
export const pluginSchemas: ReadonlyMap<string, PluginSchema> = new Map(
  [...pluginDefinitions.values()].map((definition) => [definition.schema.name, definition.schema]),
);
