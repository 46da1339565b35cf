/** A route as written in a decK file; fields and defaults as Kong 3.x `routes.lua`. */
import { Type, type Static } from '@sinclair/typebox';
import { EntityReference, IntegerEnum, Name, StringEnum, Tags, Uuid } from './common.js';
import { PluginEntitySchema } from './plugin.js';

/** What Portcullis serves today; Kong's other protocols (tcp, tls, udp, …) are refused by name. */
export const ROUTE_PROTOCOLS = ['http', 'https', 'grpc', 'grpcs', 'ws', 'wss'] as const;

/** The default of `protocols`. */
export const DEFAULT_ROUTE_PROTOCOLS = ['http', 'https'] as const;

const Strings = (description: string) => Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description }));

export const RouteSchema = Type.Object(
  {
    id: Type.Optional(Uuid('Stable id; derived from the name (or service and position) when absent.')),
    name: Type.Optional(Name('Unique route name.')),
    service: Type.Optional(EntityReference('service')),
    protocols: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      default: [...DEFAULT_ROUTE_PROTOCOLS],
      description: 'Protocols the route answers on: http and https, grpc and grpcs, or ws and wss (one pair).',
    }),
    methods: Type.Optional(
      Type.Array(
        Type.String({ pattern: '^[A-Z]+$', errorMessage: 'must be an upper-case HTTP method such as GET' }),
        { description: 'HTTP methods that match.' },
      ),
    ),
    hosts: Strings('Host names that match; one `*` wildcard at the start or end, optional `:port`.'),
    paths: Strings('Path prefixes (`/api`) or regexes (`~/items/\\d+$`) that match.'),
    headers: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), {
        description: 'Header name → accepted values; a value starting with `~*` is a regex.',
      }),
    ),
    snis: Strings('TLS server names that match (https only).'),
    strip_path: Type.Boolean({ default: true, description: 'Remove the matched prefix before proxying.' }),
    preserve_host: Type.Boolean({ default: false, description: "Send the client's Host upstream instead of the service host." }),
    regex_priority: Type.Integer({ default: 0, description: 'Order among regex paths; higher is tried first.' }),
    path_handling: StringEnum(['v0', 'v1'], { default: 'v0', description: 'How service and request paths are joined.' }),
    https_redirect_status_code: IntegerEnum([426, 301, 302, 307, 308], {
      default: 426,
      description: 'Status for plain-HTTP requests to an https-only route.',
    }),
    request_buffering: Type.Boolean({ default: true, description: 'Buffer the request body before proxying.' }),
    response_buffering: Type.Boolean({ default: true, description: 'Buffer the response body before sending it on.' }),
    tags: Tags,
    plugins: Type.Optional(Type.Array(PluginEntitySchema, { description: 'Plugins scoped to this route.' })),
  },
  { additionalProperties: false },
);

export type RouteInput = Static<typeof RouteSchema>;
