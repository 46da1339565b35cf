import { Type, type Static } from '@sinclair/typebox';
import type { PluginSchema } from '../../pipeline/plugin.js';

const Flag = (description: string) => Type.Boolean({ default: false, description });

/** Kong's prometheus (kong/plugins/prometheus/schema.lua): every metric group off by default, as Kong 3.x. */
export const prometheusConfig = Type.Object(
  {
    per_consumer: Flag('Fill the consumer label (its username) of kong_http_requests_total and kong_bandwidth_bytes.'),
    status_code_metrics: Flag('Export kong_http_requests_total.'),
    ai_metrics: Flag("Export Kong's AI metrics; Portcullis has no AI plugins, so true is refused."),
    latency_metrics: Flag('Export kong_kong_latency_ms, kong_upstream_latency_ms and kong_request_latency_ms.'),
    bandwidth_metrics: Flag('Export kong_bandwidth_bytes.'),
    upstream_health_metrics: Flag('Export kong_upstream_target_health (for the whole node once any instance asks).'),
    wasm_metrics: Flag('Export Kong\'s Wasm filter metrics; Portcullis runs no Wasm filters, so true is refused.'),
  },
  { additionalProperties: false },
);

export type PrometheusConfig = Static<typeof prometheusConfig>;

export const prometheusSchema: PluginSchema = {
  name: 'prometheus',
  configSchema: prometheusConfig,
  scopes: { global: true, service: true, route: true, consumer: true },
  // Kong's default adds tcp, tls, tls_passthrough, udp, ws and wss; Portcullis proxies HTTP and gRPC.
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, index) {
    const c = plugin.config as PrometheusConfig;
    const at = `plugins[${index}].config`;
    const errors = [];
    // Accepting these would promise series that never appear: refused, naming why.
    if (c.ai_metrics) errors.push({ path: `${at}.ai_metrics`, message: 'ai_metrics is not supported by Portcullis (it has no AI plugins)' });
    if (c.wasm_metrics) errors.push({ path: `${at}.wasm_metrics`, message: 'wasm_metrics is not supported by Portcullis (it runs no Wasm filters)' });
    return errors;
  },
};
