import { Type, type Static } from '@sinclair/typebox';
import type { PluginSchema } from '../../pipeline/plugin.js';

/** Kong's request-termination: answer with a fixed response instead of proxying. */
export const requestTerminationConfig = Type.Object(
  {
    status_code: Type.Integer({ minimum: 100, maximum: 599, default: 503, description: 'Status code to answer with.' }),
    message: Type.Union([Type.String(), Type.Null()], { default: null, description: 'Message for the default JSON body.' }),
    body: Type.Union([Type.String(), Type.Null()], { default: null, description: 'Raw body; excludes `message`.' }),
    content_type: Type.Union([Type.String(), Type.Null()], { default: null, description: 'Content type of `body`.' }),
    trigger: Type.Union([Type.String(), Type.Null()], {
      default: null,
      description: 'Only terminate when a header or query parameter of this name is present.',
    }),
    echo: Type.Boolean({ default: false, description: 'Answer with a copy of the request instead of `message`/`body`.' }),
  },
  { additionalProperties: false },
);

export type RequestTerminationConfig = Static<typeof requestTerminationConfig>;

export const requestTerminationSchema: PluginSchema = {
  name: 'request-termination',
  configSchema: requestTerminationConfig,
  // Kong Enterprise lets it be scoped to a consumer group (its schema has a `consumer_group` field).
  scopes: { global: true, service: true, route: true, consumer: true, consumerGroup: true },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
  checkConfig(plugin, index) {
    const config = plugin.config as RequestTerminationConfig;
    if (config.message !== null && config.body !== null) {
      return [{ path: `plugins[${index}].config`, message: 'message and body are mutually exclusive' }];
    }
    return [];
  },
};
