// The decK configuration of the IdP fault tests: an echo upstream behind an unauthenticated route
// `/open` (the healthy route) and one route per issuer under test, `/<name>`, each with its own
// openid-connect instance (bearer only, token in the Authorization header, no certificate binding:
// the faults here are about the IdP, not about RFC 8705).
export interface OidcRoute {
  /** Route name and path (`/<name>`). */
  readonly name: string;
  readonly issuer: string;
  /** Plugin fields on top of the defaults below. */
  readonly config?: Record<string, unknown>;
}

/** The plugin's `timeout` (ms) unless a route sets its own. */
export const IDP_TIMEOUT_MS = 1_000;

export function oidcGatewayConfig(upstreamUrl: string, routes: readonly OidcRoute[]): string {
  // JSON is YAML: the gateway reads it as a decK file.
  return JSON.stringify({
    _format_version: '3.0',
    services: [
      {
        name: 'echo',
        url: `${upstreamUrl}/anything`,
        routes: [{ name: 'open', paths: ['/open'] }, ...routes.map((r) => ({ name: r.name, paths: [`/${r.name}`] }))],
      },
    ],
    plugins: routes.map((r) => ({
      name: 'openid-connect',
      route: r.name,
      config: { issuer: r.issuer, auth_methods: ['bearer'], bearer_token_param_type: ['header'], timeout: IDP_TIMEOUT_MS, ...r.config },
    })),
  });
}
