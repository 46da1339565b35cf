/**
 * Shared by this folder's tests only: certificates made once with openssl (valid until 2126, so the
 * tests need no clock tricks) and small plugin schemas standing in for the real plugins.
 *
 *   CA_CERT      P-256, CN=Portcullis Test CA, basicConstraints CA:TRUE
 *   EC_CERT/KEY  P-256 leaf for example.com, signed by the CA, CA:FALSE
 *   RSA_CERT/KEY RSA-2048 leaf for example.com, signed by the CA
 *   OTHER_KEY    a P-256 key matching none of them
 */
import { Type } from '@sinclair/typebox';
import assert from 'node:assert/strict';
import type { Config, ConfigError, PluginEntity } from './types.js';
import type { PluginSchema } from '../pipeline/plugin.js';
import { formatConfigErrors, loadConfig, type LoadResult } from './index.js';

export const CA_CERT = `-----BEGIN CERTIFICATE-----
MIIBojCCAUegAwIBAgIUTLk0P9HprdAkDr4D4xW2Snw9XUcwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSUG9ydGN1bGxpcyBUZXN0IENBMCAXDTI2MTEyNzIzMjgyM1oY
DzIxMjYxMTAzMjMyODIzWjAdMRswGQYDVQQDDBJQb3J0Y3VsbGlzIFRlc3QgQ0Ew
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARbEpPye8dP0NfNvn4QueCuojGjvtub
rxv90KsTfnnsgutJszJRJ3k7uUPdxABLhs73dcLGr5p5DmJdq3hbrixVo2MwYTAd
BgNVHQ4EFgQUhMjww0UOk6nahtk6pRoHGvG/HmUwHwYDVR0jBBgwFoAUhMjww0UO
k6nahtk6pRoHGvG/HmUwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYw
CgYIKoZIzj0EAwIDSQAwRgIhAPWkB2h3bQSh+9WN165xXqV1LKykcICerY6x/QbS
KQjfAiEApy5PuU9ytDFq+h2uq4+nZPs7vsFKhsnklDmZDdBvOOU=
-----END CERTIFICATE-----
`;

export const EC_CERT = `-----BEGIN CERTIFICATE-----
MIIBnDCCAUKgAwIBAgIUc5HQwk2/v++gQgZsUkdULcBEgMIwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSUG9ydGN1bGxpcyBUZXN0IENBMCAXDTI2MTEyNzIzMjgyM1oY
DzIxMjYxMTAzMjMyODIzWjAWMRQwEgYDVQQDDAtleGFtcGxlLmNvbTBZMBMGByqG
SM49AgEGCCqGSM49AwEHA0IABDAwbQgV4ZyMSL1bQA8sCYJZsUQ7yAJuJZ+lxxh/
1ElMAEWmHOsNk4tOPjnuyxST6TgscMji0s1OpTUEuUQAlR2jZTBjMAkGA1UdEwQC
MAAwFgYDVR0RBA8wDYILZXhhbXBsZS5jb20wHQYDVR0OBBYEFOIlCll2tZqlVoZ6
kaV5oJy4W1jhMB8GA1UdIwQYMBaAFITI8MNFDpOp2obZOqUaBxrxvx5lMAoGCCqG
SM49BAMCA0gAMEUCIQCOBFnUY/jXMWxxy7DHpJLEqPK2zliCe0RH0xIsABub8AIg
fNpyVu/GRl8NHBI1fY875siYsd+qLF8kD4J5yFdS/ks=
-----END CERTIFICATE-----
`;

