/** A service (the upstream) as written in a decK file; fields and defaults as Kong 3.x `services.lua`. */
import { Type, type Static } from '@sinclair/typebox';
import { Name, Tags, Uuid } from './common.js';
import { PluginEntitySchema } from './plugin.js';
import { RouteSchema } from './route.js';

/** Protocols Portcullis can proxy to today. */
export const SERVICE_PROTOCOLS = ['http', 'https', 'grpc', 'grpcs', 'ws', 'wss'] as const;

/** `protocol` when only `host` is given, as Kong. */
export const DEFAULT_SERVICE_PROTOCOL = 'http';

/** `port` when neither it nor the url names one: from the protocol, as Kong. */
export const DEFAULT_PORTS: Readonly<Record<(typeof SERVICE_PROTOCOLS)[number], number>> = { http: 80, https: 443, grpc: 80, grpcs: 443, ws: 80, wss: 443 };

const Timeout = (description: string) => Type.Integer({ minimum: 1, maximum: 2147483646, default: 60000, description });

export const ServiceSchema = Type.Object(
  {
    id: Type.Optional(Uuid('Stable id; derived from the name when absent.')),
    name: Type.Optional(Name('Unique service name.')),
    url: Type.Optional(
      Type.String({ minLength: 1, description: 'Shorthand for protocol, host, port and path: `http://host:port/path`.' }),
    ),
    protocol: Type.Optional(Type.String({ minLength: 1, description: 'http, https, grpc (HTTP/2 in cleartext), grpcs (HTTP/2 over TLS), ws or wss (WebSockets, Kong Enterprise); default http.' })),
    host: Type.Optional(Type.String({ minLength: 1, description: 'Upstream host name or IP address.' })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'Default: 80 for http, grpc and ws; 443 for https, grpcs and wss.' })),
    path: Type.Optional(Type.String({ minLength: 1, description: 'Path prefix on the upstream, starting with `/`.' })),
    retries: Type.Integer({ minimum: 0, maximum: 32767, default: 5, description: 'Retries when connecting fails.' }),
    connect_timeout: Timeout('Milliseconds to establish a connection upstream.'),
    read_timeout: Timeout('Milliseconds between two reads from upstream.'),
    write_timeout: Timeout('Milliseconds between two writes to upstream.'),
    enabled: Type.Boolean({ default: true, description: 'A disabled service answers 503 on its routes.' }),
    tags: Tags,
    tls_verify: Type.Union([Type.Boolean(), Type.Null()], {
      default: null,
      description: "Verify the upstream's certificate; null = the gateway default (true).",
    }),
    tls_verify_depth: Type.Union([Type.Integer({ minimum: 0, maximum: 64 }), Type.Null()], {
      default: null,
      description: 'Maximum chain depth when verifying; null = the TLS library default.',
    }),
    ca_certificates: Type.Optional(
      Type.Array(Uuid('Id of a ca_certificates entity.'), {
        uniqueItems: true,
        description: 'CAs trusted for the upstream; absent = the system store.',
      }),
    ),
    client_certificate: Type.Optional(
      Type.Union(
        [
          Uuid('Id of a certificates entity.'),
          Type.Object({ id: Uuid('Id of a certificates entity.') }, { additionalProperties: false }),
        ],
        { description: 'Certificate presented to the upstream (mutual TLS), by id: `<id>` or `{ id: <id> }`.' },
      ),
    ),
    routes: Type.Optional(Type.Array(RouteSchema, { description: 'Routes of this service.' })),
    plugins: Type.Optional(Type.Array(PluginEntitySchema, { description: 'Plugins scoped to this service.' })),
  },
  { additionalProperties: false },
);

export type ServiceInput = Static<typeof ServiceSchema>;
