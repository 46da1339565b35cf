import type { OpenIdConnectConfig } from '../openid-connect/schema.js';
import { clientFacingUrl, type ClientUrlParts } from '../../pipeline/client-url.js';
import type { PluginDefinition, ResolvedPlugin } from '../../pipeline/plugin.js';
import { metadataUrl, resourceMetadata, WELL_KNOWN_PREFIX } from './document.js';
import { protectedResourceMetadataSchema, type ProtectedResourceMetadataConfig } from './schema.js';

/**
 * No request phase of its own: the document is served before routing (`server/well-known.ts`) and
 * the challenge parameter is added where refusals are written. Priority only orders it among
 * Kong's plugins in listings.
 */
const PRIORITY = 1060;

function openIdConnectOf(plugins: readonly ResolvedPlugin[]): OpenIdConnectConfig | null {
  const found = plugins.find((p) => p.entity.name === 'openid-connect');
  return found === undefined ? null : (found.entity.config as unknown as OpenIdConnectConfig);
}

export const protectedResourceMetadata: PluginDefinition<ProtectedResourceMetadataConfig> = {
  schema: protectedResourceMetadataSchema,
  priority: PRIORITY,
  create(config) {
    const configured = config.resource === null ? null : { resource: config.resource, path: new URL(metadataUrl(config.resource)).pathname };
    const cacheControl = config.cache_max_age === 0 ? 'no-cache' : `public, max-age=${config.cache_max_age}`;
    const resourceFor = (client: ClientUrlParts, path: string): string | null => configured?.resource ?? clientFacingUrl(client, path);
    return {
      wellKnown: {
        prefix: WELL_KNOWN_PREFIX,
        serve({ client, resourcePath, routePlugins }) {
          // A configured identifier has one document, at the URL derived from it.
          if (configured !== null && configured.path !== `${WELL_KNOWN_PREFIX}${resourcePath === '/' ? '' : resourcePath}`) return null;
          const resource = resourceFor(client, resourcePath);
          if (resource === null) return null;
          const body = JSON.stringify(resourceMetadata(resource, config, openIdConnectOf(routePlugins)));
          return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': cacheControl }, body };
        },
      },
      ...(config.challenge
        ? {
            challengeParams(ctx) {
              const resource = resourceFor(ctx.request, ctx.request.path);
              return resource === null ? null : { resource_metadata: metadataUrl(resource) };
            },
          }
        : {}),
    };
  },
};