export const EC_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgi1Sff7HUl5wrQtV/
6/eOTZC5E4xkuqNQoyTHt8si0pGhRANCAAQwMG0IFeGcjEi9W0APLAmCWbFEO8gC
biWfpccYf9RJTABFphzrDZOLTj457ssUk+k4LHDI4tLNTqU1BLlEAJUd
-----END PRIVATE KEY-----
`;

export const RSA_CERT = `-----BEGIN CERTIFICATE-----
MIICaDCCAg2gAwIBAgIUc5HQwk2/v++gQgZsUkdULcBEgMMwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSUG9ydGN1bGxpcyBUZXN0IENBMCAXDTI2MTEyNzIzMjgyM1oY
DzIxMjYxMTAzMjMyODIzWjAWMRQwEgYDVQQDDAtleGFtcGxlLmNvbTCCASIwDQYJ
KoZIhvcNAQEBBQADggEPADCCAQoCggEBAKyQoXTBJTFLMx8+iNX4pX+ecvztFvjF
r+WXj7WrLXAsilzffUwEG6pryAZaf3Nus/7BP+h0/5IKpgZIu+Oo4az/xw3A6/kX
RpN3TsTSoHFc/gfKl14xzoQFD8NkHYPtf6XKbSKxd1TLKohSUjFOH+kuPKNsgO4C
ZoxARPFMVsW4WCXxDGdd4faYsLPlTnbl/qnBXPyDjDX/rIrHTTKAhEpNaMxDlkY2
hiDA4j5GAGsmzHBO4mOsusli5MH9d/fdq5SNOeJ2d0/+9qLxGmutlJD7ow9/bjTj
oVhtNdgazidtQGgm+4GmZFn4lveovrunWkh7teqldd7Cdw5wI1IUl3cCAwEAAaNl
MGMwCQYDVR0TBAIwADAWBgNVHREEDzANggtleGFtcGxlLmNvbTAdBgNVHQ4EFgQU
2SXD42nPu/lf7h0buVZaPc30AtYwHwYDVR0jBBgwFoAUhMjww0UOk6nahtk6pRoH
GvG/HmUwCgYIKoZIzj0EAwIDSQAwRgIhAMMImp/rf3jk8c1TO2KsDkQSQSAGedGI
yJdLNNCCCRl+AiEAs7KexY8rpp4YkOIJy/rBE8QNamUU+tEyMJh1OBzd5mI=
-----END CERTIFICATE-----
`;

export const RSA_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCskKF0wSUxSzMf
PojV+KV/nnL87Rb4xa/ll4+1qy1wLIpc331MBBuqa8gGWn9zbrP+wT/odP+SCqYG
SLvjqOGs/8cNwOv5F0aTd07E0qBxXP4HypdeMc6EBQ/DZB2D7X+lym0isXdUyyqI
UlIxTh/pLjyjbIDuAmaMQETxTFbFuFgl8QxnXeH2mLCz5U525f6pwVz8g4w1/6yK
x00ygIRKTWjMQ5ZGNoYgwOI+RgBrJsxwTuJjrLrJYuTB/Xf33auUjTnidndP/vai
8RprrZSQ+6MPf24046FYbTXYGs4nbUBoJvuBpmRZ+Jb3qL67p1pIe7XqpXXewncO
cCNSFJd3AgMBAAECggEAGIPxlBMuc/rRd/Jb4T4SUPeTMXCDT3NSQmVOQspfSazi
OUB83fRFc+gdAh4QNjd3dc1BhYY9mqNNo93oZ3biHMA3qLIMNBaE7cVI2PhtV72U
z0mOSJD93E6VxzXtZYUzmbuQ1plssQyt7bD4QU3uhaOOdM8g3+9SX0FwKfGk8DC9
CGSXp/PrspeKX6vSNkCrobqKgxsfmTNbWZWn0H+BNOC1OHGg3rCqBvVyYErfDCSM
/6pcjfuc4kUuKL/hoDUpVIatWyauQ4baMyM2icjZmPr5kzitnzUhmntb52QRtAZu
y+h/cjWzZlFY+lKRIbEmnVaIW++RLBVDox1AsJ5f4QKBgQDTx8xnFloukCWU5SYY
jwSVgXg/CUqQqk0BJOJuuXT4fZtB3rBcW68eKEun27ji10uqnwdBE7vSmSV8xg2z
wEkaOhj41ZrMdbgu6gNjScsCFpT+BmoYCycOi7bFhwY3VkUCdMJfqXCk3EZKEiCZ
tprZEsNpxRGFNLGh58Zp8/4MIQKBgQDQmKoi/6p4/6nlIFXgkgcqbaqm4BTuEFbN
9j88pFCVH7jRLZbt9r/5DIfVYtxSWv3sl+ZbiDhtZS5sQvwWiYYXFoL+v60eiSIR
JnlxwquHXFiUOumfXC88fLNnUZb/0i8+nXJY0Vh/7xGbSFY9rSaP9i/NfPKsjZFs
spsoHE1wlwKBgBXMqTOrT1kfqV6sP8GjZxtkmlYSxMQjY43MmCpBmNLDSyn6nDjF
jz8Rcsgyi9N9yeIkQIDoYRsKfJtdX6ezEVNLy6pBgo+tRmo92F9uByGN5YRIcL9M
1pZet0+Z2H/1t2DLV/602E2ABxQ0zXpFG6dgkRDgIi+N/wLlcr0RSoNBAoGBAIRL
Djw8IYWzv7BNHanbcyf5fW1wWFXTjvn43oo7O9AX2kLvwvUQtRfiVpOCq3CfvMM8
YyBR+FeJADQxF2fDuIMUB+hA8C6Zkj2GRSdc6yRh8NuxsVEcSej2vWEdYcLFLqlr
eYXS32nj2Sq+adOb6QUMgay1PcMp1b02WSjLKmHpAoGBAMVYXDtcvY1+dZBdLZ1i
9Qrlg2HifArabCaSb0ZZ7drVhKnqBTRrZjzSZy9R+FgLf0dsnDZPTkcfMQddMcLi
pnkPtyOoCjjNJOlNi6228l7uFdJ/Ie9JeSD2uMUJydwz+DzKw5LiLqdHWUx1I3N+
+NE7HPXZkDniU0C6ovGBOmx0
-----END PRIVATE KEY-----
`;

