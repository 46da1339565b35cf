/** The decK configurations the benchmark gives Portcullis. */
import { AUDIENCE } from './issuer.js';

/**
 * Routes for every scenario on one gateway: `/plain` (no plugins), `/mtls` (certificate only),
 * `/jwt` (the tutorial's openid-connect, strict binding), `/introspection` (opaque tokens, cached),
 * `/balanced` (an upstream over `targetPorts`, when given), `/limited` (key-auth + acl + rate-limiting
 * local, scenario 12) and `/limited-redis` (the same on Redis at `redisPort`, when given);
 * tls-handshake-modifier global, so every handshake asks for the certificate.
 */
export function scenarioConfig(upstreamUrl: string, issuerUrl: string, targetPorts: readonly number[] = [], redisPort: number | null = null): string {
  const oidc = (extra: string): string =>
    `          - name: openid-connect\n            config:\n              issuer: ${issuerUrl}\n              proof_of_possession_mtls: strict\n              audience_required: ["${AUDIENCE}"]\n${extra}`;
  return `_format_version: "3.0"
services:
  - name: upstream
    url: ${upstreamUrl}
    routes:
      - name: plain
        paths: ["/plain"]
        strip_path: false
      - name: mtls
        paths: ["/mtls"]
        strip_path: false
      - name: jwt
        paths: ["/jwt"]
        strip_path: false
        plugins:
${oidc('              auth_methods: [bearer]\n')}
      - name: introspection
        paths: ["/introspection"]
        strip_path: false
        plugins:
${oidc('              auth_methods: [introspection]\n              client_id: [bench]\n              client_secret: [bench-secret]\n              cache_introspection: true\n')}
${limited('local')}${redisPort === null ? '' : limited('redis', redisPort)}${balanced(targetPorts)}consumers:
  - username: bench
    keyauth_credentials: [{ key: ${BENCH_API_KEY} }]
    acls: [{ group: bench }]
plugins:
  - name: tls-handshake-modifier
`;
}

/** The API key of scenario 12's consumer. */
export const BENCH_API_KEY = 'bench-api-key-0123456789';

/**
 * Scenario 12's route: what a Kong file puts on a machine-to-machine API, key-auth + acl +
 * rate-limiting by consumer, with a limit the benchmark never reaches (every request counted).
 */
function limited(policy: 'local' | 'redis', redisPort?: number): string {
  const redis = policy === 'redis' ? `, redis: { host: 127.0.0.1, port: ${redisPort} }` : '';
  return `      - name: limited-${policy}
        paths: ["/limited${policy === 'redis' ? '-redis' : ''}"]
        strip_path: false
        plugins:
          - name: key-auth
          - name: acl
            config: { allow: [bench] }
          - name: rate-limiting
            config: { minute: 1000000000, policy: ${policy}${redis} }
`;
}

/** `/balanced` (scenario 10): a service naming an upstream whose targets are the upstream server on `ports`. */
function balanced(ports: readonly number[]): string {
  if (ports.length === 0) return '';
  return `  - name: balanced
    host: bench-targets.internal
    routes:
      - name: balanced
        paths: ["/balanced"]
        strip_path: false
upstreams:
  - name: bench-targets.internal
    targets:
${ports.map((p) => `      - target: 127.0.0.1:${p}\n`).join('')}`;
}

/**
 * Scenario 13's gateway: scenario 1's `/plain` with Kong's prometheus plugin global, every
 * per-request metric group on (request counts, the three latency histograms, bandwidth): the
 * plugin's whole per-request cost, to compare with scenario 1's no-plugin proxy.
 */
export function prometheusConfig(upstreamUrl: string): string {
  return `_format_version: "3.0"
services:
  - name: upstream
    url: ${upstreamUrl}
    routes:
      - name: plain
        paths: ["/plain"]
        strip_path: false
plugins:
  - name: prometheus
    config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true }
`;
}

/** One service with `count` prefix routes `/r0` … `/r{count-1}`, plus `/plain`. */
export function manyRoutesConfig(upstreamUrl: string, count: number): string {
  const lines = [`_format_version: "3.0"`, 'services:', '  - name: upstream', `    url: ${upstreamUrl}`, '    routes:', '      - name: plain', '        paths: ["/plain"]', '        strip_path: false'];
  for (let i = 0; i < count; i++) lines.push(`      - name: r${i}`, `        paths: ["/r${i}"]`);
  return lines.join('\n') + '\n';
}

/**
 * Scenario 8's gateway: `/dpop`, openid-connect with RFC 9449 DPoP strict over plain HTTPS (no
 * tls-handshake-modifier, no client certificate), bearer JWTs bound by `cnf.jkt`, every DPoP
 * setting at its default (`dpop_proof_lifetime` 300 s, no nonce, all algorithms).
 */
export function dpopConfig(upstreamUrl: string, issuerUrl: string): string {
  return `_format_version: "3.0"
services:
  - name: upstream
    url: ${upstreamUrl}
    routes:
      - name: dpop
        paths: ["/dpop"]
        strip_path: false
        plugins:
          - name: openid-connect
            config:
              issuer: ${issuerUrl}
              auth_methods: [bearer]
              audience_required: ["${AUDIENCE}"]
              proof_of_possession_dpop: strict
`;
}