export const OTHER_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1twRgFvIINi6ObOJ
+UImEL87lmlfPgXshn9UKeWRxNehRANCAAQ44Q6KNS/5NkZCcEvxc832aOgxVmbU
06SkQ1ybdG4rclS3zELIcPAC+KKtvy61XIznCT8f9XPjYdR278Q8DSBp
-----END PRIVATE KEY-----
`;

/** Like openid-connect: an enum and a boolean with defaults, global/service/route only. */
export const fakeOidc: PluginSchema = {
  name: 'openid-connect',
  configSchema: Type.Object({
    issuer: Type.String({ format: 'uri', description: 'Discovery URL.' }),
    auth_methods: Type.Array(Type.Union([Type.Literal('bearer'), Type.Literal('introspection'), Type.Literal('session')]), {
      default: ['bearer', 'introspection', 'session'],
    }),
    proof_of_possession_mtls: Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('strict')], {
      default: 'off',
    }),
    proof_of_possession_auth_methods_validation: Type.Boolean({ default: true }),
    consumer_claims: Type.Optional(Type.Array(Type.String())),
    leeway: Type.Integer({ default: 0, minimum: 0 }),
  }),
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['grpc', 'grpcs', 'http', 'https'],
};

/** Like tls-handshake-modifier: https-only by default. */
export const fakeHandshake: PluginSchema = {
  name: 'tls-handshake-modifier',
  configSchema: Type.Object({
    tls_client_certificate: Type.Union([Type.Literal('REQUEST')], { default: 'REQUEST' }),
  }),
  scopes: { global: true, service: true, route: true, consumer: false },
  defaultProtocols: ['grpcs', 'https', 'tls'],
};

/** A consumer-scoped plugin that may not be global, like a rate limit per client. */
export const fakeLimit: PluginSchema = {
  name: 'rate-limiting',
  configSchema: Type.Object({ minute: Type.Integer({ minimum: 1 }), hide_client_headers: Type.Boolean({ default: false }) }),
  scopes: { global: false, service: true, route: true, consumer: true },
  defaultProtocols: [],
};

/** Refuses strict PoP unless the same route also has tls-handshake-modifier: a cross-entity check. */
export const fakeOidcWithCheck: PluginSchema = {
  ...fakeOidc,
  checkConfig(plugin: PluginEntity, index: number, config: Config): ConfigError[] {
    if (plugin.config.proof_of_possession_mtls !== 'strict') return [];
    const partner = config.plugins.some((p) => p.name === 'tls-handshake-modifier' && p.route === plugin.route);
    if (partner) return [];
    return [{ path: `plugins[${index}].config.proof_of_possession_mtls`, message: 'needs tls-handshake-modifier on the same route' }];
  },
};

export const catalog: ReadonlyMap<string, PluginSchema> = new Map(
  [fakeOidc, fakeHandshake, fakeLimit].map((schema) => [schema.name, schema]),
);

/** The tutorial's first block, byte for byte. */
export const TUTORIAL_SERVICE = `
_format_version: "3.0"
services:
  - name: example-service
    url: http://httpbin.konghq.com/anything
    routes:
      - name: example-route
        paths:
          - "/anything"
        service:
          name: example-service
`;

/** The config of a successful load; fails the test with the formatted errors otherwise. */
export function loaded(result: LoadResult): Config {
  if (!result.ok) assert.fail(`unexpected errors:\n${formatConfigErrors(result.errors)}`);
  return result.config;
}

/** The errors of a failed load of `text` (with the test catalog); fails the test if it loaded. */
export function loadErrors(text: string, plugins: ReadonlyMap<string, PluginSchema> = catalog, now?: Date): ConfigError[] {
  const result = loadConfig(text, { env: {}, plugins, ...(now === undefined ? {} : { now }) });
  if (result.ok) assert.fail('expected the configuration to be refused');
  return result.errors;
}

/** `path: message` lines, for compact exact comparisons. */
export function lines(errors: readonly ConfigError[]): string[] {
  return errors.map((e) => `${e.path}: ${e.message}`);
}
